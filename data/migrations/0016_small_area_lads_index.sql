-- Every refresh compares each small area's borough with the one its
-- figures were computed for (logic.settle_lads). With the code beside the
-- borough in an index, that reads the index alone instead of every
-- boundary: 31 ms instead of 479 on England. Borough first, so lookups by
-- borough (the comparators', the indicators') read it as well.
CREATE INDEX ON nbhd.small_areas (lad_code, code);
