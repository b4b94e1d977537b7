-- How many neighbourhoods a set has per borough (api.set_sizes, which
-- every profile reads for its comparators' ranks) is counted from this
-- index alone: the rows themselves carry three geometries, and counting
-- them read England's 200 MB table for every profile (364 ms).
CREATE INDEX IF NOT EXISTS neighbourhoods_set_lad_idx ON nbhd.neighbourhoods (set_id, lad_code);
