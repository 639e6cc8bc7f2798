"""Files into the channels' stores: what to do (:mod:`.plan`), then doing it (:mod:`.pipeline`, :mod:`.cluster`); a
library's whole run, tags and report included (:mod:`.job`)."""
