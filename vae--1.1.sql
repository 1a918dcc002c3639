-- vae--1.1.sql: variational autoencoders trained and scored in SQL (version 1.1)
-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION vae" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Training: vae_train(features [, options]) aggregate -> model bytea
-- ---------------------------------------------------------------------------

-- Features are anyarray: one signature per function, so that integer[],
-- bigint[], numeric[] ... resolve without a cast (overloads for real[] and
-- double precision[] made them ambiguous).  The C code converts by the
-- array's element type and rejects non-numeric ones (42804).
CREATE FUNCTION vae_train_trans(internal, anyarray)
RETURNS internal AS 'MODULE_PATHNAME', 'vae_train_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION vae_train_trans(internal, anyarray, jsonb)
RETURNS internal AS 'MODULE_PATHNAME', 'vae_train_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION vae_train_combine(internal, internal)
RETURNS internal AS 'MODULE_PATHNAME', 'vae_train_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION vae_train_serialize(internal)
RETURNS bytea AS 'MODULE_PATHNAME', 'vae_train_serialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_train_deserialize(bytea, internal)
RETURNS internal AS 'MODULE_PATHNAME', 'vae_train_deserialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_train_final(internal)
RETURNS bytea AS 'MODULE_PATHNAME', 'vae_train_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- The final function normalizes the buffered rows in place (no second copy of
-- the data), hence FINALFUNC_MODIFY = READ_WRITE.
CREATE AGGREGATE vae_train(anyarray) (
	SFUNC = vae_train_trans, STYPE = internal,
	FINALFUNC = vae_train_final, FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = vae_train_combine,
	SERIALFUNC = vae_train_serialize, DESERIALFUNC = vae_train_deserialize,
	PARALLEL = RESTRICTED);

CREATE AGGREGATE vae_train(anyarray, jsonb) (
	SFUNC = vae_train_trans, STYPE = internal,
	FINALFUNC = vae_train_final, FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = vae_train_combine,
	SERIALFUNC = vae_train_serialize, DESERIALFUNC = vae_train_deserialize,
	PARALLEL = RESTRICTED);

-- ---------------------------------------------------------------------------
-- Scoring and companions.  Deterministic: IMMUTABLE, STRICT, PARALLEL SAFE.
-- ---------------------------------------------------------------------------

CREATE FUNCTION vae_score(model bytea, features anyarray)
RETURNS double precision AS 'MODULE_PATHNAME', 'vae_score'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_score(model bytea, features anyarray, method text)
RETURNS double precision AS 'MODULE_PATHNAME', 'vae_score'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_threshold(model bytea, contamination double precision)
RETURNS double precision AS 'MODULE_PATHNAME', 'vae_threshold'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_threshold(model bytea, contamination double precision, method text)
RETURNS double precision AS 'MODULE_PATHNAME', 'vae_threshold'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_encode(model bytea, features anyarray)
RETURNS real[] AS 'MODULE_PATHNAME', 'vae_encode'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_reconstruct(model bytea, features anyarray)
RETURNS real[] AS 'MODULE_PATHNAME', 'vae_reconstruct'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_explain(model bytea, features anyarray)
RETURNS TABLE(feature integer, value real, expected real, contribution double precision)
AS 'MODULE_PATHNAME', 'vae_explain'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 100;

CREATE FUNCTION vae_generate(model bytea, n integer, seed bigint DEFAULT 0)
RETURNS SETOF real[] AS 'MODULE_PATHNAME', 'vae_generate'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_model_info(model bytea)
RETURNS jsonb AS 'MODULE_PATHNAME', 'vae_model_info'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ---------------------------------------------------------------------------
-- 1.1: the objects added since 1.0 (the same statements as
-- vae--1.0--1.1.sql, which upgrades a 1.0 installation).
-- ---------------------------------------------------------------------------

-- vae_options(): every vae_train option, its type, default, range and
-- meaning, generated from the option table the parser and the model reader
-- check against
CREATE FUNCTION vae_options()
RETURNS TABLE(name text, type text, default_rule text, min_value numeric, max_value numeric,
              allowed text[], accepts text, description text)
AS 'MODULE_PATHNAME', 'vae_options'
LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 21;

-- Training on the rows of ordinary tables (docs/rows.md): vae_train(t) over
-- whole rows.  A composite value never matches anyarray, nor an array a
-- record, so vae_train(t), vae_train(x) over a subquery's rows and
-- vae_train(ROW(f)) take these, and vae_train(f) over an array the ones
-- above.  No combine function in 1.1 (the per-column dictionaries would have
-- to travel): PARALLEL RESTRICTED, so the scan may still run in parallel
-- workers and the rows are aggregated in the leader.
CREATE FUNCTION vae_train_rows_trans(internal, record)
RETURNS internal AS 'MODULE_PATHNAME', 'vae_train_rows_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION vae_train_rows_trans(internal, record, jsonb)
RETURNS internal AS 'MODULE_PATHNAME', 'vae_train_rows_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION vae_train_rows_final(internal)
RETURNS bytea AS 'MODULE_PATHNAME', 'vae_train_rows_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- The final function recodes the buffered rows in place.
CREATE AGGREGATE vae_train(record) (
	SFUNC = vae_train_rows_trans, STYPE = internal,
	FINALFUNC = vae_train_rows_final, FINALFUNC_MODIFY = READ_WRITE,
	PARALLEL = RESTRICTED);

CREATE AGGREGATE vae_train(record, jsonb) (
	SFUNC = vae_train_rows_trans, STYPE = internal,
	FINALFUNC = vae_train_rows_final, FINALFUNC_MODIFY = READ_WRITE,
	PARALLEL = RESTRICTED);

-- Scoring a row by column name.  Deterministic: IMMUTABLE, STRICT, PARALLEL SAFE.
CREATE FUNCTION vae_score(model bytea, r record)
RETURNS double precision AS 'MODULE_PATHNAME', 'vae_score'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_score(model bytea, r record, method text)
RETURNS double precision AS 'MODULE_PATHNAME', 'vae_score'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_encode(model bytea, r record)
RETURNS real[] AS 'MODULE_PATHNAME', 'vae_encode'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_reconstruct(model bytea, r record)
RETURNS jsonb AS 'MODULE_PATHNAME', 'vae_reconstruct_row'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_explain(model bytea, r record)
RETURNS TABLE(feature text, value text, expected text, contribution double precision)
AS 'MODULE_PATHNAME', 'vae_explain_row'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;

CREATE FUNCTION vae_generate_rows(model bytea, n integer, seed bigint DEFAULT 0)
RETURNS SETOF jsonb AS 'MODULE_PATHNAME', 'vae_generate'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- vae_threshold(model): the automatic cut of the default method (recon_prob)
-- for users who do not know their contamination: Tukey's fence of the
-- stored training scores, Q3 + 1.5 (Q3 - Q1)
CREATE FUNCTION vae_threshold(model bytea)
RETURNS double precision AS 'MODULE_PATHNAME', 'vae_threshold_auto'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ---------------------------------------------------------------------------
-- Ensembles (option "ensemble", docs/detect.md): one network of a model
-- value as a model of its own (1-based; a single network is its member 1)
-- ---------------------------------------------------------------------------
CREATE FUNCTION vae_model_member(model bytea, member integer)
RETURNS bytea AS 'MODULE_PATHNAME', 'vae_model_member'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
