-- Every refresh compares each small area's borough with the one its
-- figures were computed for (logic.settle_lads). With the borough beside
-- the code in an index, that reads the index alone instead of every
-- boundary: 31 ms instead of 479 on England.
CREATE INDEX ON nbhd.small_areas (code) INCLUDE (lad_code);
