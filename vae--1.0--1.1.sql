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

-- vae_threshold(model): the automatic cut of the default method (recon_prob)
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
-- training scores (recon_prob) with the threshold vae_threshold(model
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
-- Detection in one call (docs/scoring.md, "Detection in one call"): the score, the
-- threshold, the verdict, the score's percentile among the training rows
-- and the most contributing columns, per row or over a relation or query.
-- ---------------------------------------------------------------------------
CREATE TYPE vae_detection AS (
	score double precision,		-- vae_score(model, r): recon_prob
	threshold double precision,	-- vae_threshold(model, contamination), or vae_threshold(model)
	is_anomaly boolean,			-- score > threshold
	percentile double precision,	-- share of the stored training scores below score
	top jsonb					-- the most contributing columns, largest first
);

-- Not STRICT: a NULL contamination means the automatic threshold (a NULL
-- model or row still gives NULL).  IMMUTABLE: the result depends on the
-- arguments alone, as vae_score's does.
CREATE FUNCTION vae_detect(model bytea, r record, contamination double precision DEFAULT NULL,
                           top_columns integer DEFAULT 3)
RETURNS vae_detection AS 'MODULE_PATHNAME', 'vae_detect_row'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION vae_detect(model bytea, features anyarray,
                           contamination double precision DEFAULT NULL,
                           top_columns integer DEFAULT 3)
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
                           anomalies_only boolean DEFAULT false, top_columns integer DEFAULT 3)
RETURNS TABLE(row_number bigint, score double precision, threshold double precision,
              is_anomaly boolean, percentile double precision, top jsonb, row_data jsonb)
AS 'MODULE_PATHNAME', 'vae_detect_source'
LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 1000;

CREATE FUNCTION vae_detect(model bytea, query text,
                           contamination double precision DEFAULT NULL,
                           anomalies_only boolean DEFAULT false, top_columns integer DEFAULT 3)
RETURNS TABLE(row_number bigint, score double precision, threshold double precision,
              is_anomaly boolean, percentile double precision, top jsonb, row_data jsonb)
AS 'MODULE_PATHNAME', 'vae_detect_source'
LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 1000;

-- vae_detect by a registered model's name (Named models): the same C
-- functions, the name looked up once per query; STABLE, as every name form.
CREATE FUNCTION vae_detect(model text, r record, contamination double precision DEFAULT NULL,
                           top_columns integer DEFAULT 3)
RETURNS vae_detection AS 'MODULE_PATHNAME', 'vae_detect_row'
LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION vae_detect(model text, features anyarray,
                           contamination double precision DEFAULT NULL,
                           top_columns integer DEFAULT 3)
RETURNS vae_detection AS 'MODULE_PATHNAME', 'vae_detect_row'
LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION vae_detect(model text, source regclass,
                           contamination double precision DEFAULT NULL,
                           anomalies_only boolean DEFAULT false, top_columns integer DEFAULT 3)
RETURNS TABLE(row_number bigint, score double precision, threshold double precision,
              is_anomaly boolean, percentile double precision, top jsonb, row_data jsonb)
AS 'MODULE_PATHNAME', 'vae_detect_source'
LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 1000;

CREATE FUNCTION vae_detect(model text, query text,
                           contamination double precision DEFAULT NULL,
                           anomalies_only boolean DEFAULT false, top_columns integer DEFAULT 3)
RETURNS TABLE(row_number bigint, score double precision, threshold double precision,
              is_anomaly boolean, percentile double precision, top jsonb, row_data jsonb)
AS 'MODULE_PATHNAME', 'vae_detect_source'
LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 1000;
