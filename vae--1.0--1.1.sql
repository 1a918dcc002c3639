-- vae--1.0--1.1.sql: upgrade from 1.0 to 1.1
-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION vae UPDATE TO '1.1'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- vae_options(): every vae_train option, its type, default, range and
-- meaning, generated from the option table the parser and the model reader
-- check against (version 1.1)
-- ---------------------------------------------------------------------------
CREATE FUNCTION vae_options()
RETURNS TABLE(name text, type text, default_rule text, min_value numeric, max_value numeric,
              allowed text[], accepts text, description text)
AS 'MODULE_PATHNAME', 'vae_options'
LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 17;
