--
-- vae_limits: limits are checked before the work, every score is a number,
-- and vae_generate has a bound.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vae;
RESET client_min_messages;
\set VERBOSITY default

--
-- A model that cannot be stored is refused at the first row: 16,384
-- features, hidden [4096, 4096], latent 4096 is 1.1 GB of weights (this
-- used to train for 13 s and 5.6 GB before failing).  The message says
-- what would fit.
--
-- The error q raises: SQLSTATE and message (byte counts masked: they move
-- with the model format's header), whether it came quickly, detail, hint.
CREATE FUNCTION pg_temp.limit_err(q text) RETURNS TABLE(error text, detail text, hint text)
LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz := clock_timestamp();
	d text;
	h text;
BEGIN
	EXECUTE q;
	RETURN QUERY SELECT 'no error', NULL::text, NULL::text;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
	RETURN QUERY SELECT SQLSTATE || ': ' || regexp_replace(SQLERRM, '[0-9]{6,} bytes', 'N bytes', 'g') ||
		CASE WHEN clock_timestamp() - t0 < interval '3 s' THEN ' (within 3 s)' ELSE ' (too late)' END,
		regexp_replace(d, '[0-9]{6,} parameters', 'N parameters', 'g'), h;
END $$;
\x on
SELECT * FROM pg_temp.limit_err($$SELECT vae_train(f, '{"ensemble": 1, "hidden": [4096, 4096], "latent_dim": 4096}')
	FROM (SELECT array_fill(0.5::real, ARRAY[16384]) AS f FROM generate_series(1, 3)) s$$);
-- the default history (up to 100 epochs) counts too
SELECT * FROM pg_temp.limit_err($$SELECT vae_train(f, '{"ensemble": 1, "hidden": [4096, 4096, 4096], "latent_dim": 2}')
	FROM (SELECT array_fill(0.5::real, ARRAY[16384]) AS f FROM generate_series(1, 3)) s$$);
\x off
-- the width the hint names passes the check: the second row's NULL element
-- is then the first error
SELECT error FROM pg_temp.limit_err($$SELECT vae_train(f, '{"ensemble": 1, "hidden": [3906, 3906], "latent_dim": 3906}')
	FROM (VALUES (array_fill(0.5::real, ARRAY[16384])),
	             (array_fill(NULL::real, ARRAY[16384]))) v(f)$$);
SELECT error FROM pg_temp.limit_err($$SELECT vae_train(f, '{"ensemble": 1, "hidden": [3907, 3907], "latent_dim": 3907}')
	FROM (VALUES (array_fill(0.5::real, ARRAY[16384])),
	             (array_fill(NULL::real, ARRAY[16384]))) v(f)$$);

-- an ensemble holds every member: the network that fits alone, twice, does not
SELECT error, hint FROM pg_temp.limit_err($$SELECT vae_train(f, '{"hidden": [3906, 3906], "latent_dim": 3906, "ensemble": 2}')
	FROM (SELECT array_fill(0.5::real, ARRAY[16384]) AS f FROM generate_series(1, 3)) s$$);

--
-- Scores: an overflowing score is +Infinity, never NaN, for every method,
-- and far rows score at least as high as near ones.
--
CREATE TABLE lim_data AS
SELECT i, ARRAY(SELECT (3 * sin(i * 0.37 + j * 1.3))::real FROM generate_series(1, 8) AS j) AS f
FROM generate_series(1, 400) AS i;
CREATE TABLE lim_model AS SELECT vae_train(f, '{"epochs": 5}') AS m FROM lim_data;
CREATE TABLE lim_far AS
SELECT v, ARRAY[v, 0, 0, 0, 0, 0, 0, 0]::real[] AS f
FROM unnest(ARRAY[1, 1e3, 1e9, 1e18, 1e30, 3e38]::real[]) AS v;
SELECT meth, count(*) AS rows,
       count(*) FILTER (WHERE s = 'NaN') AS nan,
       count(*) FILTER (WHERE s = 'Infinity') > 0 AS some_infinite,
       bool_and(s >= prev) AS never_decreasing
FROM (SELECT meth, v, s, coalesce(lag(s) OVER (PARTITION BY meth ORDER BY v), '-Infinity') AS prev
      FROM (SELECT meth, v, vae_score(m, f, meth) AS s
            FROM lim_model, lim_far, unnest(ARRAY['recon_prob', 'elbo', 'mse']) AS meth) a) b
GROUP BY meth ORDER BY meth;
-- the reported case: recon_prob at 1e18 in one of 8 features
SELECT meth, vae_score(m, ARRAY[1e18, 0, 0, 0, 0, 0, 0, 0]::real[], meth) = 'NaN' AS nan,
       vae_score(m, ARRAY[1e18, 0, 0, 0, 0, 0, 0, 0]::real[], meth) > vae_threshold(m, 0, meth)
         AS above_every_training_row
FROM lim_model, unnest(ARRAY['recon_prob', 'elbo', 'mse']) AS meth;
-- explanations: contributions overflow to Infinity like scores, never NaN
SELECT count(*) FILTER (WHERE e.contribution = 'NaN') AS nan_contributions
FROM lim_model, lim_far, vae_explain(m, f) e;

--
-- vae_generate: n is bounded by vae.max_generate_rows (default 1,000,000),
-- so that a huge n in FROM (where every row is made before LIMIT applies)
-- answers at once instead of filling the disk.
--
SELECT * FROM vae_generate((SELECT m FROM lim_model), 2147483647) LIMIT 3;
SELECT error FROM pg_temp.limit_err($$SELECT * FROM vae_generate((SELECT m FROM lim_model), 2147483647) LIMIT 3$$);
SHOW vae.max_generate_rows;
SET vae.max_generate_rows = 5;
SELECT count(*) FROM vae_generate((SELECT m FROM lim_model), 5);
SELECT error FROM pg_temp.limit_err($$SELECT count(*) FROM vae_generate((SELECT m FROM lim_model), 6)$$);
RESET vae.max_generate_rows;
SELECT count(*) FROM vae_generate((SELECT m FROM lim_model), 1000);

--
-- vae.max_train_memory (default: half the machine's memory): the rows, the
-- training workspace and the model against a budget, checked at the first
-- row and each time the row buffer grows by a chunk: a network that cannot
-- fit fails at the first row; rows that do not fit are sampled.  Sizes in
-- errors are masked (N).
--
SELECT setting::bigint > 0 AS has_a_default, unit FROM pg_settings WHERE name = 'vae.max_train_memory';
CREATE FUNCTION pg_temp.budget_err(q text) RETURNS TABLE(error text, hint text)
LANGUAGE sql AS $$
	SELECT regexp_replace(error, '[0-9][0-9.]*', 'N', 'g'), regexp_replace(hint, '[0-9][0-9.]*', 'N', 'g')
	FROM pg_temp.limit_err(q)
$$;
SET vae.max_train_memory = '4MB';
-- the network alone does not fit: refused at the first row
SELECT * FROM pg_temp.budget_err($$SELECT vae_train(array[g, g % 7, 1, 2, 3, 4, 5, 6]::real[],
	'{"hidden": [2048], "latent_dim": 20}') FROM generate_series(1, 10) g$$);
-- the rows do not fit: training takes the largest bottom-k sample that does
-- (k from the budget and the row width), with a NOTICE; the model is the one
-- max_rows = k trains (byte for byte but the training time and the CRC)
SET vae.max_train_memory = '8MB';
CREATE FUNCTION pg_temp.strip(m bytea) RETURNS bytea LANGUAGE sql AS $$
	SELECT overlay(substring(m FROM 1 FOR length(m) - 4) PLACING '\x0000000000000000'::bytea FROM 153 FOR 8)
$$;
CREATE TEMP TABLE budget_models AS
SELECT vae_train(array[g, g % 7, 1, 2, 3, 4, 5, 6]::real[], '{"epochs": 1}') AS m
FROM generate_series(1, 400000) g;
SELECT vae_model_info(m)->'rows' AS rows,
	pg_temp.strip(m) = (SELECT pg_temp.strip(vae_train(array[g, g % 7, 1, 2, 3, 4, 5, 6]::real[],
		jsonb_build_object('epochs', 1, 'max_rows', vae_model_info(m)->'rows')))
		FROM generate_series(1, 400000) g) AS same_as_max_rows
FROM budget_models;
-- rows that fit are all trained on, without a NOTICE
SELECT vae_model_info(vae_train(array[g, g % 7, 1, 2, 3, 4, 5, 6]::real[], '{"epochs": 1}'))->'rows' AS rows
FROM generate_series(1, 50000) g;
-- a sample of a given size trains within the same budget
SELECT vae_model_info(vae_train(array[g, g % 7, 1, 2, 3, 4, 5, 6]::real[],
	'{"max_rows": 20000, "epochs": 1}'))->'rows' AS rows
FROM generate_series(1, 400000) g;
-- table rows are sampled the same way
SELECT vae_model_info(vae_train(r, '{"epochs": 1}'))->'rows' AS rows
FROM (SELECT g AS a, g % 7 AS b, (g % 3)::text AS c, g * 0.5 AS d FROM generate_series(1, 1000000) g) r;
RESET vae.max_train_memory;
