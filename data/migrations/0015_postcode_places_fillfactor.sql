-- Every postcode's access distances are updated in place after it is
-- placed (logic.refresh_access): with half of each page left free the
-- update is HOT (no indexed column changes), so neither index is touched.
-- On England (1.7 million postcodes) the update took 24 s instead of 48.
-- Pages written from now on keep the space; existing ones as they are.
ALTER TABLE nbhd.postcode_places SET (fillfactor = 50);
