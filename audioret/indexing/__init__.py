"""Files into the channels' stores: what to do (:mod:`.plan`), then doing it (:mod:`.pipeline`)."""
