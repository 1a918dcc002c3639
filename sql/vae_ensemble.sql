--
-- vae_ensemble: a model of several networks (option "ensemble", model
-- format version 3).  Its score is the robust mean of its members' scores:
-- each member's score minus the median of its training scores, over their
-- interquartile range, averaged.  Member k of an array model is the model
-- vae_train trains alone with seed + 1000 k.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vae;
RESET client_min_messages;
SET extra_float_digits = 3;

CREATE TABLE ens_data AS
SELECT i, ARRAY[sin(i * 0.05), cos(i * 0.05), sin(i * 0.1) * 0.5, (i % 7) / 7.0]::real[] AS f
FROM generate_series(1, 300) AS i;

-- a model without train_seconds (offsets 152-159) and the CRC that covers it
CREATE FUNCTION pg_temp.md5_but_time(m bytea) RETURNS text LANGUAGE sql AS $$
	SELECT md5(substring(m FROM 1 FOR 152) || substring(m FROM 161 FOR length(m) - 164))
$$;
-- an ensemble the same way: its header, each member's, its combined scores
CREATE FUNCTION pg_temp.ens_md5_but_time(m bytea) RETURNS text LANGUAGE sql AS $$
	SELECT md5(substring(m FROM 1 FOR 16)
	           || (SELECT string_agg(pg_temp.md5_but_time(vae_model_member(m, k)), ',' ORDER BY k)
	               FROM generate_series(1, get_byte(m, 8)) k)::bytea
	           || substring(m FROM length(m) - 3 - 12 * (get_byte(m, 12) + 256 * get_byte(m, 13))
	                        FOR 12 * (get_byte(m, 12) + 256 * get_byte(m, 13))))
$$;

-- three networks, seeds 0, 1000, 2000
CREATE TABLE ens_models AS
SELECT 'default'::text AS name, vae_train(f, '{"epochs": 20, "ensemble": 3}') AS model FROM ens_data;
SELECT i->'format_version' AS format_version, i->'options'->'ensemble' AS ensemble,
       jsonb_path_query_array(i, '$.members[*].seed') AS seeds,
       i->'parameters' AS parameters_per_network,
       (i->>'size_bytes')::int = length(model) AS size_is_length,
       i->'score_sample' AS score_sample,
       (SELECT bool_and(jsonb_array_length(e->'train_loss') = (e->>'epochs')::int
                        AND (e->>'iqr')::float8 > 0)
        FROM jsonb_array_elements(i->'members') e) AS members_have_history
FROM ens_models, vae_model_info(model) i;

-- explicit: three networks with seed 5, and the three single models of the
-- derived seeds trained alone
INSERT INTO ens_models
SELECT 'seed 5', vae_train(f, '{"epochs": 20, "seed": 5, "ensemble": 3}') FROM ens_data;
CREATE TABLE ens_singles AS
SELECT k, vae_train(f, jsonb_build_object('epochs', 20, 'seed', 5 + 1000 * k, 'ensemble', 1)) AS model
FROM ens_data, generate_series(0, 2) k GROUP BY k;
-- each member is that single model, byte for byte (but the training time)
SELECT s.k, pg_temp.md5_but_time(vae_model_member(e.model, s.k + 1)) = pg_temp.md5_but_time(s.model)
         AS member_is_single_model
FROM ens_models e, ens_singles s WHERE e.name = 'seed 5' ORDER BY s.k;
-- and the ensemble's score is the robust mean of the single models' scores,
-- to the bit, for every method (the quartiles are vae_threshold's)
CREATE TABLE ens_robust AS
SELECT k, model, vae_threshold(model, 0.5, 'recon_prob') AS med,
       greatest(vae_threshold(model, 0.25, 'recon_prob') - vae_threshold(model, 0.75, 'recon_prob'), 1e-12) AS iqr,
       vae_threshold(model, 0.5, 'elbo') AS med_elbo,
       greatest(vae_threshold(model, 0.25, 'elbo') - vae_threshold(model, 0.75, 'elbo'), 1e-12) AS iqr_elbo,
       vae_threshold(model, 0.5, 'mse') AS med_mse,
       greatest(vae_threshold(model, 0.25, 'mse') - vae_threshold(model, 0.75, 'mse'), 1e-12) AS iqr_mse
FROM ens_singles;
CREATE FUNCTION pg_temp.robust_mean(x real[], method text) RETURNS float8 LANGUAGE sql AS $$
	SELECT (((SELECT (vae_score(model, x, method) - CASE method WHEN 'elbo' THEN med_elbo WHEN 'mse' THEN med_mse ELSE med END)
	                 / CASE method WHEN 'elbo' THEN iqr_elbo WHEN 'mse' THEN iqr_mse ELSE iqr END FROM ens_robust WHERE k = 0)
	       + (SELECT (vae_score(model, x, method) - CASE method WHEN 'elbo' THEN med_elbo WHEN 'mse' THEN med_mse ELSE med END)
	                 / CASE method WHEN 'elbo' THEN iqr_elbo WHEN 'mse' THEN iqr_mse ELSE iqr END FROM ens_robust WHERE k = 1))
	       + (SELECT (vae_score(model, x, method) - CASE method WHEN 'elbo' THEN med_elbo WHEN 'mse' THEN med_mse ELSE med END)
	                 / CASE method WHEN 'elbo' THEN iqr_elbo WHEN 'mse' THEN iqr_mse ELSE iqr END FROM ens_robust WHERE k = 2)) / 3
$$;
SELECT method, count(*) AS rows,
       count(*) FILTER (WHERE vae_score(e.model, d.f, method) = pg_temp.robust_mean(d.f, method)) AS robust_mean_exact,
       count(*) FILTER (WHERE vae_score(e.model, d.f, method) = vae_score(s.model, d.f, method)) AS same_as_one_model
FROM ens_models e, ens_data d, ens_singles s, unnest(ARRAY['recon_prob', 'elbo', 'mse']) method
WHERE e.name = 'seed 5' AND s.k = 0 AND d.i % 3 = 0
GROUP BY method ORDER BY method;

-- Under 1,000 rows without a validation split each member stores out-of-fold
-- scores (docs/scoring.md), and the ensemble's stored sample is their
-- combination quantile by quantile: its i-th smallest score is the robust
-- mean of the members' i-th smallest scores, so every cut of the ensemble
-- is the robust mean of the members' cuts (the members here are the single
-- models of ens_singles): to the bit where the cut is a stored score (0 and
-- 1), up to the float rounding of the stored scores between them; the
-- automatic threshold (Tukey's fence of the same sample) applies as to a
-- single network
SELECT c, CASE WHEN c IN (0, 1) THEN cut = mean::real::float8
               ELSE abs(cut - mean) <= 1e-6 * greatest(1, abs(mean)) END AS robust_mean_of_cuts
FROM (SELECT c, vae_threshold(e.model, c, 'recon_prob') AS cut,
             ((SELECT (vae_threshold(model, c, 'recon_prob') - med) / iqr FROM ens_robust WHERE k = 0)
              + (SELECT (vae_threshold(model, c, 'recon_prob') - med) / iqr FROM ens_robust WHERE k = 1)
              + (SELECT (vae_threshold(model, c, 'recon_prob') - med) / iqr FROM ens_robust WHERE k = 2)) / 3 AS mean
      FROM ens_models e, unnest(ARRAY[0.0, 0.1, 0.25, 0.5, 0.9, 1.0]) c
      WHERE e.name = 'seed 5') q
ORDER BY c;
SELECT count(*) FILTER (WHERE vae_score(e.model, d.f) > vae_threshold(e.model)) <= 30 AS auto_cut_flags_few,
       (SELECT abs(vae_threshold(model, 0.5)) < 0.5 FROM ens_models WHERE name = 'seed 5')
         AS median_near_zero
FROM ens_models e, ens_data d WHERE e.name = 'seed 5';

-- companions: encode, reconstruct, explain and generate are member 1's
SELECT bool_and(vae_encode(e.model, d.f) = vae_encode(vae_model_member(e.model, 1), d.f)) AS encode_member_1,
       bool_and(vae_reconstruct(e.model, d.f) = vae_reconstruct(vae_model_member(e.model, 1), d.f))
         AS reconstruct_member_1
FROM ens_models e, ens_data d WHERE e.name = 'seed 5' AND d.i <= 20;
SELECT (SELECT array_agg(x.contribution) FROM vae_explain(e.model, '{0.5,0.5,0.5,0.5}'::real[]) x)
     = (SELECT array_agg(x.contribution) FROM vae_explain(vae_model_member(e.model, 1), '{0.5,0.5,0.5,0.5}'::real[]) x)
         AS explain_member_1,
       (SELECT array_agg(g) FROM vae_generate(e.model, 3) g)
     = (SELECT array_agg(g) FROM vae_generate(vae_model_member(e.model, 1), 3) g) AS generate_member_1
FROM ens_models e WHERE e.name = 'seed 5';

-- determinism: the same bytes (but training times) whatever the scan order,
-- and with a max_rows sample (which every member trains on)
SELECT count(DISTINCT pg_temp.ens_md5_but_time(m)) AS distinct_models
FROM (SELECT vae_train(f, '{"epochs": 5, "seed": 2, "ensemble": 3}' ORDER BY i) AS m FROM ens_data
      UNION ALL
      SELECT vae_train(f, '{"epochs": 5, "seed": 2, "ensemble": 3}' ORDER BY -i) FROM ens_data
      UNION ALL
      SELECT vae_train(f, '{"epochs": 5, "seed": 2, "ensemble": 3}' ORDER BY md5(i::text)) FROM ens_data) x;
SELECT count(DISTINCT pg_temp.ens_md5_but_time(m)) AS distinct_sampled_models,
       min(vae_model_info(m)->>'rows') AS rows
FROM (SELECT vae_train(f, '{"epochs": 5, "max_rows": 100, "ensemble": 3}' ORDER BY i) AS m FROM ens_data
      UNION ALL
      SELECT vae_train(f, '{"epochs": 5, "max_rows": 100, "ensemble": 3}' ORDER BY -i) FROM ens_data) x;

-- the default is one network (an ensemble is asked for), on any table
SELECT vae_model_info(vae_train(f, '{"epochs": 1}'))->'format_version' AS format_default,
       vae_model_info(vae_train(f, '{"epochs": 1}'))->'options'->'ensemble' AS ensemble_default
FROM ens_data;

-- vae_detect over a source scores an ensemble as vae_score does, to the bit
SELECT count(*) AS rows, bool_and(d.score = vae_score(e.model, t.f)) AS detect_source_same
FROM ens_models e, vae_detect(e.model, 'SELECT f FROM ens_data ORDER BY i') d
JOIN ens_data t ON t.i = d.row_number
WHERE e.name = 'default';

--
-- row models: the same robust mean; member 1 is the single model of the seed
--
CREATE TABLE ens_rows AS
SELECT i AS id, (i % 5)::text AS c, sin(i * 0.1)::float8 AS x, (i % 3 = 0) AS b
FROM generate_series(1, 300) i;
CREATE TABLE ens_row_models AS
SELECT vae_train(t, '{"epochs": 10, "seed": 3, "exclude": ["id"], "ensemble": 3}') AS model,
       (SELECT vae_train(t, '{"epochs": 10, "seed": 3, "exclude": ["id"], "ensemble": 1}') FROM ens_rows t)
         AS single
FROM ens_rows t;
SELECT vae_model_info(model)->'format_version' AS format_version,
       jsonb_path_query_array(vae_model_info(model), '$.members[*].seed') AS seeds,
       vae_model_info(model)->'columns' = vae_model_info(single)->'columns' AS same_columns,
       pg_temp.md5_but_time(vae_model_member(model, 1)) = pg_temp.md5_but_time(single)
         AS member_1_is_single_model
FROM ens_row_models;
CREATE TABLE ens_row_robust AS
SELECT k, vae_model_member(model, k) AS m, vae_threshold(vae_model_member(model, k), 0.5) AS med,
       greatest(vae_threshold(vae_model_member(model, k), 0.25)
                - vae_threshold(vae_model_member(model, k), 0.75), 1e-12) AS iqr
FROM ens_row_models, generate_series(1, 3) k;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE vae_score(e.model, t) =
           (((SELECT (vae_score(m, t) - med) / iqr FROM ens_row_robust WHERE k = 1)
           + (SELECT (vae_score(m, t) - med) / iqr FROM ens_row_robust WHERE k = 2))
           + (SELECT (vae_score(m, t) - med) / iqr FROM ens_row_robust WHERE k = 3)) / 3) AS robust_mean_exact
FROM ens_row_models e, ens_rows t WHERE t.id % 4 = 0;
SELECT (SELECT array_agg(x.contribution) FROM vae_explain(e.model, t) x)
     = (SELECT array_agg(x.contribution) FROM vae_explain(e.single, t) x) AS explain_member_1,
       vae_reconstruct(e.model, t) = vae_reconstruct(e.single, t) AS reconstruct_member_1
FROM ens_row_models e, ens_rows t WHERE t.id = 7;
SELECT count(DISTINCT pg_temp.ens_md5_but_time(m)) AS distinct_row_models
FROM (SELECT vae_train(t, '{"epochs": 3, "seed": 4, "exclude": ["id"], "ensemble": 3}' ORDER BY id) AS m FROM ens_rows t
      UNION ALL
      SELECT vae_train(t, '{"epochs": 3, "seed": 4, "exclude": ["id"], "ensemble": 3}' ORDER BY -id) FROM ens_rows t) x;

--
-- errors
--
SELECT vae_train(f, '{"ensemble": 0}') FROM ens_data;
SELECT vae_train(f, '{"ensemble": 17}') FROM ens_data;
SELECT vae_train(f, '{"ensemble": 1.5}') FROM ens_data;
SELECT vae_model_member(model, 0) FROM ens_models WHERE name = 'seed 5';
SELECT vae_model_member(model, 4) FROM ens_models WHERE name = 'seed 5';
-- a single network is its own member 1
SELECT vae_model_member(model, 1) = model AS single_is_member_1 FROM ens_singles WHERE k = 0;
-- damage anywhere is refused: a flipped bit in every 97th byte, truncation,
-- a version this build does not know
CREATE FUNCTION pg_temp.error_of(m bytea) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	PERFORM vae_score(m, '{0,0,0,0}'::real[]);
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT count(*) AS positions,
       count(*) FILTER (WHERE pg_temp.error_of(set_byte(model, p, get_byte(model, p) # 16)) LIKE '22P03:%')
         AS rejected_22p03
FROM ens_models, generate_series(0, length(model) - 1, 97) p WHERE name = 'seed 5';
SELECT pg_temp.error_of(substring(model FROM 1 FOR length(model) - 1)) AS truncated,
       pg_temp.error_of(set_byte(model, 4, 6)) AS version_6
FROM ens_models WHERE name = 'seed 5';
-- vae_detect over a source, row ensemble
SELECT count(*) AS rows, bool_and(d.score = vae_score(e.model, t)) AS detect_source_same
FROM ens_row_models e, vae_detect(e.model, 'SELECT * FROM ens_rows ORDER BY id') d
JOIN ens_rows t ON t.id = d.row_number;
