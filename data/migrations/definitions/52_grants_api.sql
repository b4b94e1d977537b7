-- Public views of grants (360Giving data is open); 90_grants.sql grants
-- them to the public role. Assets' cost and audience are in 50_api.sql.

-- Grants as published in the 360Giving data they came from: all public.
CREATE VIEW api.grants AS
SELECT g.id, g.title, g.description, g.currency, g.amount, g.award_date,
       g.recipient_id, g.recipient_name, g.recipient_postcode,
       g.beneficiary_codes, g.beneficiary_names,
       g.funder_id, g.funder_name, g.programme_code, g.programme_title, g.url,
       g.placed_by, g.unplaced_reason, g.row_number, ds.title AS source, g.dataset_id,
       ARRAY(SELECT DISTINCT sa.lad_code FROM nbhd.grant_places p JOIN nbhd.small_areas sa ON sa.code = p.small_area_code
             WHERE p.grant_id = g.id AND sa.lad_code IS NOT NULL ORDER BY 1) AS boroughs
FROM nbhd.grants g JOIN nbhd.datasets ds ON ds.id = g.dataset_id;

-- Where each grant was placed, and its share there.
CREATE VIEW api.grant_places AS
SELECT p.grant_id, p.small_area_code, sa.lad_code, p.share, p.amount
FROM nbhd.grant_places p JOIN nbhd.small_areas sa ON sa.code = p.small_area_code;
