-- The profile's indicators, in the order profiles, CSVs and the map show
-- them. A family ('asset:*') covers every id with its prefix; {detail} is
-- the rest of the id. Descriptions may name settings as {key.path} (or
-- {key.path:pct} for a share shown as a percent) and {vintage}: nbhd fills
-- them from the settings in force for the neighbourhood's borough, so no
-- figure is written twice. A new indicator needs a row here and its
-- values (logic.unit_values); JSON, CSV and the map take both as they come.
CREATE TABLE logic.indicators (
  id          text PRIMARY KEY,
  position    integer NOT NULL UNIQUE,
  kind        text NOT NULL CHECK (kind IN ('count', 'percent', 'rate')),
  label       text NOT NULL,
  description text NOT NULL,
  grp         text NOT NULL
);
INSERT INTO logic.indicators VALUES
  ('population', 10, 'count', 'Residents', 'Resident population: ONS small area estimates, latest period', 'people'),
  ('small_areas', 11, 'count', 'Small areas (LSOAs)', 'Lower layer super output areas in the neighbourhood', 'people'),
  ('age_0_15_pct', 12, 'percent', 'Children (0 to 15)', 'Percent of residents aged 0 to 15, where the population source gives ages', 'people'),
  ('age_16_64_pct', 13, 'percent', 'Working age (16 to 64)', 'Percent of residents aged 16 to 64, where the population source gives ages', 'people'),
  ('age_65_plus_pct', 14, 'percent', 'Older people (65 and over)', 'Percent of residents aged 65 and over, where the population source gives ages', 'people'),
  ('deprived_10pct_share', 20, 'percent', 'Small areas in England''s most deprived 10%',
   'Percent of its small areas in the most deprived 10% of England by the Index of Multiple Deprivation (IoD {vintage})', 'deprivation'),
  ('deprived_20pct_share', 21, 'percent', 'Small areas in England''s most deprived 20%',
   'Percent of its small areas in the most deprived 20% of England by the Index of Multiple Deprivation (IoD {vintage})', 'deprivation'),
  ('chaotic', 30, 'count', 'Residents in chaotic, complex dependency',
   'Recorded by the council (rounded to the nearest {disclosure.rounding}, withheld below {disclosure.min_count}) or estimated by the nbhd model (calibrated to {demand_model.shares.chaotic:pct} of residents)', 'demand'),
  ('chaotic_per_1000', 31, 'rate', 'Chaotic, complex dependency per 1,000 residents',
   'Residents in chaotic, complex dependency per 1,000 residents, from the published (rounded) count', 'demand'),
  ('just_coping', 32, 'count', 'Residents just coping',
   'Recorded by the council (rounded to the nearest {disclosure.rounding}, withheld below {disclosure.min_count}) or estimated by the nbhd model (calibrated to {demand_model.shares.just_coping:pct} of residents)', 'demand'),
  ('just_coping_per_1000', 33, 'rate', 'Just coping per 1,000 residents',
   'Residents just coping per 1,000 residents, from the published (rounded) count', 'demand'),
  ('assets', 40, 'count', 'Community assets', 'Community assets in the neighbourhood (counted in the small area that holds them)', 'assets'),
  ('assets_per_1000', 41, 'rate', 'Community assets per 1,000 residents', 'Community assets per 1,000 residents', 'assets'),
  ('asset:*', 42, 'count', 'Community assets: {detail}', 'Community assets of the category {detail}', 'assets'),
  ('asset_per_1000:*', 43, 'rate', 'Community assets per 1,000 residents: {detail}', 'Community assets of the category {detail} per 1,000 residents', 'assets'),
  ('gp_practices', 50, 'count', 'GP practices', 'GP practices in the neighbourhood', 'services'),
  ('gp_patients', 51, 'count', 'Registered patients', 'Patients registered at those practices (latest list size)', 'services'),
  ('schools', 60, 'count', 'Schools', 'Schools in the neighbourhood', 'services'),
  ('school:*', 61, 'count', 'Schools: {detail}', 'Schools of the phase {detail}', 'services'),
  ('access_asset_pct', 70, 'percent', 'Postcodes near a community asset',
   'Percent of postcodes within {access.distance_m} m (straight line) of a community asset', 'access'),
  ('access_gp_pct', 71, 'percent', 'Postcodes near a GP practice',
   'Percent of postcodes within {access.distance_m} m (straight line) of a GP practice', 'access'),
  ('access_school_pct', 72, 'percent', 'Postcodes near a school',
   'Percent of postcodes within {access.distance_m} m (straight line) of a school', 'access');
