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

-- vae_threshold(model): the automatic cut of the model's scoring method
-- for users who do not know their contamination: Tukey's fence of the
-- stored training scores, Q3 + 1.5 (Q3 - Q1)
CREATE FUNCTION vae_threshold(model bytea)
RETURNS double precision AS 'MODULE_PATHNAME', 'vae_threshold_auto'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ---------------------------------------------------------------------------
-- Pictures (vae_plot_*): SVG documents as text.  Their bytes depend on the
-- arguments only (numbers written by the extension, times in UTC), hence
-- IMMUTABLE.
-- ---------------------------------------------------------------------------

-- vae_plot_history(title, at, rows, anomalies, flagged): a report's runs
-- (element i of each array is run i): rows scored as bars, anomalies as a
-- line, drift-flagged runs shaded.  Not STRICT: NULL arrays are no data.
CREATE FUNCTION vae_plot_history(title text, at timestamptz[], rows bigint[],
                                 anomalies bigint[], flagged boolean[])
RETURNS text AS 'MODULE_PATHNAME', 'vae_plot_history'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- vae_plot_training(model): the loss per epoch (training rows and, when the
-- model held rows out, validation), the kept epoch marked; thousands of
-- epochs are drawn as each pixel column's lowest and highest value
CREATE FUNCTION vae_plot_training(model bytea)
RETURNS text AS 'MODULE_PATHNAME', 'vae_plot_training'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- vae_plot_scores(model, contamination): the histogram of the stored
-- training scores (the model's scoring method) with the threshold vae_threshold(model
-- [, contamination]) gives (NULL: the automatic one); a long tail is cut at
-- the 99th percentile and counted in one bar.  Not STRICT: NULL
-- contamination is the automatic threshold.
CREATE FUNCTION vae_plot_scores(model bytea, contamination double precision DEFAULT NULL)
RETURNS text AS 'MODULE_PATHNAME', 'vae_plot_scores'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- vae_plot_latent(model, row or features [, label]): an aggregate drawing
-- the latent map of its rows: the latent means (vae_encode), or their first
-- two principal axes when the latent is wider, coloured by score or by
-- label.  At most 2,000 points, a bottom-k sample by row hash that does not
-- depend on scan order; no rows: a picture that says so.  Rows with a NULL
-- model or row are skipped.
CREATE FUNCTION vae_plot_latent_trans(internal, bytea, record)
RETURNS internal AS 'MODULE_PATHNAME', 'vae_plot_latent_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION vae_plot_latent_trans(internal, bytea, record, text)
RETURNS internal AS 'MODULE_PATHNAME', 'vae_plot_latent_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION vae_plot_latent_trans(internal, bytea, anyarray)
RETURNS internal AS 'MODULE_PATHNAME', 'vae_plot_latent_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION vae_plot_latent_trans(internal, bytea, anyarray, text)
RETURNS internal AS 'MODULE_PATHNAME', 'vae_plot_latent_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION vae_plot_latent_final(internal)
RETURNS text AS 'MODULE_PATHNAME', 'vae_plot_latent_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- The final function sorts the kept points in place.
CREATE AGGREGATE vae_plot_latent(model bytea, r record) (
	SFUNC = vae_plot_latent_trans, STYPE = internal,
	FINALFUNC = vae_plot_latent_final, FINALFUNC_MODIFY = READ_WRITE,
	PARALLEL = RESTRICTED);

CREATE AGGREGATE vae_plot_latent(model bytea, r record, label text) (
	SFUNC = vae_plot_latent_trans, STYPE = internal,
	FINALFUNC = vae_plot_latent_final, FINALFUNC_MODIFY = READ_WRITE,
	PARALLEL = RESTRICTED);

CREATE AGGREGATE vae_plot_latent(model bytea, features anyarray) (
	SFUNC = vae_plot_latent_trans, STYPE = internal,
	FINALFUNC = vae_plot_latent_final, FINALFUNC_MODIFY = READ_WRITE,
	PARALLEL = RESTRICTED);

CREATE AGGREGATE vae_plot_latent(model bytea, features anyarray, label text) (
	SFUNC = vae_plot_latent_trans, STYPE = internal,
	FINALFUNC = vae_plot_latent_final, FINALFUNC_MODIFY = READ_WRITE,
	PARALLEL = RESTRICTED);

-- ---------------------------------------------------------------------------
-- Named models: a registry in the extension (README "Named models").
-- vae_register(name, model) stores a new version with what the model says
-- of itself; the first version of a name is deployed, later ones are
-- candidates until vae_deploy; vae_rollback returns to the version deployed
-- before.  Every scoring function also takes the name (model text) and
-- scores with the deployed version, looked up once per query.
-- ---------------------------------------------------------------------------

-- One row per version.  At most one deployed version per name (the
-- exclusion constraint).  The owner of a name is the role that registered
-- its first version (created_by of its lowest version).
CREATE TABLE vae_model_registry (
	name text NOT NULL CHECK (name <> ''),
	version integer NOT NULL CHECK (version > 0),
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	created_by name NOT NULL,
	model bytea NOT NULL,
	source text,
	options jsonb,
	metrics jsonb,
	state text NOT NULL DEFAULT 'candidate'
		CHECK (state IN ('candidate', 'deployed', 'retired')),
	note text,
	PRIMARY KEY (name, version),
	CONSTRAINT vae_model_registry_one_deployed
		EXCLUDE USING btree (name WITH =) WHERE (state = 'deployed')
);

-- Every deployment of a name, numbered per name; vae_rollback undoes the
-- latest ones (undone_at) back to the version deployed before.
CREATE TABLE vae_model_deployments (
	name text NOT NULL,
	seq integer NOT NULL,
	version integer NOT NULL,
	deployed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	deployed_by name NOT NULL,
	action text NOT NULL CHECK (action IN ('register', 'deploy')),
	undone_at timestamptz,
	undone_by name,
	PRIMARY KEY (name, seq)
);

-- pg_dump dumps their rows (the tables themselves come with CREATE EXTENSION)
SELECT pg_catalog.pg_extension_config_dump('vae_model_registry', '');
SELECT pg_catalog.pg_extension_config_dump('vae_model_deployments', '');

-- Nobody writes the tables directly: the functions below do, as the
-- extension's owner, after checking the caller's rights.  Reading them (and
-- so scoring by name) needs SELECT, granted by an administrator.
REVOKE ALL ON vae_model_registry, vae_model_deployments FROM PUBLIC;

-- The registry at a glance, one row per version, without the model bytes.
-- security_invoker: reading it needs SELECT on the registry itself.
CREATE VIEW vae_models WITH (security_invoker = true) AS
SELECT r.name, r.version, r.state,
       (SELECT o.created_by FROM @extschema@.vae_model_registry o
        WHERE o.name = r.name ORDER BY o.version LIMIT 1) AS owner,
       r.created_at, r.created_by,
       (SELECT max(d.deployed_at) FROM @extschema@.vae_model_deployments d
        WHERE d.name = r.name AND d.version = r.version) AS deployed_at,
       (r.metrics ->> 'rows')::bigint AS rows,
       (r.metrics ->> 'threshold')::double precision AS threshold,
       (r.metrics ->> 'best_loss')::double precision AS best_loss,
       (r.metrics ->> 'train_seconds')::double precision AS train_seconds,
       octet_length(r.model) AS size_bytes,
       r.source, r.note
FROM @extschema@.vae_model_registry r;
GRANT SELECT ON vae_models TO PUBLIC;

-- The write side: the C functions vae_register, vae_deploy and
-- vae_rollback check nothing themselves; they call these with the
-- caller's role (current_user, which a SECURITY DEFINER function cannot
-- see), and these run as the extension's owner with a pinned search_path.
-- Nobody else may call them (REVOKE), so the caller cannot be forged.
-- Every call in them names its schema and matches its argument types
-- exactly, so no function another role creates can be picked instead.

-- ERROR 42501 unless role caller may manage name (owner given)
CREATE FUNCTION vae_registry_check_owner(caller oid, model_name text, owner name, what text)
RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	-- a superuser may; others need the owner's privileges (membership that
	-- inherits them); a dropped owner role leaves the name to superusers
	IF NOT coalesce((SELECT rolsuper FROM pg_roles WHERE oid = caller), false)
	   AND (NOT EXISTS (SELECT FROM pg_roles WHERE rolname = owner)
	        OR NOT pg_has_role(caller, owner, 'USAGE')) THEN
		RAISE EXCEPTION 'permission denied to % model "%"', what, model_name
			USING ERRCODE = '42501',
			      DETAIL = format('Model "%s" belongs to role %s; only its members and superusers may %s it.',
			                      model_name, owner, what);
	END IF;
END $$;

-- the owner of name (created_by of its first version), or ERROR 42704
CREATE FUNCTION vae_registry_owner(model_name text)
RETURNS name LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	o name;
BEGIN
	SELECT created_by INTO o FROM @extschema@.vae_model_registry
	WHERE name = model_name ORDER BY version LIMIT 1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'model "%" is not registered', model_name
			USING ERRCODE = '42704',
			      HINT = 'vae_register(name, model) registers it; SELECT * FROM vae_models lists the registered models.';
	END IF;
	RETURN o;
END $$;

-- what the registry keeps of a model: training metrics, and the
-- distribution of its training scores (quantiles of the stored sample)
CREATE FUNCTION vae_registry_metrics(model bytea)
RETURNS jsonb LANGUAGE sql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp AS $$
	SELECT jsonb_build_object(
		'rows', i -> 'rows',
		'epochs', i -> 'epochs',
		'best_epoch', i -> 'best_epoch',
		'final_train_loss', i -> 'train_loss' -> -1,
		'final_val_loss', i -> 'val_loss' -> -1,
		-- the loss early stopping kept: validation loss at the best epoch,
		-- training loss without validation
		'best_loss', coalesce(nullif(i -> 'val_loss' -> ((i ->> 'best_epoch')::int - 1), 'null'),
		                      i -> 'train_loss' -> ((i ->> 'best_epoch')::int - 1)),
		'train_seconds', i -> 'train_seconds',
		'device', i -> 'device',
		'parameters', i -> 'parameters',
		'size_bytes', i -> 'size_bytes',
		'input', coalesce(i ->> 'input', 'array'),
		'threshold', @extschema@.vae_threshold(model),
		'score_quantiles', jsonb_build_object(
			'min', @extschema@.vae_threshold(model, 1.0::float8),
			'p25', @extschema@.vae_threshold(model, 0.75::float8),
			'p50', @extschema@.vae_threshold(model, 0.5::float8),
			'p75', @extschema@.vae_threshold(model, 0.25::float8),
			'p90', @extschema@.vae_threshold(model, 0.1::float8),
			'p99', @extschema@.vae_threshold(model, 0.01::float8),
			'max', @extschema@.vae_threshold(model, 0.0::float8)))
	FROM @extschema@.vae_model_info(model) i
$$;

-- vae_register's work: a new version under the registry lock
CREATE FUNCTION vae_registry_register(caller oid, model_name text, model bytea,
                                      note text, source text)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v integer;
	deploy boolean;
	who name := (SELECT rolname FROM pg_roles WHERE oid = caller);
	info jsonb := @extschema@.vae_model_info(model);	-- bad bytes: the reader's error, before the lock
BEGIN
	IF model_name IS NULL OR model_name = '' THEN
		RAISE EXCEPTION 'a model name must not be empty' USING ERRCODE = '22023';
	END IF;
	-- one writer at a time: two sessions registering a name get distinct
	-- versions; readers (scoring) are not blocked
	LOCK TABLE @extschema@.vae_model_registry IN SHARE ROW EXCLUSIVE MODE;
	IF EXISTS (SELECT FROM @extschema@.vae_model_registry WHERE name = model_name) THEN
		PERFORM @extschema@.vae_registry_check_owner(caller, model_name,
			@extschema@.vae_registry_owner(model_name), 'register a new version of'::text);
	END IF;
	SELECT coalesce(max(r.version), 0) + 1,
	       NOT coalesce(bool_or(r.state = 'deployed'), false)
	INTO v, deploy
	FROM @extschema@.vae_model_registry r WHERE r.name = model_name;
	BEGIN
		INSERT INTO @extschema@.vae_model_registry
			(name, version, created_at, created_by, model, source, options, metrics, state, note)
		VALUES (model_name, v, now(), who, model, source, info -> 'options',
		        @extschema@.vae_registry_metrics(model),
		        CASE WHEN deploy THEN 'deployed' ELSE 'candidate' END, note);
	EXCEPTION WHEN unique_violation OR exclusion_violation THEN
		-- REPEATABLE READ or SERIALIZABLE: a version registered after this
		-- transaction's snapshot was taken; the transaction may be retried
		RAISE EXCEPTION 'could not register model "%": another transaction registered a version concurrently', model_name
			USING ERRCODE = '40001';
	END;
	IF deploy THEN
		INSERT INTO @extschema@.vae_model_deployments (name, seq, version, deployed_at, deployed_by, action)
		SELECT model_name, coalesce(max(d.seq), 0) + 1, v, now(), who, 'register'
		FROM @extschema@.vae_model_deployments d WHERE d.name = model_name;
	END IF;
	RETURN v;
END $$;

-- vae_deploy's work: version becomes the deployed one (the previous one retired)
CREATE FUNCTION vae_registry_deploy(caller oid, model_name text, model_version integer)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name := (SELECT rolname FROM pg_roles WHERE oid = caller);
	cur integer;
BEGIN
	LOCK TABLE @extschema@.vae_model_registry IN SHARE ROW EXCLUSIVE MODE;
	PERFORM @extschema@.vae_registry_check_owner(caller, model_name,
		@extschema@.vae_registry_owner(model_name), 'deploy'::text);
	IF NOT EXISTS (SELECT FROM @extschema@.vae_model_registry
	               WHERE name = model_name AND version = model_version) THEN
		RAISE EXCEPTION 'model "%" has no version %', model_name, model_version
			USING ERRCODE = '42704',
			      HINT = format('SELECT version, state FROM vae_models WHERE name = %L lists its versions.', model_name);
	END IF;
	SELECT version INTO cur FROM @extschema@.vae_model_registry
	WHERE name = model_name AND state = 'deployed';
	IF cur IS NOT DISTINCT FROM model_version THEN
		RETURN;		-- already deployed: nothing to record
	END IF;
	UPDATE @extschema@.vae_model_registry SET state = 'retired'
	WHERE name = model_name AND state = 'deployed';
	UPDATE @extschema@.vae_model_registry SET state = 'deployed'
	WHERE name = model_name AND version = model_version;
	INSERT INTO @extschema@.vae_model_deployments (name, seq, version, deployed_at, deployed_by, action)
	SELECT model_name, coalesce(max(d.seq), 0) + 1, model_version, now(), who, 'deploy'
	FROM @extschema@.vae_model_deployments d WHERE d.name = model_name;
END $$;

-- vae_rollback's work: undo the deployments of the current version on top
-- of the history; the version deployed before it is deployed again
CREATE FUNCTION vae_registry_rollback(caller oid, model_name text)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name := (SELECT rolname FROM pg_roles WHERE oid = caller);
	cur integer;
	prev integer;
	top integer;
BEGIN
	LOCK TABLE @extschema@.vae_model_registry IN SHARE ROW EXCLUSIVE MODE;
	PERFORM @extschema@.vae_registry_check_owner(caller, model_name,
		@extschema@.vae_registry_owner(model_name), 'roll back'::text);
	SELECT version INTO cur FROM @extschema@.vae_model_registry
	WHERE name = model_name AND state = 'deployed';
	IF cur IS NULL THEN
		RAISE EXCEPTION 'model "%" has no deployed version to roll back', model_name
			USING ERRCODE = '55000';
	END IF;
	-- the newest live deployment of another version than the current one
	SELECT d.version, d.seq INTO prev, top
	FROM @extschema@.vae_model_deployments d
	WHERE d.name = model_name AND d.undone_at IS NULL AND d.version <> cur
	ORDER BY d.seq DESC LIMIT 1;
	IF prev IS NULL THEN
		RAISE EXCEPTION 'model "%" has no earlier deployment to roll back to', model_name
			USING ERRCODE = '55000',
			      DETAIL = format('Version %s is the only version deployed since the last rollback.', cur);
	END IF;
	UPDATE @extschema@.vae_model_deployments SET undone_at = now(), undone_by = who
	WHERE name = model_name AND undone_at IS NULL AND seq > top;
	UPDATE @extschema@.vae_model_registry SET state = 'retired'
	WHERE name = model_name AND state = 'deployed';
	UPDATE @extschema@.vae_model_registry SET state = 'deployed'
	WHERE name = model_name AND version = prev;
	RETURN prev;
END $$;

REVOKE ALL ON FUNCTION vae_registry_check_owner(oid, text, name, text),
	vae_registry_owner(text), vae_registry_metrics(bytea),
	vae_registry_register(oid, text, bytea, text, text),
	vae_registry_deploy(oid, text, integer),
	vae_registry_rollback(oid, text) FROM PUBLIC;

-- The user functions: C gates that pass current_user to the above.
-- Anyone allowed to EXECUTE vae_register may create a new name (REVOKE it
-- from PUBLIC to restrict that); new versions, deploy and rollback need the
-- rights of the name's owner.
CREATE FUNCTION vae_register(name text, model bytea, note text DEFAULT NULL,
                             source text DEFAULT NULL)
RETURNS integer AS 'MODULE_PATHNAME', 'vae_register'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION vae_deploy(name text, version integer)
RETURNS void AS 'MODULE_PATHNAME', 'vae_deploy'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION vae_rollback(name text)
RETURNS integer AS 'MODULE_PATHNAME', 'vae_rollback'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

-- vae_model(name): the deployed version's bytes; an unknown name is ERROR
-- 42704, a name without a deployed version 55000.  Reads the registry
-- once per query (as the caller: SELECT on vae_model_registry needed).
CREATE FUNCTION vae_model(name text)
RETURNS bytea AS 'MODULE_PATHNAME', 'vae_model'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- The scoring functions by model name (the same C functions: the model
-- argument's declared type tells them to look the name up, once per query).
-- STABLE, not IMMUTABLE: they read the registry.
CREATE FUNCTION vae_score(model text, features anyarray)
RETURNS double precision AS 'MODULE_PATHNAME', 'vae_score'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_score(model text, features anyarray, method text)
RETURNS double precision AS 'MODULE_PATHNAME', 'vae_score'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_score(model text, r record)
RETURNS double precision AS 'MODULE_PATHNAME', 'vae_score'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_threshold(model text)
RETURNS double precision AS 'MODULE_PATHNAME', 'vae_threshold_auto'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_threshold(model text, contamination double precision)
RETURNS double precision AS 'MODULE_PATHNAME', 'vae_threshold'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_threshold(model text, contamination double precision, method text)
RETURNS double precision AS 'MODULE_PATHNAME', 'vae_threshold'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_encode(model text, features anyarray)
RETURNS real[] AS 'MODULE_PATHNAME', 'vae_encode'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_encode(model text, r record)
RETURNS real[] AS 'MODULE_PATHNAME', 'vae_encode'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_reconstruct(model text, features anyarray)
RETURNS real[] AS 'MODULE_PATHNAME', 'vae_reconstruct'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_reconstruct(model text, r record)
RETURNS jsonb AS 'MODULE_PATHNAME', 'vae_reconstruct_row'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_explain(model text, features anyarray)
RETURNS TABLE(feature integer, value real, expected real, contribution double precision)
AS 'MODULE_PATHNAME', 'vae_explain'
LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 100;

CREATE FUNCTION vae_explain(model text, r record)
RETURNS TABLE(feature text, value text, expected text, contribution double precision)
AS 'MODULE_PATHNAME', 'vae_explain_row'
LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 20;

CREATE FUNCTION vae_generate(model text, n integer, seed bigint DEFAULT 0)
RETURNS SETOF real[] AS 'MODULE_PATHNAME', 'vae_generate'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_generate_rows(model text, n integer, seed bigint DEFAULT 0)
RETURNS SETOF jsonb AS 'MODULE_PATHNAME', 'vae_generate'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_model_info(model text)
RETURNS jsonb AS 'MODULE_PATHNAME', 'vae_model_info'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
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

-- Scoring that ships (docs/scale-out.md).  postgres_fdw sends a function
-- call to the shard only when its input collation derives from a column of
-- the foreign table: a text method constant ('mse') carries the default
-- collation and keeps the call, and the scan's rows, on the coordinator.
-- The method as an enum has no collation.  The 1.1 record form takes only
-- the enum; the frozen 1.0 array forms keep their text signatures and get
-- enum overloads beside them (an untyped literal 'mse' still resolves to
-- text, the preferred type of its category: write 'mse'::vae_method).
CREATE TYPE vae_method AS ENUM ('recon_prob', 'elbo', 'mse');

CREATE FUNCTION vae_score(model bytea, r record, method vae_method)
RETURNS double precision AS 'MODULE_PATHNAME', 'vae_score_m'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_score(model bytea, features anyarray, method vae_method)
RETURNS double precision AS 'MODULE_PATHNAME', 'vae_score_m'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_threshold(model bytea, contamination double precision, method vae_method)
RETURNS double precision AS 'MODULE_PATHNAME', 'vae_threshold_m'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ... and by a registered model's name (Named models), as the other forms.
CREATE FUNCTION vae_score(model text, r record, method vae_method)
RETURNS double precision AS 'MODULE_PATHNAME', 'vae_score_m'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_score(model text, features anyarray, method vae_method)
RETURNS double precision AS 'MODULE_PATHNAME', 'vae_score_m'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vae_threshold(model text, contamination double precision, method vae_method)
RETURNS double precision AS 'MODULE_PATHNAME', 'vae_threshold_m'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- ---------------------------------------------------------------------------
-- Detection in one call (docs/scoring.md, "Detection in one call"): the score, the
-- threshold, the verdict, the score's percentile among the training rows
-- and the most contributing columns, per row or over a relation or query.
-- ---------------------------------------------------------------------------
CREATE TYPE vae_detection AS (
	score double precision,		-- vae_score(model, r, method): the model's method by default
	threshold double precision,	-- vae_threshold(model, contamination, method), or the method's automatic one
	is_anomaly boolean,			-- score > threshold
	percentile double precision,	-- share of the stored training scores below score
	top jsonb					-- the most contributing columns, largest first
);

-- Not STRICT: a NULL contamination means the automatic threshold of the
-- method, a NULL method the model's own (vae_train option method); a NULL
-- model or row still gives NULL.  IMMUTABLE: the result depends on the
-- arguments alone, as vae_score's does.  The method is the last argument of
-- every form; top is vae_explain's, whatever the method.
CREATE FUNCTION vae_detect(model bytea, r record, contamination double precision DEFAULT NULL,
                           top_columns integer DEFAULT 3,
                           method vae_method DEFAULT NULL)
RETURNS vae_detection AS 'MODULE_PATHNAME', 'vae_detect_row'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION vae_detect(model bytea, features anyarray,
                           contamination double precision DEFAULT NULL,
                           top_columns integer DEFAULT 3,
                           method vae_method DEFAULT NULL)
RETURNS vae_detection AS 'MODULE_PATHNAME', 'vae_detect_row'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Over a whole relation or query, in the spirit of ML.DETECT_ANOMALIES: the
-- function reads the rows itself, through a read-only cursor, and scores
-- them in blocks (one GEMM per layer).  One row per source row (or per
-- anomaly with anomalies_only), in the source's order: row_number is the
-- position there; top and row_data (the row as jsonb) are given for the
-- anomalies, NULL for the other rows.  A text that is a plain name names a
-- relation, any other text is a query.  STABLE: it reads tables, with the
-- calling statement's snapshot; PARALLEL RESTRICTED: it runs its query in
-- the leader.
CREATE FUNCTION vae_detect(model bytea, source regclass,
                           contamination double precision DEFAULT NULL,
                           anomalies_only boolean DEFAULT false, top_columns integer DEFAULT 3,
                           method vae_method DEFAULT NULL)
RETURNS TABLE(row_number bigint, score double precision, threshold double precision,
              is_anomaly boolean, percentile double precision, top jsonb, row_data jsonb)
AS 'MODULE_PATHNAME', 'vae_detect_source'
LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 1000;

CREATE FUNCTION vae_detect(model bytea, query text,
                           contamination double precision DEFAULT NULL,
                           anomalies_only boolean DEFAULT false, top_columns integer DEFAULT 3,
                           method vae_method DEFAULT NULL)
RETURNS TABLE(row_number bigint, score double precision, threshold double precision,
              is_anomaly boolean, percentile double precision, top jsonb, row_data jsonb)
AS 'MODULE_PATHNAME', 'vae_detect_source'
LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 1000;

-- vae_detect by a registered model's name (Named models): the same C
-- functions, the name looked up once per query; STABLE, as every name form.
CREATE FUNCTION vae_detect(model text, r record, contamination double precision DEFAULT NULL,
                           top_columns integer DEFAULT 3,
                           method vae_method DEFAULT NULL)
RETURNS vae_detection AS 'MODULE_PATHNAME', 'vae_detect_row'
LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION vae_detect(model text, features anyarray,
                           contamination double precision DEFAULT NULL,
                           top_columns integer DEFAULT 3,
                           method vae_method DEFAULT NULL)
RETURNS vae_detection AS 'MODULE_PATHNAME', 'vae_detect_row'
LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION vae_detect(model text, source regclass,
                           contamination double precision DEFAULT NULL,
                           anomalies_only boolean DEFAULT false, top_columns integer DEFAULT 3,
                           method vae_method DEFAULT NULL)
RETURNS TABLE(row_number bigint, score double precision, threshold double precision,
              is_anomaly boolean, percentile double precision, top jsonb, row_data jsonb)
AS 'MODULE_PATHNAME', 'vae_detect_source'
LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 1000;

CREATE FUNCTION vae_detect(model text, query text,
                           contamination double precision DEFAULT NULL,
                           anomalies_only boolean DEFAULT false, top_columns integer DEFAULT 3,
                           method vae_method DEFAULT NULL)
RETURNS TABLE(row_number bigint, score double precision, threshold double precision,
              is_anomaly boolean, percentile double precision, top jsonb, row_data jsonb)
AS 'MODULE_PATHNAME', 'vae_detect_source'
LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 1000;
-- ---------------------------------------------------------------------------
-- Scheduled anomaly reports (docs/reports.md): vae_report_create, CALL
-- vae_report_run, vae_report_drop, vae_report_retrain, the views vae_reports
-- and vae_report_runs.  A report scores the rows of a source past its
-- watermark with the deployed version of a registered model (vae_detect) and
-- appends the anomalies to its findings table.  The bookkeeping lives in
-- extension-owned tables that pg_dump dumps (pg_extension_config_dump).
-- ---------------------------------------------------------------------------

-- One row per report: what it reads and with which model, where it stands.
-- source and findings are qualified, quoted names (text, not regclass, so
-- that a dump restores them by name).  watermark is the last key scored, as
-- text (vae_report_key_text); NULL before the first row.
CREATE TABLE vae_report_state (
	name          text PRIMARY KEY,
	model         text NOT NULL,
	source        text NOT NULL,
	key_column    text NOT NULL,
	key_type      text NOT NULL,
	findings      text NOT NULL,
	contamination double precision NOT NULL
	              CHECK (contamination > 0 AND contamination < 1),
	schedule      text,
	job_name      text,
	options       jsonb NOT NULL DEFAULT '{}',
	watermark     text,
	model_version integer,
	runs          bigint NOT NULL DEFAULT 0,
	rows_scored   bigint NOT NULL DEFAULT 0,
	anomalies     bigint NOT NULL DEFAULT 0,
	errors        bigint NOT NULL DEFAULT 0,
	last_run_at   timestamptz,
	last_error    text,
	last_error_at timestamptz,
	created_at    timestamptz NOT NULL DEFAULT now(),
	created_by    name NOT NULL DEFAULT current_user
);

-- One row per run that committed (a cancelled or crashed run leaves none:
-- it changed nothing).  error: the run's own failure (model not deployed,
-- source gone, ...), which scored nothing; row errors are counted in
-- row_errors and listed in vae_report_errors.  score_quantiles: the scores
-- at vae_report_quantile_levels() (0.5, 0.9, 0.99) of the rows scored.
CREATE TABLE vae_report_history (
	run           bigserial PRIMARY KEY,
	report        text NOT NULL REFERENCES vae_report_state (name)
	              ON UPDATE CASCADE ON DELETE CASCADE,
	started_at    timestamptz NOT NULL,
	finished_at   timestamptz NOT NULL,
	model_version integer,
	threshold     double precision,
	watermark_from text,
	watermark_to  text,
	rows_scored   bigint NOT NULL DEFAULT 0,
	anomalies     bigint NOT NULL DEFAULT 0,
	row_errors    bigint NOT NULL DEFAULT 0,
	share_above   double precision,
	score_quantiles double precision[],
	worst_key     text,
	worst_score   double precision,
	error         text,
	error_sqlstate text
);
CREATE INDEX ON vae_report_history (report, run);

-- Rows a run could not score: the run went on without them.
CREATE TABLE vae_report_errors (
	report        text NOT NULL REFERENCES vae_report_state (name)
	              ON UPDATE CASCADE ON DELETE CASCADE,
	run           bigint NOT NULL,
	key           text NOT NULL,
	message       text NOT NULL,
	sqlstate      text NOT NULL,
	at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON vae_report_errors (report, run);

-- One row per vae_report_retrain: the candidate, the comparison and the
-- decision.
CREATE TABLE vae_report_retrains (
	id                 bigserial PRIMARY KEY,
	report             text NOT NULL REFERENCES vae_report_state (name)
	                   ON UPDATE CASCADE ON DELETE CASCADE,
	at                 timestamptz NOT NULL DEFAULT now(),
	source             text NOT NULL,
	train_rows         bigint NOT NULL,
	holdout_rows       bigint NOT NULL,
	deployed_version   integer NOT NULL,
	candidate_version  integer NOT NULL,
	contamination      double precision NOT NULL,
	deployed_rate      double precision NOT NULL,
	candidate_rate     double precision NOT NULL,
	deployed_p         double precision NOT NULL,
	candidate_p        double precision NOT NULL,
	decision           text NOT NULL CHECK (decision IN ('deployed', 'kept')),
	reason             text NOT NULL
);

SELECT pg_catalog.pg_extension_config_dump('vae_report_state', '');
SELECT pg_catalog.pg_extension_config_dump('vae_report_history', '');
SELECT pg_catalog.pg_extension_config_dump('vae_report_history_run_seq', '');
SELECT pg_catalog.pg_extension_config_dump('vae_report_errors', '');
SELECT pg_catalog.pg_extension_config_dump('vae_report_retrains', '');
SELECT pg_catalog.pg_extension_config_dump('vae_report_retrains_id_seq', '');

-- Every role may use reports, and sees and changes only its own: the
-- bookkeeping rows of a report are visible and writable to the members of
-- the role that created it (created_by) alone; superusers and the tables'
-- owner are not subject to row security.  A role that could rewrite
-- another role's report (its source, findings or model) would have that
-- role's next scheduled run copy its rows wherever it pointed.
-- vae_report_visible(created_by): the caller is a member of that role (a
-- role that no longer exists has no members, rather than an ERROR).
CREATE FUNCTION vae_report_visible(created_by name)
RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
	               WHERE r.rolname = $1 AND pg_catalog.pg_has_role(current_user, r.oid, 'USAGE'))
$$;
ALTER TABLE vae_report_state ENABLE ROW LEVEL SECURITY;
CREATE POLICY vae_report_own ON vae_report_state
	USING (vae_report_visible(created_by)) WITH CHECK (vae_report_visible(created_by));
ALTER TABLE vae_report_history ENABLE ROW LEVEL SECURITY;
CREATE POLICY vae_report_own ON vae_report_history
	USING (EXISTS (SELECT 1 FROM vae_report_state s WHERE s.name = report))
	WITH CHECK (EXISTS (SELECT 1 FROM vae_report_state s WHERE s.name = report));
ALTER TABLE vae_report_errors ENABLE ROW LEVEL SECURITY;
CREATE POLICY vae_report_own ON vae_report_errors
	USING (EXISTS (SELECT 1 FROM vae_report_state s WHERE s.name = report))
	WITH CHECK (EXISTS (SELECT 1 FROM vae_report_state s WHERE s.name = report));
ALTER TABLE vae_report_retrains ENABLE ROW LEVEL SECURITY;
CREATE POLICY vae_report_own ON vae_report_retrains
	USING (EXISTS (SELECT 1 FROM vae_report_state s WHERE s.name = report))
	WITH CHECK (EXISTS (SELECT 1 FROM vae_report_state s WHERE s.name = report));
GRANT SELECT, INSERT, UPDATE, DELETE
	ON vae_report_state, vae_report_history, vae_report_errors, vae_report_retrains TO PUBLIC;
GRANT USAGE ON SEQUENCE vae_report_history_run_seq, vae_report_retrains_id_seq TO PUBLIC;

-- The levels of vae_report_history.score_quantiles.
CREATE FUNCTION vae_report_quantile_levels()
RETURNS double precision[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT ARRAY[0.5, 0.9, 0.99]::double precision[] $$;

-- Chernoff's bound on the binomial tail: for X ~ Bin(n, p) and k anomalies
-- observed, P(X >= k) <= exp(-n D(k/n || p)) when k/n > p, and P(X <= k)
-- <= exp(-n D(k/n || p)) when k/n < p, with D the Kullback-Leibler
-- divergence of Bernoulli(k/n) from Bernoulli(p).  An upper bound on the
-- one-sided p-value of the observed rate, so a rule "bound < alpha" flags
-- only rates that the exact test flags too (never more false alarms than
-- alpha), in closed form for any n.  1 when k/n = p or n = 0; at least
-- exp(-700) (no underflow error).
CREATE FUNCTION vae_report_rate_p(n bigint, k bigint, p double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
	SELECT CASE WHEN n <= 0 THEN 1.0::double precision
	            ELSE exp(greatest(-700, -n * (
	                 CASE WHEN k = 0 THEN 0 ELSE (k::double precision / n) * ln((k::double precision / n) / p) END
	               + CASE WHEN k = n THEN 0 ELSE (1 - k::double precision / n) * ln((1 - k::double precision / n) / (1 - p)) END)))
	       END
$$;

-- The schema vae was created in: the scheduled command and the dynamic
-- statements name it.
CREATE FUNCTION vae_report_schema()
RETURNS text LANGUAGE sql STABLE
AS $$ SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
      WHERE e.extname = 'vae' $$;

-- The SQL expression that writes key expression expr of type key_type as
-- text the same way whatever DateStyle, TimeZone or extra_float_digits say
-- (times in ISO 8601, UTC for timestamptz), so that a watermark written by
-- one session reads back the same in any other (a pg_cron worker's).
CREATE FUNCTION vae_report_key_text(key_type text, expr text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT CASE
	       WHEN key_type LIKE 'timestamp%with time zone'
	       THEN format('to_char((%s) AT TIME ZONE ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS.US"Z"'')', expr)
	       WHEN key_type LIKE 'timestamp%'
	       THEN format('to_char(%s, ''YYYY-MM-DD"T"HH24:MI:SS.US'')', expr)
	       WHEN key_type = 'date' THEN format('to_char(%s, ''YYYY-MM-DD'')', expr)
	       ELSE format('(%s)::text', expr) END
$$;

-- A scheduled job runs with the default search_path: when vae's schema is
-- not on it, put it first for the rest of the transaction, so that the
-- functions a run calls are found.  Called first by the functions pg_cron
-- runs (they are called by qualified name).
CREATE FUNCTION vae_report_path()
RETURNS void LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	v_schema text := vae_report_schema();
BEGIN
	IF v_schema IS NOT NULL AND NOT v_schema = ANY (current_schemas(false)) THEN
		PERFORM set_config('search_path', format('%I, %s', v_schema, current_setting('search_path')), true);
	END IF;
END
$$;

-- vae_report_create(name, model, source, key_column, contamination
-- [, schedule [, options]]): check the model name and the source, create
-- the findings table NAME in the current schema, record the report and, with
-- a schedule, register `CALL vae_report_run(NAME)` with pg_cron under the job
-- name 'vae_report:NAME'.  options: batch_size (rows per scoring statement,
-- default 1000), max_rows (rows per run, default 100000; the next run goes
-- on), writer_wait (how long a run waits for transactions still inserting
-- into the source, default '10s'), drift_runs (runs pooled by the drift
-- rule, default 10), drift_alpha (default 0.001).
CREATE FUNCTION vae_report_create(name text, model text, source regclass, key_column text,
                                  contamination double precision,
                                  schedule text DEFAULT NULL, options jsonb DEFAULT '{}')
RETURNS text LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	v_name    text := name;
	v_key     name := key_column;
	v_type    text;
	v_table   text;
	v_source  text;
	v_job     text;
	k         text;
BEGIN
	IF v_name IS NULL OR length(v_name) = 0 OR length(v_name) > 63 THEN
		RAISE EXCEPTION 'vae_report_create: a report name must have 1 to 63 characters'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF contamination IS NULL OR NOT (contamination > 0 AND contamination < 1) THEN
		RAISE EXCEPTION 'vae_report_create: contamination must be in (0, 1), got %', contamination
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'The share of rows a run should flag when nothing has changed, e.g. 0.01.';
	END IF;
	IF EXISTS (SELECT 1 FROM vae_report_state s WHERE s.name = v_name) THEN
		RAISE EXCEPTION 'vae_report_create: report "%" already exists', v_name
			USING ERRCODE = 'duplicate_object';
	END IF;
	FOR k IN SELECT jsonb_object_keys(coalesce(options, '{}')) LOOP
		IF k NOT IN ('batch_size', 'max_rows', 'writer_wait', 'drift_runs', 'drift_alpha') THEN
			RAISE EXCEPTION 'vae_report_create: unknown option "%"', k
				USING ERRCODE = 'invalid_parameter_value',
				      HINT = 'Options: batch_size, max_rows, writer_wait, drift_runs, drift_alpha.';
		END IF;
	END LOOP;
	-- ERROR for an unknown name, one with no deployed version or an array model
	PERFORM vae_report_check_model(vae_model(model), model, 'vae_report_create');
	SELECT format_type(a.atttypid, a.atttypmod) INTO v_type
	FROM pg_attribute a
	WHERE a.attrelid = source AND a.attname = v_key AND a.attnum > 0 AND NOT a.attisdropped;
	IF v_type IS NULL THEN
		RAISE EXCEPTION 'vae_report_create: "%" has no column "%"', source, key_column
			USING ERRCODE = 'undefined_column';
	END IF;
	IF v_type !~ '^(smallint|integer|bigint|numeric|date|timestamp)\M' THEN
		RAISE EXCEPTION 'vae_report_create: the key column "%" is of type %, not an increasing number or time', key_column, v_type
			USING ERRCODE = 'datatype_mismatch',
			      HINT = 'Use a serial, identity or timestamp column that grows with every new row.';
	END IF;
	SELECT format('%I.%I', n.nspname, c.relname) INTO v_source
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = source;
	v_table := format('%I.%I', current_schema(), v_name);
	EXECUTE format('CREATE TABLE %s (%I %s NOT NULL, run bigint NOT NULL, '
	               'detected_at timestamptz NOT NULL DEFAULT now(), model_version integer NOT NULL, '
	               'score double precision NOT NULL, threshold double precision NOT NULL, '
	               'percentile double precision, top jsonb, "row" jsonb NOT NULL)',
	               v_table, v_key, v_type);
	-- not unique: timestamps may tie
	EXECUTE format('CREATE INDEX ON %s (%I)', v_table, v_key);
	EXECUTE format('COMMENT ON TABLE %s IS %L', v_table,
	               format('findings of the vae report %s (vae_report_create)', v_name));
	IF schedule IS NOT NULL THEN
		IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
			RAISE EXCEPTION 'vae_report_create: a schedule needs the pg_cron extension in this database'
				USING ERRCODE = 'feature_not_supported',
				      HINT = 'Install pg_cron (shared_preload_libraries = ''pg_cron'', cron.database_name) and CREATE EXTENSION pg_cron, or leave out the schedule and CALL vae_report_run from your scheduler.';
		END IF;
		v_job := 'vae_report:' || v_name;
		EXECUTE 'SELECT cron.schedule($1, $2, $3)' USING v_job, schedule,
			format('CALL %I.vae_report_run(%L)', vae_report_schema(), v_name);
	END IF;
	BEGIN
		INSERT INTO vae_report_state (name, model, source, key_column, key_type, findings,
		                              contamination, schedule, job_name, options)
		VALUES (v_name, model, v_source, v_key, v_type, v_table, contamination, schedule, v_job,
		        coalesce(options, '{}'));
	EXCEPTION WHEN unique_violation THEN
		-- another role's report, which row security hides from the check above
		RAISE EXCEPTION 'vae_report_create: report "%" already exists', v_name
			USING ERRCODE = 'duplicate_object',
			      HINT = 'Report names are shared by all roles of the database; another role has this one.';
	END;
	RETURN v_table;
END
$$;

-- vae_report_drop(name [, drop_findings]): forget the report (its runs,
-- errors and retrains), unschedule its job and, unless drop_findings is
-- false, drop its findings table.
-- The owner check of the functions that act on a report: only a member of
-- the role that created it (or a superuser) may run, drop or retrain it
-- (ERROR 42501), so that a report's triggers and view functions never run
-- with another role's rights.  The rule of the row security above
-- (vae_report_visible), checked again for roles that bypass it.
CREATE FUNCTION vae_report_check_owner(r vae_report_state, action text)
RETURNS void LANGUAGE plpgsql STABLE
AS $$
BEGIN
	IF NOT vae_report_visible(r.created_by) THEN
		RAISE EXCEPTION '%: report "%" belongs to role "%"', action, r.name, r.created_by
			USING ERRCODE = 'insufficient_privilege',
			      HINT = 'Run it as that role or a member of it.';
	END IF;
END
$$;

-- A report scores the source's rows by name (vae_detect(model, row)), so
-- its model must be a row model: an array model would make every row a row
-- error (22023) and move the watermark past them all.  ERROR 42809 (class
-- 42: at run time it fails the run, which keeps its watermark).
CREATE FUNCTION vae_report_check_model(model bytea, model_name text, action text)
RETURNS void LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
	IF NOT (vae_model_info(model) ? 'columns') THEN
		RAISE EXCEPTION '%: model "%" was trained on feature arrays, but a report scores table rows', action, model_name
			USING ERRCODE = 'wrong_object_type',
			      HINT = 'Register a model trained on the rows of the source, vae_train(t) over a query of its columns.';
	END IF;
END
$$;

-- The stored names of report r, checked again and written back as PostgreSQL
-- prints them (a source or findings table that no longer exists is ERROR
-- 42P01): what the dynamic SQL of a run splices in is always a name.
CREATE FUNCTION vae_report_checked(r vae_report_state)
RETURNS vae_report_state LANGUAGE plpgsql STABLE
AS $$
BEGIN
	r.source := r.source::regclass::text;
	r.findings := r.findings::regclass::text;
	r.key_type := r.key_type::regtype::text;
	RETURN r;
END
$$;

CREATE FUNCTION vae_report_drop(name text, drop_findings boolean DEFAULT true)
RETURNS void LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	r vae_report_state;
BEGIN
	SELECT * INTO r FROM vae_report_state s WHERE s.name = vae_report_drop.name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'vae_report_drop: no report named "%"', name USING ERRCODE = 'undefined_object';
	END IF;
	PERFORM vae_report_check_owner(r, 'vae_report_drop');
	IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
		EXECUTE 'SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname IN ($1, $2)'
		USING 'vae_report:' || r.name, 'vae_retrain:' || r.name;
	END IF;
	DELETE FROM vae_report_state s WHERE s.name = r.name;
	IF drop_findings THEN
		IF to_regclass(r.findings) IS NOT NULL THEN
			EXECUTE format('DROP TABLE %s', to_regclass(r.findings));
		END IF;
	END IF;
END
$$;

-- The per-run temporary table of the scores of the rows scored (every
-- scoring statement of the run writes it; the run's figures are computed
-- from it at the end).
CREATE FUNCTION vae_report_scratch()
RETURNS void LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
	IF to_regclass('pg_temp.vae_report_scores') IS NULL THEN
		CREATE TEMP TABLE vae_report_scores (key text, score double precision, anomaly boolean)
			ON COMMIT DELETE ROWS;
		-- the session's own table, emptied at every run's start and at
		-- commit, for whichever role the session runs a report as (a pooler
		-- that SETs ROLE per client)
		GRANT ALL ON pg_temp.vae_report_scores TO PUBLIC;
	END IF;
	DELETE FROM pg_temp.vae_report_scores;
END
$$;

-- Score the rows of report r with key in (lo, hi] (lo NULL: from the
-- start) in one statement: append the anomalies to the findings and every
-- score to the scratch table; returns the number of rows scored.
CREATE FUNCTION vae_report_score(r vae_report_state, run bigint, model bytea, version integer,
                                 lo text, hi text)
RETURNS bigint LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	n bigint;
BEGIN
	EXECUTE format($q$
		WITH d AS MATERIALIZED (
			SELECT s.%1$I AS k, s AS r, %2$I.vae_detect($3, s, $4) AS d
			FROM %3$s s WHERE ($1::%4$s IS NULL OR s.%1$I > $1::%4$s) AND s.%1$I <= $2::%4$s),
		f AS (
			INSERT INTO %5$s (%1$I, run, model_version, score, threshold, percentile, top, "row")
			SELECT k, $5, $6, (d).score, (d).threshold, (d).percentile, (d).top, to_jsonb(r)
			FROM d WHERE (d).is_anomaly),
		sc AS (
			INSERT INTO pg_temp.vae_report_scores
			SELECT %6$s, (d).score, (d).is_anomaly FROM d)
		SELECT count(*) FROM d$q$,
		r.key_column, vae_report_schema(), r.source, r.key_type, r.findings,
		vae_report_key_text(r.key_type, 'k'))
	INTO n USING lo, hi, model, r.contamination, run, version;
	RETURN n;
END
$$;

-- Is an error of this SQLSTATE a row's own, one that scoring the row again
-- would raise again: a data exception (class 22: NaN, a value that does not
-- cast, a value out of range) or an exception raised by the source's own
-- functions (P0001).  Anything else (a lock timeout, a deadlock, a
-- serialization failure, out of memory, a column the source no longer has)
-- is not the row's: it fails the run, which keeps its watermark.
CREATE FUNCTION vae_report_row_error(state text)
RETURNS boolean LANGUAGE sql IMMUTABLE
AS $$ SELECT left(state, 2) = '22' OR state = 'P0001' $$;

-- The rows of report r with key in (lo, keys[n]], keys the distinct keys
-- there in order, whose statement failed: score each half in a
-- subtransaction and split again the halves that fail, down to one key,
-- which is recorded in vae_report_errors (message, SQLSTATE) and left out.
-- One bad key among n costs about 2 log2(n) statements instead of n.  Only
-- a row's own errors are recorded (vae_report_row_error); any other error
-- (a column the source no longer has, a lock timeout, a deadlock) fails the
-- run, which keeps its watermark.  Returns the rows read and the rows left
-- out.
CREATE FUNCTION vae_report_bisect(r vae_report_state, run bigint, model bytea, version integer,
                                  lo text, keys text[], OUT n bigint, OUT bad bigint)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	len   integer := cardinality(keys);
	mid   integer := cardinality(keys) / 2;
	part  text[];
	from_ text;
	sub   record;
	msg   text;
	state text;
BEGIN
	n := 0;
	bad := 0;
	IF len = 1 THEN
		-- the failing statement was this key's alone: say why
		BEGIN
			n := vae_report_score(r, run, model, version, lo, keys[1]);
			RETURN;		-- it passed this time (a row changed meanwhile)
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
			IF NOT vae_report_row_error(state) THEN
				RAISE;
			END IF;
		END;
		INSERT INTO vae_report_errors (report, run, key, message, sqlstate)
		VALUES (r.name, run, keys[1], msg, state);
		-- the rows of that key (several where timestamps tie)
		EXECUTE format('SELECT count(*) FROM %s s WHERE s.%I = $1::%s',
		               r.source, r.key_column, r.key_type)
		INTO bad USING keys[1];
		bad := greatest(bad, 1);
		n := bad;
		RETURN;
	END IF;
	FOR half IN 1..2 LOOP
		part := CASE half WHEN 1 THEN keys[1:mid] ELSE keys[mid + 1:len] END;
		from_ := CASE half WHEN 1 THEN lo ELSE keys[mid] END;
		BEGIN
			n := n + vae_report_score(r, run, model, version, from_, part[cardinality(part)]);
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE;
			IF NOT vae_report_row_error(state) THEN
				RAISE;
			END IF;
			SELECT * INTO sub FROM vae_report_bisect(r, run, model, version, from_, part);
			n := n + sub.n;
			bad := bad + sub.bad;
		END;
	END LOOP;
END
$$;

-- CALL vae_report_run(name): one run of a report, in the caller's
-- transaction (a cancel or a crash undoes all of it).  Steps:
--  * lock the report (an advisory lock, then its row): an overlapping run
--    waits, then starts from the watermark this one leaves;
--  * batch by batch (options batch_size, max_rows): the batch's upper key hi
--    is read, then the run waits until every transaction that was writing
--    into the source has ended (a SHARE lock taken and released at once;
--    option writer_wait bounds the wait), so that no row with a key <= hi
--    can still appear later: a serial or now() key is assigned while its
--    inserter holds the table lock;
--  * the batch is scored in one statement; if that fails, its rows are
--    scored again by halves, each in a subtransaction, down to the rows
--    that fail, which are recorded in vae_report_errors (key, message,
--    SQLSTATE): one bad row never fails a run;
--  * the watermark, the counts and the run history move with the findings,
--    and a run with anomalies sends NOTIFY vae_anomalies with a JSON payload
--    (report, run, count, worst_key, worst_score, model_version), delivered
--    at commit.
-- A failure of the run as a whole (no deployed model, the source dropped,
-- a writer that does not finish) is recorded in the run history and the
-- report's last_error, raised as a WARNING, and scores nothing.  A cancel
-- is not caught: it undoes the run.
CREATE PROCEDURE vae_report_run(name text)
LANGUAGE plpgsql
AS $$
DECLARE
	r          vae_report_state;
	v_schema   text := vae_report_schema();
	v_run      bigint;
	v_started  timestamptz := clock_timestamp();
	v_model    bytea;
	v_version  integer;
	v_thr      double precision;
	v_batch    bigint;
	v_max      bigint;
	v_wait     text;
	v_from     text;
	v_hi       text;
	v_n        bigint := 0;
	v_bad      bigint := 0;
	v_rows     bigint := 0;
	v_anom     bigint := 0;
	v_q        double precision[];
	v_wkey     text;
	v_wscore   double precision;
	v_msg      text;
	v_state    text;
	v_nbad     bigint;
	v_keys     text[];
BEGIN
	PERFORM vae_report_path();
	PERFORM pg_advisory_xact_lock(hashtextextended('vae_report:' || name, 0::bigint));
	SELECT * INTO r FROM vae_report_state s WHERE s.name = vae_report_run.name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'vae_report_run: no report named "%"', name USING ERRCODE = 'undefined_object';
	END IF;
	PERFORM vae_report_check_owner(r, 'vae_report_run');
	v_run := nextval(pg_get_serial_sequence(format('%I.vae_report_history', v_schema), 'run'));
	v_from := r.watermark;
	v_batch := greatest(coalesce((r.options->>'batch_size')::bigint, 1000), 1);
	v_max := greatest(coalesce((r.options->>'max_rows')::bigint, 100000), 1);
	v_wait := coalesce(r.options->>'writer_wait', '10s');
	PERFORM vae_report_scratch();
	BEGIN
		r := vae_report_checked(r);
		v_model := vae_model(r.model);
		PERFORM vae_report_check_model(v_model, r.model, 'vae_report_run');
		SELECT g.version INTO v_version FROM vae_model_registry g
		WHERE g.name = r.model AND g.state = 'deployed';
		v_thr := vae_threshold(v_model, r.contamination);
		LOOP
			EXIT WHEN v_rows >= v_max;
			EXECUTE format('SELECT %4$s FROM (SELECT s.%1$I AS k FROM %2$s s '
			               'WHERE $1::%3$s IS NULL OR s.%1$I > $1::%3$s ORDER BY 1 LIMIT $2) b',
			               r.key_column, r.source, r.key_type,
			               vae_report_key_text(r.key_type, 'max(k)'))
			INTO v_hi USING r.watermark, least(v_batch, v_max - v_rows);
			EXIT WHEN v_hi IS NULL;
			-- wait for the writers of the source (subtransaction: the lock goes at once)
			BEGIN
				PERFORM set_config('lock_timeout', v_wait, true);
				EXECUTE format('LOCK TABLE %s IN SHARE MODE', r.source);
				RAISE EXCEPTION USING ERRCODE = 'P0003', MESSAGE = 'vae_report_run: release';
			EXCEPTION WHEN SQLSTATE 'P0003' THEN NULL;
			END;
			BEGIN
				v_n := vae_report_score(r, v_run, v_model, v_version, r.watermark, v_hi);
			EXCEPTION WHEN OTHERS THEN
				-- one statement for the batch failed: find its bad rows by
				-- halves (vae_report_bisect); the keys alone are read first,
				-- so a view column that fails for one row fails that row only
				EXECUTE format('SELECT array_agg(%4$s ORDER BY k) FROM (SELECT DISTINCT s.%1$I AS k FROM %2$s s '
				               'WHERE ($1::%3$s IS NULL OR s.%1$I > $1::%3$s) AND s.%1$I <= $2::%3$s) b',
				               r.key_column, r.source, r.key_type, vae_report_key_text(r.key_type, 'k'))
				INTO v_keys USING r.watermark, v_hi;
				SELECT b.n, b.bad INTO v_n, v_nbad
				FROM vae_report_bisect(r, v_run, v_model, v_version, r.watermark, v_keys) b;
				v_bad := v_bad + v_nbad;
			END;
			v_rows := v_rows + v_n;
			r.watermark := v_hi;
		END LOOP;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS v_msg = MESSAGE_TEXT, v_state = RETURNED_SQLSTATE;
		r.watermark := v_from;
		v_rows := 0;
		v_bad := 0;
		PERFORM vae_report_scratch();
	END;
	v_rows := v_rows - v_bad;		-- rows scored
	SELECT count(*) FILTER (WHERE anomaly),
	       percentile_cont(vae_report_quantile_levels()) WITHIN GROUP (ORDER BY score)
	INTO v_anom, v_q FROM pg_temp.vae_report_scores;
	SELECT s.key, s.score INTO v_wkey, v_wscore FROM pg_temp.vae_report_scores s
	WHERE s.anomaly ORDER BY s.score DESC LIMIT 1;
	INSERT INTO vae_report_history (run, report, started_at, finished_at, model_version, threshold,
	                                watermark_from, watermark_to, rows_scored, anomalies, row_errors,
	                                share_above, score_quantiles, worst_key, worst_score,
	                                error, error_sqlstate)
	VALUES (v_run, r.name, v_started, clock_timestamp(), v_version, v_thr, v_from, r.watermark,
	        v_rows, v_anom, v_bad, CASE WHEN v_rows > 0 THEN v_anom::double precision / v_rows END,
	        v_q, v_wkey, v_wscore, v_msg, v_state);
	UPDATE vae_report_state s
	SET watermark = r.watermark,
	    model_version = coalesce(v_version, s.model_version),
	    runs = s.runs + 1,
	    rows_scored = s.rows_scored + v_rows,
	    anomalies = s.anomalies + v_anom,
	    errors = s.errors + v_bad,
	    last_run_at = v_started,
	    last_error = CASE WHEN v_msg IS NOT NULL THEN v_msg
	                      WHEN v_bad > 0 THEN format('%s row(s) could not be scored in run %s (see vae_report_errors)', v_bad, v_run)
	                      ELSE s.last_error END,
	    last_error_at = CASE WHEN v_msg IS NOT NULL OR v_bad > 0 THEN v_started ELSE s.last_error_at END
	WHERE s.name = r.name;
	IF v_anom > 0 THEN
		PERFORM pg_notify('vae_anomalies', json_build_object(
			'report', r.name, 'run', v_run, 'count', v_anom, 'worst_key', v_wkey,
			'worst_score', v_wscore, 'model_version', v_version)::text);
	END IF;
	IF v_msg IS NOT NULL THEN
		RAISE WARNING 'vae_report_run: report "%" run % failed: %', r.name, v_run, v_msg
			USING DETAIL = format('SQLSTATE %s; nothing was scored, the watermark stays.', v_state);
	END IF;
END
$$;

-- vae_report_runs: the run history, newest last.
CREATE VIEW vae_report_runs AS
SELECT h.report, h.run, h.started_at, h.finished_at, h.finished_at - h.started_at AS duration,
       h.model_version, h.rows_scored, h.anomalies, h.row_errors, h.share_above, h.threshold,
       h.score_quantiles, h.worst_key, h.worst_score, h.watermark_from, h.watermark_to,
       h.error, h.error_sqlstate
FROM vae_report_history h;
-- security_invoker: the caller's row security applies (its own reports)
ALTER VIEW vae_report_runs SET (security_invoker = true);
GRANT SELECT ON vae_report_runs TO PUBLIC;

-- The drift rule, at run `upto` of a report: pool the rows and anomalies of
-- the report's last drift_runs runs up to it (option, default 10) that
-- scored rows with the model version of the last of them; p is Chernoff's
-- bound on the probability of an anomaly share at least that far from the
-- contamination (vae_report_rate_p: the tail on the side of the observed
-- share).  vae_reports flags drift when p < drift_alpha (option, default
-- 0.001); vae_plot_report shades the runs where it did.
CREATE FUNCTION vae_report_drift(report text, upto bigint,
                                 OUT recent_runs bigint, OUT recent_rows bigint,
                                 OUT recent_anomalies bigint, OUT p double precision,
                                 OUT drift boolean)
LANGUAGE sql STABLE
AS $$
	WITH s AS (SELECT * FROM vae_report_state s WHERE s.name = $1),
	v AS (SELECT h.model_version FROM vae_report_history h
	      WHERE h.report = $1 AND h.run <= $2 AND h.error IS NULL AND h.rows_scored > 0
	      ORDER BY h.run DESC LIMIT 1),
	w AS (SELECT h.rows_scored, h.anomalies FROM vae_report_history h
	      WHERE h.report = $1 AND h.run <= $2 AND h.error IS NULL AND h.rows_scored > 0
	        AND h.model_version IS NOT DISTINCT FROM (SELECT model_version FROM v)
	      ORDER BY h.run DESC
	      LIMIT (SELECT coalesce((s.options->>'drift_runs')::integer, 10) FROM s))
	SELECT count(*), coalesce(sum(w.rows_scored), 0)::bigint, coalesce(sum(w.anomalies), 0)::bigint,
	       vae_report_rate_p(coalesce(sum(w.rows_scored), 0)::bigint, coalesce(sum(w.anomalies), 0)::bigint,
	                         (SELECT contamination FROM s)),
	       vae_report_rate_p(coalesce(sum(w.rows_scored), 0)::bigint, coalesce(sum(w.anomalies), 0)::bigint,
	                         (SELECT contamination FROM s))
	         < (SELECT coalesce((s.options->>'drift_alpha')::double precision, 0.001) FROM s)
	FROM w
$$;

-- vae_reports: every report's state at a glance, with the drift rule
-- (vae_report_drift) at its last run.  A share far above the contamination
-- says the recent rows no longer look like the training rows (or a real
-- incident); far below, that the model's threshold no longer fits either.
-- Either is the signal to look, and to vae_report_retrain.
CREATE VIEW vae_reports AS
SELECT s.name, s.model, s.model_version, s.source, s.key_column, s.findings,
       s.contamination, s.schedule, s.job_name, s.watermark, s.runs, s.rows_scored,
       s.anomalies, s.errors, s.last_run_at, s.last_error, s.last_error_at,
       d.recent_runs, d.recent_rows, d.recent_anomalies,
       CASE WHEN d.recent_rows > 0 THEN d.recent_anomalies::double precision / d.recent_rows END
           AS recent_rate,
       d.p AS drift_p, d.drift,
       s.options, s.created_at, s.created_by
FROM vae_report_state s
CROSS JOIN LATERAL vae_report_drift(s.name, (SELECT max(h.run) FROM vae_report_history h
                                            WHERE h.report = s.name)) d;
ALTER VIEW vae_reports SET (security_invoker = true);
GRANT SELECT ON vae_reports TO PUBLIC;

-- vae_plot_report(name): the report's history as an SVG picture
-- (vae_plot_history): rows scored and anomalies per run, the runs where the
-- drift rule flagged shaded.
CREATE FUNCTION vae_plot_report(name text)
RETURNS text LANGUAGE plpgsql STABLE
AS $$
DECLARE
	res text;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM vae_report_state s WHERE s.name = vae_plot_report.name) THEN
		RAISE EXCEPTION 'vae_plot_report: no report named "%"', name USING ERRCODE = 'undefined_object';
	END IF;
	SELECT vae_plot_history(format('vae report %s: rows scored and anomalies per run', vae_plot_report.name),
	                        array_agg(h.started_at ORDER BY h.run),
	                        array_agg(h.rows_scored ORDER BY h.run),
	                        array_agg(h.anomalies ORDER BY h.run),
	                        array_agg(coalesce(d.drift, false) ORDER BY h.run))
	INTO res
	FROM vae_report_history h CROSS JOIN LATERAL vae_report_drift(h.report, h.run) d
	WHERE h.report = vae_plot_report.name;
	RETURN res;
END
$$;

-- vae_report_retrain(name [, source [, options]]): train a candidate on the
-- recent rows of the report's source (or of source: a relation name or a
-- query with the key column), register it, and deploy it only when it is
-- better.  The window is the last `rows` rows by key (option, default
-- 10000; `since`: only keys past it); its oldest (1 - holdout) part trains
-- the candidate (holdout option, default 0.25), on the deployed model's
-- columns, with vae_train options `train` (default {}); its newest part is
-- held out.  Criterion: each model flags the held-out rows at the report's
-- contamination with its own threshold; a model that fits the recent rows
-- flags about that share.  The candidate is deployed when the deployed
-- model's share is implausible under the contamination (Chernoff's bound
-- vae_report_rate_p < alpha, option, default the report's drift_alpha or
-- 0.001: the drift rule of vae_reports) and the candidate's is less so
-- (a larger bound); otherwise the deployed model stays.  Rows listed in
-- vae_report_errors are left out.  The decision is a row of
-- vae_report_retrains, which this returns.
CREATE FUNCTION vae_report_retrain(name text, source text DEFAULT NULL, options jsonb DEFAULT '{}')
RETURNS vae_report_retrains LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	r        vae_report_state;
	v_src    text;
	v_rows   bigint := coalesce((options->>'rows')::bigint, 10000);
	v_hold   double precision := coalesce((options->>'holdout')::double precision, 0.25);
	v_alpha  double precision;
	v_train  jsonb := coalesce(options->'train', '{}');
	v_m0     bytea;
	v_v0     integer;
	v_m1     bytea;
	v_v1     integer;
	v_cols   text;
	v_n      bigint;
	n_train  bigint;
	n_hold   bigint;
	k0       bigint;
	k1       bigint;
	p0       double precision;
	p1       double precision;
	v_dec    text;
	v_why    text;
	k        text;
	result   vae_report_retrains;
BEGIN
	FOR k IN SELECT jsonb_object_keys(coalesce(options, '{}')) LOOP
		IF k NOT IN ('rows', 'holdout', 'since', 'train', 'alpha') THEN
			RAISE EXCEPTION 'vae_report_retrain: unknown option "%"', k
				USING ERRCODE = 'invalid_parameter_value',
				      HINT = 'Options: rows, holdout, since, train, alpha.';
		END IF;
	END LOOP;
	IF NOT (v_hold > 0 AND v_hold < 1) OR v_rows < 2 THEN
		RAISE EXCEPTION 'vae_report_retrain: holdout must be in (0, 1) and rows at least 2'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM vae_report_path();
	PERFORM pg_advisory_xact_lock(hashtextextended('vae_report_retrain:' || name, 0::bigint));
	SELECT * INTO r FROM vae_report_state s WHERE s.name = vae_report_retrain.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'vae_report_retrain: no report named "%"', name USING ERRCODE = 'undefined_object';
	END IF;
	PERFORM vae_report_check_owner(r, 'vae_report_retrain');
	r := vae_report_checked(r);
	v_alpha := coalesce((options->>'alpha')::double precision,
	                    (r.options->>'drift_alpha')::double precision, 0.001);
	IF source IS NULL THEN
		v_src := r.source;
	ELSIF source ~* '^\s*(select|with|values|table)\M' THEN
		v_src := '(' || source || ')';		-- a query
	ELSE
		v_src := source::regclass::text;	-- a relation: ERROR 42P01 if there is none
	END IF;
	v_m0 := vae_model(r.model);
	SELECT g.version INTO v_v0 FROM vae_model_registry g WHERE g.name = r.model AND g.state = 'deployed';
	SELECT string_agg(DISTINCT quote_ident(c->>'attribute'), ', ') INTO v_cols
	FROM jsonb_array_elements(vae_model_info(v_m0)->'columns') c;
	IF v_cols IS NULL THEN
		RAISE EXCEPTION 'vae_report_retrain: the deployed model of "%" is not a row model', r.model
			USING ERRCODE = 'wrong_object_type';
	END IF;
	IF to_regclass('pg_temp.vae_retrain_window') IS NOT NULL THEN
		DROP TABLE pg_temp.vae_retrain_window;
	END IF;
	EXECUTE format($q$
		CREATE TEMP TABLE vae_retrain_window ON COMMIT DROP AS
		SELECT row_number() OVER (ORDER BY vae_k) AS vae_i, w.*
		FROM (SELECT s.%1$I AS vae_k, %2$s FROM %3$s s
		      WHERE ($1::%4$s IS NULL OR s.%1$I > $1::%4$s)
		        AND %5$s NOT IN (SELECT e.key FROM vae_report_errors e WHERE e.report = $2)
		      ORDER BY s.%1$I DESC LIMIT $3) w$q$,
		r.key_column, (SELECT string_agg('s.' || c, ', ') FROM unnest(string_to_array(v_cols, ', ')) c),
		v_src, r.key_type, vae_report_key_text(r.key_type, format('s.%I', r.key_column)))
	USING options->>'since', r.name, v_rows;
	SELECT count(*) INTO v_n FROM pg_temp.vae_retrain_window;
	n_hold := floor(v_n * v_hold);
	n_train := v_n - n_hold;
	IF n_hold < 1 OR n_train < 2 THEN
		RAISE EXCEPTION 'vae_report_retrain: the window holds % rows, too few to train and compare', v_n
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	EXECUTE format('SELECT vae_train(t, $2) FROM (SELECT %s FROM pg_temp.vae_retrain_window WHERE vae_i <= $1) t', v_cols)
	INTO v_m1 USING n_train, v_train;
	v_v1 := vae_register(r.model, v_m1,
	                     format('vae_report_retrain of report %s: %s rows of %s', r.name, n_train, v_src));
	EXECUTE format('SELECT count(*) FILTER (WHERE (vae_detect($2, t, $4)).is_anomaly), '
	               'count(*) FILTER (WHERE (vae_detect($3, t, $4)).is_anomaly) '
	               'FROM (SELECT %s FROM pg_temp.vae_retrain_window WHERE vae_i > $1) t', v_cols)
	INTO k0, k1 USING n_train, v_m0, v_m1, r.contamination;
	p0 := vae_report_rate_p(n_hold, k0, r.contamination);
	p1 := vae_report_rate_p(n_hold, k1, r.contamination);
	IF p0 < v_alpha AND p1 > p0 THEN
		v_dec := 'deployed';
		v_why := format('the deployed version %s flags %s of %s held-out rows (p %s < %s under contamination %s); the candidate flags %s (p %s)',
		                v_v0, k0, n_hold, p0, v_alpha, r.contamination, k1, p1);
		PERFORM vae_deploy(r.model, v_v1);
	ELSE
		v_dec := 'kept';
		v_why := CASE WHEN p0 >= v_alpha
		              THEN format('the deployed version %s still fits: it flags %s of %s held-out rows (p %s >= %s under contamination %s)',
		                          v_v0, k0, n_hold, p0, v_alpha, r.contamination)
		              ELSE format('the candidate fits no better: it flags %s of %s held-out rows (p %s), the deployed version %s flags %s (p %s)',
		                          k1, n_hold, p1, v_v0, k0, p0) END;
	END IF;
	INSERT INTO vae_report_retrains (report, source, train_rows, holdout_rows, deployed_version,
	                                 candidate_version, contamination, deployed_rate, candidate_rate,
	                                 deployed_p, candidate_p, decision, reason)
	VALUES (r.name, v_src, n_train, n_hold, v_v0, v_v1, r.contamination,
	        k0::double precision / n_hold, k1::double precision / n_hold, p0, p1, v_dec, v_why)
	RETURNING * INTO result;
	DROP TABLE pg_temp.vae_retrain_window;
	RETURN result;
END
$$;

-- vae_report_retrain_schedule(name, schedule [, source [, options]]):
-- run vae_report_retrain on a pg_cron schedule (job 'vae_retrain:NAME',
-- unscheduled by vae_report_drop); returns the job id.
CREATE FUNCTION vae_report_retrain_schedule(name text, schedule text, source text DEFAULT NULL,
                                            options jsonb DEFAULT '{}')
RETURNS bigint LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	job bigint;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM vae_report_state s WHERE s.name = vae_report_retrain_schedule.name) THEN
		RAISE EXCEPTION 'vae_report_retrain_schedule: no report named "%"', name USING ERRCODE = 'undefined_object';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
		RAISE EXCEPTION 'vae_report_retrain_schedule: a schedule needs the pg_cron extension in this database'
			USING ERRCODE = 'feature_not_supported';
	END IF;
	EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job USING 'vae_retrain:' || name, schedule,
		format('SELECT %I.vae_report_retrain(%L, %L, %L)', vae_report_schema(), name, source, options);
	RETURN job;
END
$$;
-- end of: scheduled anomaly reports
-- Ensembles (option "ensemble", docs/detect.md): one network of a model
-- value as a model of its own (1-based; a single network is its member 1)
-- ---------------------------------------------------------------------------
CREATE FUNCTION vae_model_member(model bytea, member integer)
RETURNS bytea AS 'MODULE_PATHNAME', 'vae_model_member'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
