--
-- vae_options: every vae_train option is accepted, resolved and reflected in
-- vae_model_info; bad options are errors that say what is wrong.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vae;
RESET client_min_messages;
\set VERBOSITY default

CREATE TABLE opt_data AS
SELECT i, ARRAY[sin(i * 0.3), cos(i * 0.3), sin(i * 0.6)]::real[] AS f
FROM generate_series(1, 64) AS i;
CREATE TABLE opt_unit AS
SELECT i, ARRAY[(1 + sin(i * 0.3)) / 2, (1 + cos(i * 0.3)) / 2, (i % 2)::float8]::real[] AS f
FROM generate_series(1, 64) AS i;

-- vae_model_info of a model trained on opt_data (or opt_unit) with options
CREATE FUNCTION pg_temp.info(opts jsonb) RETURNS jsonb LANGUAGE sql AS
$$ SELECT vae_model_info(vae_train(f, opts)) FROM opt_data $$;
CREATE FUNCTION pg_temp.info_unit(opts jsonb) RETURNS jsonb LANGUAGE sql AS
$$ SELECT vae_model_info(vae_train(f, opts)) FROM opt_unit $$;
-- SQLSTATE and message of the error training with opts raises, or 'ok'
CREATE FUNCTION pg_temp.train_error(opts jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	PERFORM vae_train(f, opts) FROM opt_data;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- hidden: none, one, two layers; the parameter count follows the layout
-- (3 features, latent 2, gaussian: [] 34, [4] 78, [8,4] 194)
SELECT opts, i->'hidden' AS hidden, i->'options'->'hidden' AS opt_hidden, i->'parameters' AS parameters
FROM (VALUES ('{"hidden": [], "epochs": 2}'), ('{"hidden": [4], "epochs": 2}'),
             ('{"hidden": [8, 4], "epochs": 2}')) v(opts),
     pg_temp.info(opts::jsonb) i;

-- latent_dim: vae_encode returns that many values
SELECT i->'latent_dim' AS latent_dim, array_length(vae_encode(m, '{0,1,0}'::real[]), 1) AS encode_len
FROM (SELECT vae_train(f, '{"latent_dim": 3, "epochs": 2}') AS m FROM opt_data) s,
     vae_model_info(m) i;

-- likelihood, activation, normalize
SELECT opts, i->>'likelihood' AS likelihood, i->>'activation' AS activation, i->>'normalize' AS normalize
FROM (VALUES ('{"likelihood": "gaussian", "epochs": 2}'), ('{"activation": "relu", "epochs": 2}'),
             ('{"activation": "tanh", "epochs": 2}'), ('{"normalize": "standard", "epochs": 2}'),
             ('{"normalize": "minmax", "epochs": 2}'), ('{"normalize": "none", "epochs": 2}')) v(opts),
     pg_temp.info(opts::jsonb) i;
SELECT opts, i->>'likelihood' AS likelihood, i->>'normalize' AS normalize, i->'parameters' AS parameters
FROM (VALUES ('{"likelihood": "bernoulli", "epochs": 2}'),
             ('{"likelihood": "bernoulli", "normalize": "none", "epochs": 2}')) v(opts),
     pg_temp.info_unit(opts::jsonb) i;
-- minmax maps the training range onto [0, 1], so a bernoulli model can be
-- trained on data in [-1, 1] and scores those rows, but not a row beyond
-- the training maximum
CREATE TABLE opt_bern_minmax AS
SELECT vae_train(f, '{"ensemble": 1, "likelihood": "bernoulli", "normalize": "minmax", "epochs": 2}') AS m FROM opt_data;
SELECT bool_and(vae_score(m, f) >= 0) AS training_rows_score FROM opt_bern_minmax, opt_data;
SELECT vae_score(m, '{0,2,0}'::real[]) FROM opt_bern_minmax;

-- epochs: one loss per epoch; batch_size larger than the data is clamped;
-- batch_size 1 works
SELECT opts, i->'epochs' AS epochs, jsonb_array_length(i->'train_loss') AS n_losses,
       i->'options'->'batch_size' AS batch_size
FROM (VALUES ('{"epochs": 7}'), ('{"epochs": 3, "batch_size": 65536}'),
             ('{"epochs": 1, "batch_size": 1}')) v(opts),
     pg_temp.info(opts::jsonb) i;

-- real-valued options are stored as given
SELECT opts, (i->'options'->>'learning_rate')::float8 AS learning_rate, (i->'options'->>'beta')::float8 AS beta,
       (i->'options'->>'weight_decay')::float8 AS weight_decay
FROM (VALUES ('{"learning_rate": 0.05, "epochs": 2}'), ('{"learning_rate": 10, "beta": 0, "epochs": 1}'),
             ('{"beta": 0.5, "epochs": 2}'), ('{"beta": 1000000, "epochs": 1}'),
             ('{"weight_decay": 0.1, "epochs": 2}'), ('{"weight_decay": 1, "epochs": 1}')) v(opts),
     pg_temp.info(opts::jsonb) i;
-- beta matters: the loss it weights changes
SELECT (pg_temp.info('{"beta": 0.5, "epochs": 2}')->'train_loss')
    <> (pg_temp.info('{"beta": 2, "epochs": 2}')->'train_loss') AS beta_changes_loss;

-- every option is used: changing any one of them changes the model (its
-- scores of a few rows), compared with the same training without it
CREATE FUNCTION pg_temp.scores(opts jsonb) RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(vae_score(m, f, 'elbo')::text, ',' ORDER BY i)
	FROM (SELECT vae_train(f, opts) AS m FROM opt_data) s, opt_data WHERE i <= 5
$$;
SELECT opt, pg_temp.scores('{"epochs": 3}'::jsonb || opt::jsonb) <> pg_temp.scores('{"epochs": 3}') AS changes_model
FROM (VALUES ('{"hidden": [6]}'), ('{"latent_dim": 3}'), ('{"activation": "tanh"}'),
             ('{"normalize": "minmax"}'), ('{"epochs": 4}'), ('{"batch_size": 16}'),
             ('{"learning_rate": 0.01}'), ('{"beta": 0.5}'), ('{"weight_decay": 0.5}'),
             ('{"seed": 1}'), ('{"validation_fraction": 0.2}'), ('{"max_rows": 60}'),
             ('{"mc_samples": 5}')) v(opt);
-- and options that make no difference do not change it: verbose, device,
-- any option at its default value (weight_decay: 0.3 without a validation
-- set), max_rows at the row count, patience
-- without a validation set
SELECT opt, pg_temp.scores('{"epochs": 3}'::jsonb || opt::jsonb) = pg_temp.scores('{"epochs": 3}') AS same_model
FROM (VALUES ('{"verbose": false}'), ('{"device": "cpu"}'), ('{"device": "auto"}'), ('{"seed": 0}'),
             ('{"hidden": [8], "latent_dim": 2, "activation": "relu", "normalize": "standard"}'),
             ('{"batch_size": 128, "learning_rate": 0.001, "beta": 1, "weight_decay": 0.3}'),
             ('{"validation_fraction": 0, "patience": 0, "max_rows": 0, "mc_samples": 10}'),
             ('{"max_rows": 64}'), ('{"patience": 5}')) v(opt);
SET client_min_messages = warning;
SELECT pg_temp.scores('{"epochs": 3, "verbose": true}') = pg_temp.scores('{"epochs": 3}') AS verbose_same_model;
RESET client_min_messages;

-- seed, up to 2^53 - 1
SELECT opts, i->'seed' AS seed, i->'options'->'seed' AS opt_seed
FROM (VALUES ('{"epochs": 1}'), ('{"seed": 42, "epochs": 1}'),
             ('{"seed": 9007199254740991, "epochs": 1}')) v(opts),
     pg_temp.info(opts::jsonb) i;

-- validation_fraction: validation losses are numbers; the default patience
-- is 10 with a validation set and 0 (off) without
SELECT opts, (i->'options'->>'validation_fraction')::float8 AS validation_fraction,
       i->'options'->'patience' AS patience,
       (SELECT bool_and(jsonb_typeof(v) = 'number') FROM jsonb_array_elements(i->'val_loss') v) AS val_loss_numbers,
       (SELECT bool_and(jsonb_typeof(v) = 'null') FROM jsonb_array_elements(i->'val_loss') v) AS val_loss_null
FROM (VALUES ('{"validation_fraction": 0.25, "epochs": 3}'), ('{"validation_fraction": 0.9, "epochs": 3}'),
             ('{"validation_fraction": 0, "epochs": 3}')) v(opts),
     pg_temp.info(opts::jsonb) i;
-- patience: training stops once the validation loss has not improved for
-- that many epochs; the weights kept are those of the best epoch
SELECT i->'options'->'patience' AS patience,
       (i->>'epochs')::int < 200 AS stopped_early,
       (i->>'epochs')::int = 200 OR (i->>'epochs')::int = (i->>'best_epoch')::int + 2 AS stopped_by_patience,
       (i->'val_loss'->>((i->>'best_epoch')::int - 1))::float8
         = (SELECT min(v::text::float8) FROM jsonb_array_elements(i->'val_loss') v) AS best_epoch_has_min_val_loss
FROM pg_temp.info('{"validation_fraction": 0.25, "patience": 2, "epochs": 200, "learning_rate": 0.05}') i;

-- max_rows caps the training rows (a seeded sample); above the row count or
-- 0 it changes nothing
SELECT opts, i->'rows' AS rows, i->'score_sample' AS score_sample, i->'options'->'max_rows' AS max_rows
FROM (VALUES ('{"max_rows": 50, "epochs": 1}'), ('{"max_rows": 2, "epochs": 1}'),
             ('{"max_rows": 1000, "epochs": 1}'), ('{"max_rows": 0, "epochs": 1}')) v(opts),
     pg_temp.info(opts::jsonb) i;
-- the largest bigint is a valid cap too
SELECT i->'rows' AS rows, i->'options'->'max_rows' AS max_rows
FROM pg_temp.info('{"max_rows": 9223372036854775807, "epochs": 1}') i;

-- mc_samples
SELECT opts, i->'options'->'mc_samples' AS mc_samples
FROM (VALUES ('{"mc_samples": 1, "epochs": 1}'), ('{"mc_samples": 3, "epochs": 1}'),
             ('{"mc_samples": 1024, "epochs": 1}')) v(opts),
     pg_temp.info(opts::jsonb) i;

-- verbose: a NOTICE per epoch (losses and timings vary, so not shown here)
SET client_min_messages = warning;
SELECT i->'options'->'verbose' AS verbose, i->'epochs' AS epochs
FROM pg_temp.info('{"verbose": true, "epochs": 3, "validation_fraction": 0.25}') i;
RESET client_min_messages;
SELECT pg_temp.info('{"verbose": false, "epochs": 1}')->'options'->'verbose' AS verbose;

-- device: with no GPU worker configured, 'cpu' and 'auto' (the default)
-- train on the CPU; the request is kept in options
SELECT opts, i->'device' AS trained_on, i->'options'->'device' AS requested
FROM (VALUES ('{"device": "cpu", "epochs": 1}'), ('{"device": "auto", "epochs": 1}'),
             ('{"epochs": 1}')) v(opts),
     pg_temp.info(opts::jsonb) i;

-- vae_model_info without the training times (the model's and, in an
-- ensemble, each member's)
CREATE FUNCTION pg_temp.info_but_time(m bytea) RETURNS jsonb LANGUAGE sql AS $$
	SELECT CASE WHEN i ? 'members'
	            THEN jsonb_set(i, '{members}', (SELECT jsonb_agg(e - 'train_seconds')
	                                            FROM jsonb_array_elements(i->'members') e))
	            ELSE i END
	FROM (SELECT vae_model_info(m) - 'train_seconds' AS i) s
$$;
-- NULL options and {} mean all defaults
SELECT (SELECT pg_temp.info_but_time(vae_train(f, NULL::jsonb)) FROM opt_data)
     = (SELECT pg_temp.info_but_time(vae_train(f)) FROM opt_data) AS null_is_default,
       (SELECT pg_temp.info_but_time(vae_train(f, '{}')) FROM opt_data)
     = (SELECT pg_temp.info_but_time(vae_train(f)) FROM opt_data) AS empty_is_default;

-- the options object of vae_model_info is in the form vae_train accepts:
-- training again with it on the same rows gives the same model
WITH a AS (SELECT vae_train(f, '{"hidden": [5], "latent_dim": 1, "activation": "tanh", "epochs": 4, "seed": 5,
                                 "validation_fraction": 0.2, "beta": 0.7, "mc_samples": 4}') AS m FROM opt_data),
     b AS (SELECT vae_train(f, (SELECT vae_model_info(m)->'options' FROM a)) AS m FROM opt_data)
SELECT pg_temp.info_but_time(a.m) = pg_temp.info_but_time(b.m) AS same_info,
       (SELECT bool_and(vae_score(a.m, f) = vae_score(b.m, f)) FROM opt_data) AS same_scores
FROM a, b;

-- the same options on every row, written in any key order, are fine
SELECT vae_model_info(vae_train(f, CASE WHEN i % 2 = 0 THEN '{"seed": 1, "epochs": 2}'::jsonb
                                        ELSE '{"epochs": 2, "seed": 1}'::jsonb END))->'seed' AS seed
FROM opt_data;

--
-- Errors
--
-- unknown key: names it and lists the valid ones
SELECT vae_train(f, '{"epoch": 5}') FROM opt_data;
-- options not an object
SELECT vae_train(f, '[{"epochs": 5}]') FROM opt_data;
SELECT vae_train(f, 'null') FROM opt_data;
-- options differing between rows
SELECT vae_train(f, jsonb_build_object('seed', i % 2)) FROM opt_data;
SELECT vae_train(f, CASE WHEN i = 10 THEN NULL ELSE '{"epochs": 2}'::jsonb END) FROM opt_data;
-- 'gpu' needs a GPU worker, and none is configured here (sql/vae_gpu.sql)
SELECT vae_train(f, '{"device": "gpu"}') FROM opt_data;

-- every bad value, with its SQLSTATE
SELECT opts, pg_temp.train_error(opts::jsonb) AS error
FROM (VALUES
	-- wrong type
	('{"epochs": "5"}'), ('{"latent_dim": true}'), ('{"learning_rate": "0.01"}'), ('{"seed": null}'),
	('{"verbose": 1}'), ('{"verbose": "yes"}'), ('{"likelihood": 1}'), ('{"device": ["cpu"]}'),
	-- not one of the choices
	('{"likelihood": "poisson"}'), ('{"activation": "sigmoid"}'), ('{"normalize": "zscore"}'),
	('{"device": "tpu"}'), ('{"likelihood": "Gaussian"}'),
	-- out of range or not an integer
	('{"epochs": 0}'), ('{"epochs": 100001}'), ('{"epochs": 2.5}'),
	('{"latent_dim": 0}'), ('{"latent_dim": 4097}'),
	('{"batch_size": 0}'), ('{"batch_size": 65537}'),
	('{"learning_rate": 0}'), ('{"learning_rate": -0.1}'), ('{"learning_rate": 10.5}'),
	('{"beta": -1}'), ('{"beta": 1000001}'),
	('{"weight_decay": -0.1}'), ('{"weight_decay": 1.5}'),
	('{"seed": -1}'), ('{"seed": 9007199254740992}'), ('{"seed": 1.5}'),
	('{"validation_fraction": -0.1}'), ('{"validation_fraction": 0.95}'),
	('{"patience": -1}'), ('{"patience": 100001}'),
	('{"max_rows": -1}'), ('{"max_rows": 1}'), ('{"max_rows": 9223372036854775808}'),
	('{"mc_samples": 0}'), ('{"mc_samples": 1025}'),
	-- hidden not an array of integers
	('{"hidden": 8}'), ('{"hidden": "8"}'), ('{"hidden": {"a": 8}}'), ('{"hidden": [8, 2.5]}'),
	('{"hidden": ["8"]}'), ('{"hidden": [null]}'), ('{"hidden": [[8]]}'), ('{"hidden": [0]}'),
	('{"hidden": [4097]}'), ('{"hidden": [1, 1, 1, 1, 1, 1, 1, 1, 1]}'),
	-- not an object
	('[]'), ('5'), ('"epochs"'), ('true'),
	-- several problems: the first key (in jsonb order) is reported
	('{"zzz": 1, "epochs": 0}'),
	-- gpu
	('{"device": "gpu"}')
) v(opts);

-- hidden with 8 layers (the maximum) is fine
SELECT pg_temp.info('{"hidden": [2, 2, 2, 2, 2, 2, 2, 2], "epochs": 1}')->'hidden' AS hidden;

--
-- One option table: vae_options() lists what the parser checks
--
SELECT name, type, default_rule, min_value, max_value, allowed, accepts FROM vae_options();
-- every key vae_model_info reports is a row of vae_options(), and back,
-- apart from the options of training on rows (kept in a row model's schema)
SELECT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(pg_temp.info('{"epochs": 1}')->'options') k)
     = (SELECT array_agg(name ORDER BY name) FROM vae_options()
        WHERE description NOT LIKE 'rows only:%') AS info_keys_are_the_table;
-- each range's ends are accepted, and one step beyond them is not
SELECT opts, pg_temp.train_error(opts::jsonb) AS error
FROM (VALUES
	('{"batch_size": 65536, "epochs": 1}'), ('{"validation_fraction": 0.9, "epochs": 1}'),
	('{"validation_fraction": 0.9000000000000001}'), ('{"beta": 1000000, "epochs": 1}'),
	('{"beta": 1000000.0000000001}'), ('{"learning_rate": 1e-300, "epochs": 1}'),
	('{"learning_rate": 1e-400}'), ('{"learning_rate": 10.000000000000002}'),
	('{"weight_decay": 1.0000000000000002}'), ('{"beta": 1e400}'),
	('{"seed": 9007199254740991, "epochs": 1}'), ('{"max_rows": 2, "epochs": 1}'),
	('{"patience": 100000, "epochs": 1}'), ('{"hidden": [4096], "latent_dim": 1, "epochs": 1}')
) v(opts);

--
-- Errors quote at most a short prefix of what the user wrote
--
-- a 10,000-byte unknown key: 64 bytes of it, then "..."
SELECT vae_train(f, jsonb_build_object(repeat('k', 10000), 1)) FROM opt_data;
-- multibyte text is cut on a character boundary: 'a' and 31 two-byte 'é'
-- are 63 bytes, and a 32nd would need 65
SELECT pg_temp.train_error(jsonb_build_object('a' || repeat('é', 100), 1)) AS error;
-- a short unknown key is quoted whole
SELECT pg_temp.train_error('{"epoch": 5}') AS error;
-- an option string value is never echoed, however long
SELECT pg_temp.train_error(jsonb_build_object('likelihood', repeat('x', 10000))) AS error;
-- a long scoring method name
CREATE TABLE opt_model AS SELECT vae_train(f, '{"epochs": 1}') AS m FROM opt_data;
SELECT vae_score(m, '{0,1,0}'::real[], repeat('m', 10000)) FROM opt_model;
SELECT vae_threshold(m, 0.1, repeat('t', 70)) FROM opt_model;
-- exactly 64 bytes: quoted whole
SELECT vae_threshold(m, 0.1, repeat('t', 64)) FROM opt_model;
-- a range error shows the digits that make the value wrong
SELECT vae_threshold(m, 1.0000000001) FROM opt_model;
SELECT vae_threshold(m, -1e-300) FROM opt_model;
SELECT vae_threshold(m, 'Infinity') FROM opt_model;

--
-- Upgrade from 1.0 (in a database of its own, since other tests' objects
-- depend on this one's extension): the same objects plus vae_options()
--
SELECT current_database() AS regress_db \gset
SET client_min_messages = warning;
DROP DATABASE IF EXISTS vae_upgrade_check;
CREATE DATABASE vae_upgrade_check;
\c vae_upgrade_check
SET client_min_messages = warning;
CREATE EXTENSION vae VERSION '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'vae';
SELECT count(*) FROM pg_proc WHERE proname = 'vae_options';
ALTER EXTENSION vae UPDATE TO '1.1';
SELECT extversion FROM pg_extension WHERE extname = 'vae';
SELECT count(*) AS options FROM vae_options();
-- the extension's functions, by signature and definition
CREATE FUNCTION pg_temp.vae_objects() RETURNS text LANGUAGE sql AS $$
	SELECT md5(string_agg(p.oid::regprocedure::text || ' ' || pg_get_functiondef(p.oid), E'\n'
	                      ORDER BY p.oid::regprocedure::text))
	FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
	JOIN pg_extension e ON d.refobjid = e.oid
	WHERE e.extname = 'vae' AND p.prokind <> 'a'
$$;
SELECT pg_temp.vae_objects() AS upgraded \gset
-- a fresh CREATE EXTENSION installs 1.1 directly, with the same functions
DROP EXTENSION vae;
CREATE EXTENSION vae;
SELECT extversion FROM pg_extension WHERE extname = 'vae';
SELECT count(*) AS options FROM vae_options();
SELECT pg_temp.vae_objects() = :'upgraded' AS fresh_equals_upgraded;
\c :regress_db
SET client_min_messages = warning;
DROP DATABASE vae_upgrade_check;
RESET client_min_messages;
