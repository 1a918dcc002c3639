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
-- whole rows, vae_train(record [, jsonb]), is defined in the "Scale-out"
-- section at the end, with the state type that lets it be split into
-- partial aggregates.

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
-- Scale-out (docs/scale-out.md): a training state distributed engines can
-- ship.  vae_train_state is the state of the aggregates over records and of
-- the new ones over vae_features(f) (arrays): a
-- varlena type (base64 text, binary send/recv) that is an expanded object in
-- memory, so the transition updates it in place.  Citus splits vae_train(t)
-- into partial aggregates on the workers and a combine on the coordinator
-- (with max_rows = k each shard sends at most its k-row sample);
-- vae_sample(t) returns one part's state (its bottom-k sample with max_rows)
-- as a whole aggregate that postgres_fdw can push down, and
-- vae_train_samples(state) trains on the union of such states: the model of
-- the same rows trained on one server, byte for byte.  The 1.0 aggregates
-- over arrays keep their internal state (an aggregate's state type cannot
-- be altered, and replacing them would drop users' views): vae_train(f)
-- over a distributed table still pulls the rows; vae_train(vae_features(f))
-- ships samples.
-- ---------------------------------------------------------------------------
CREATE TYPE vae_train_state;

CREATE FUNCTION vae_train_state_in(cstring)
RETURNS vae_train_state AS 'MODULE_PATHNAME', 'vae_train_state_in'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_train_state_out(vae_train_state)
RETURNS cstring AS 'MODULE_PATHNAME', 'vae_train_state_out'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_train_state_recv(internal)
RETURNS vae_train_state AS 'MODULE_PATHNAME', 'vae_train_state_recv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_train_state_send(vae_train_state)
RETURNS bytea AS 'MODULE_PATHNAME', 'vae_train_state_send'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE vae_train_state (
	INPUT = vae_train_state_in, OUTPUT = vae_train_state_out,
	RECEIVE = vae_train_state_recv, SEND = vae_train_state_send,
	INTERNALLENGTH = VARIABLE, STORAGE = extended);

-- A composite value never matches anyarray, nor an array a record, so
-- vae_train(t), vae_train(x) over a subquery's rows and vae_train(ROW(f))
-- take these, and vae_train(f) over an array the 1.0 ones.  PARALLEL
-- RESTRICTED, like those: the scan may run in parallel workers and the rows
-- are aggregated in the leader.  The aggregates over record have no combine
-- function: Citus would split them and then refuse a record argument on the
-- workers (it pulls their rows instead, as before); vae_row(t) below is the
-- shippable form.
CREATE FUNCTION vae_train_rows_trans(vae_train_state, record)
RETURNS vae_train_state AS 'MODULE_PATHNAME', 'vae_train_rows_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION vae_train_rows_trans(vae_train_state, record, jsonb)
RETURNS vae_train_state AS 'MODULE_PATHNAME', 'vae_train_rows_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- The combine and final functions of every vae_train_state aggregate, for
-- states of either kind (rows or feature arrays).
CREATE FUNCTION vae_train_state_combine(vae_train_state, vae_train_state)
RETURNS vae_train_state AS 'MODULE_PATHNAME', 'vae_train_state_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION vae_train_state_final(vae_train_state)
RETURNS bytea AS 'MODULE_PATHNAME', 'vae_train_state_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- The final function recodes the buffered rows in place.
CREATE AGGREGATE vae_train(record) (
	SFUNC = vae_train_rows_trans, STYPE = vae_train_state,
	FINALFUNC = vae_train_state_final, FINALFUNC_MODIFY = READ_WRITE,
	PARALLEL = RESTRICTED);

CREATE AGGREGATE vae_train(record, jsonb) (
	SFUNC = vae_train_rows_trans, STYPE = vae_train_state,
	FINALFUNC = vae_train_state_final, FINALFUNC_MODIFY = READ_WRITE,
	PARALLEL = RESTRICTED);

-- vae_train(vae_row(t)): the same aggregate under a fixed argument type.
-- Citus splits an aggregate into worker partial aggregates only when the
-- argument types on the shards are exactly the declared ones, which a
-- record never is (each shard table has a row type of its own).
CREATE FUNCTION vae_row_in(cstring)
RETURNS vae_row AS 'MODULE_PATHNAME', 'vae_row_in'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_row_out(vae_row)
RETURNS cstring AS 'MODULE_PATHNAME', 'vae_row_out'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE TYPE vae_row (
	INPUT = vae_row_in, OUTPUT = vae_row_out,
	INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = extended);

CREATE FUNCTION vae_row(r record)
RETURNS vae_row AS 'MODULE_PATHNAME', 'vae_row'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_train_rows_trans(vae_train_state, vae_row)
RETURNS vae_train_state AS 'MODULE_PATHNAME', 'vae_train_rows_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION vae_train_rows_trans(vae_train_state, vae_row, jsonb)
RETURNS vae_train_state AS 'MODULE_PATHNAME', 'vae_train_rows_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE vae_train(vae_row) (
	SFUNC = vae_train_rows_trans, STYPE = vae_train_state,
	FINALFUNC = vae_train_state_final, FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = vae_train_state_combine,
	PARALLEL = RESTRICTED);

CREATE AGGREGATE vae_train(vae_row, jsonb) (
	SFUNC = vae_train_rows_trans, STYPE = vae_train_state,
	FINALFUNC = vae_train_state_final, FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = vae_train_state_combine,
	PARALLEL = RESTRICTED);

-- vae_train(vae_features(f)): the array model, with a shippable state, for
-- the same reason (the 1.0 vae_train(anyarray) keeps its internal state);
-- trains on the GPU worker like vae_train(f) when one is configured.
CREATE FUNCTION vae_features_in(cstring)
RETURNS vae_features AS 'MODULE_PATHNAME', 'vae_features_in'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_features_out(vae_features)
RETURNS cstring AS 'MODULE_PATHNAME', 'vae_features_out'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE TYPE vae_features (
	INPUT = vae_features_in, OUTPUT = vae_features_out,
	INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = extended);

CREATE FUNCTION vae_features(features anyarray)
RETURNS vae_features AS 'MODULE_PATHNAME', 'vae_features'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_train_arrays_trans(vae_train_state, vae_features)
RETURNS vae_train_state AS 'MODULE_PATHNAME', 'vae_train_arrays_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION vae_train_arrays_trans(vae_train_state, vae_features, jsonb)
RETURNS vae_train_state AS 'MODULE_PATHNAME', 'vae_train_arrays_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE vae_train(vae_features) (
	SFUNC = vae_train_arrays_trans, STYPE = vae_train_state,
	FINALFUNC = vae_train_state_final, FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = vae_train_state_combine,
	PARALLEL = RESTRICTED);

CREATE AGGREGATE vae_train(vae_features, jsonb) (
	SFUNC = vae_train_arrays_trans, STYPE = vae_train_state,
	FINALFUNC = vae_train_state_final, FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = vae_train_state_combine,
	PARALLEL = RESTRICTED);

-- One part's state (with max_rows = k, its k-row sample), as a value.
CREATE AGGREGATE vae_sample(record) (
	SFUNC = vae_train_rows_trans, STYPE = vae_train_state,
	PARALLEL = RESTRICTED);

CREATE AGGREGATE vae_sample(record, jsonb) (
	SFUNC = vae_train_rows_trans, STYPE = vae_train_state,
	PARALLEL = RESTRICTED);

CREATE AGGREGATE vae_sample(vae_row) (
	SFUNC = vae_train_rows_trans, STYPE = vae_train_state,
	COMBINEFUNC = vae_train_state_combine,
	PARALLEL = RESTRICTED);

CREATE AGGREGATE vae_sample(vae_row, jsonb) (
	SFUNC = vae_train_rows_trans, STYPE = vae_train_state,
	COMBINEFUNC = vae_train_state_combine,
	PARALLEL = RESTRICTED);

CREATE AGGREGATE vae_sample(vae_features) (
	SFUNC = vae_train_arrays_trans, STYPE = vae_train_state,
	COMBINEFUNC = vae_train_state_combine,
	PARALLEL = RESTRICTED);

CREATE AGGREGATE vae_sample(vae_features, jsonb) (
	SFUNC = vae_train_arrays_trans, STYPE = vae_train_state,
	COMBINEFUNC = vae_train_state_combine,
	PARALLEL = RESTRICTED);

-- The model of the union of parts' states, as vae_train over all their rows.
CREATE AGGREGATE vae_train_samples(vae_train_state) (
	SFUNC = vae_train_state_combine, STYPE = vae_train_state,
	FINALFUNC = vae_train_state_final, FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = vae_train_state_combine,
	PARALLEL = RESTRICTED);
