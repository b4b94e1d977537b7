-- Investment against need: grants (360Giving data, `nbhd import grants`)
-- per neighbourhood, per resident and per just-coping resident. Values come
-- from logic.investment_values (47_grants.sql), which logic.unit_values
-- adds to every neighbourhood and borough; the borough, region and England
-- figures per just-coping resident from logic.investment_comparators.
-- docs/methodology.md, "Investment against need", says what each measures.
INSERT INTO logic.indicators VALUES
  ('grants', 80, 'count', 'Grants',
   'Grants to the neighbourhood (360Giving data loaded), placed by their beneficiary area or else their recipient''s postcode; a grant shared with other neighbourhoods counts in each', 'investment'),
  ('grant_amount', 81, 'count', 'Grant funding (£)',
   'Pounds awarded to the neighbourhood: a grant to an area larger than one small area is shared among its small areas by population', 'investment'),
  ('grants_per_1000', 82, 'rate', 'Grants per 1,000 residents',
   'Grants to the neighbourhood per 1,000 residents', 'investment'),
  ('grant_amount_per_resident', 83, 'rate', 'Grant funding per resident (£)',
   'Pounds awarded to the neighbourhood per resident', 'investment'),
  ('grants_per_1000_just_coping', 84, 'rate', 'Grants per 1,000 just-coping residents',
   'Grants per 1,000 residents just coping, as published (recorded and rounded to the nearest {disclosure.rounding}, or estimated); none where the count is withheld', 'investment'),
  ('grant_amount_per_just_coping', 85, 'rate', 'Grant funding per just-coping resident (£)',
   'Pounds awarded per resident just coping, as published (recorded and rounded to the nearest {disclosure.rounding}, or estimated); none where the count is withheld', 'investment');
