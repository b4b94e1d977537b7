-- Postcode search by prefix, spaces ignored ("WN1 1" finds WN1 1AA): an
-- index on the postcode without its space, in byte order, which /search
-- reads as a range (data/search.go). Without it every search scanned all
-- 1.7 million of England's postcodes (p50 5.6 s).
CREATE INDEX IF NOT EXISTS postcodes_compact_idx ON nbhd.postcodes ((replace(postcode, ' ', '') COLLATE "C"));
