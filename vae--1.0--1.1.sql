-- vae--1.0--1.1.sql: upgrade from 1.0 to 1.1 (ALTER EXTENSION vae UPDATE)
\echo Use "ALTER EXTENSION vae UPDATE TO '1.1'" to load this file. \quit

-- Every object 1.1 adds or changes goes here AND into the "1.1" section of
-- vae--1.1.sql, so that a fresh install and an upgraded one hold the same
-- objects (test/integration/upgrade.sh compares them).  Models are bytea
-- values in user tables: nothing here may change how a 1.0 model scores.

-- vae_options(): every vae_train option, its type, default, range and
-- meaning, generated from the option table the parser and the model reader
-- check against
CREATE FUNCTION vae_options()
RETURNS TABLE(name text, type text, default_rule text, min_value numeric, max_value numeric,
              allowed text[], accepts text, description text)
AS 'MODULE_PATHNAME', 'vae_options'
LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 17;
