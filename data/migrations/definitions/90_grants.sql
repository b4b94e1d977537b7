-- Grants. The public role reads schema api only: every object there is
-- disclosure-controlled. Staff read everything and write only the audit
-- log and their key's last use. Functions are not callable by default:
-- only the pure ones the public views use are.
REVOKE ALL ON SCHEMA nbhd FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA nbhd FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA logic FROM PUBLIC;
GRANT USAGE ON SCHEMA api, logic TO nbhd_public, nbhd_staff;
GRANT SELECT ON ALL TABLES IN SCHEMA api TO nbhd_public, nbhd_staff;
GRANT EXECUTE ON FUNCTION logic.jsonb_merge(jsonb, jsonb) TO nbhd_public, nbhd_staff;
REVOKE EXECUTE ON FUNCTION api.search(text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.search(text, text, integer) TO nbhd_public, nbhd_staff;
GRANT USAGE ON SCHEMA nbhd, staff TO nbhd_staff;
GRANT SELECT ON ALL TABLES IN SCHEMA nbhd TO nbhd_staff;
GRANT SELECT ON ALL TABLES IN SCHEMA staff TO nbhd_staff;
GRANT SELECT ON ALL TABLES IN SCHEMA logic TO nbhd_staff;
GRANT EXECUTE ON FUNCTION logic.setting(text, text), logic.latest_period(text), logic.later_period(text, text),
  logic.period_end(text) TO nbhd_staff;
GRANT INSERT ON nbhd.audit_log TO nbhd_staff;
GRANT USAGE ON SEQUENCE nbhd.audit_log_id_seq TO nbhd_staff;
GRANT UPDATE (last_used_at) ON nbhd.api_keys TO nbhd_staff;
