-- Neighbourhood names are searched anywhere in the name ("bridge" finds
-- Ellesworth Bridge): pg_trgm (a trusted extension, so the database's
-- owner may create it) indexes them for LIKE '%…%' in 48_publish.sql.
-- Without it every /search read all of England's neighbourhood rows.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
