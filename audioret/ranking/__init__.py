"""From the channels' scored records to ranked hits: each file's best record (:mod:`.nearest`), the evidence of a
score (:mod:`.calibration`), the channels added up (:mod:`.fusion`) and why, in words."""
