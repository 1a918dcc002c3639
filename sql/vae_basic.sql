--
-- vae_basic: train, inspect and use a model end to end.
--
-- Data are deterministic (no random()): points on a smooth curve, so the
-- features are strongly correlated and a small VAE learns them.  Floats are
-- shown rounded or as booleans; what is asserted are properties.
--
CREATE EXTENSION vae;

CREATE TABLE basic_data AS
SELECT i,
       ARRAY[sin(i * 0.1), cos(i * 0.1), sin(i * 0.2), cos(i * 0.2)]::real[] AS f
FROM generate_series(1, 300) AS i;

-- real[] input, default options but one network ("ensemble": 1: ensembles
-- are vae_ensemble's subject), as in every test of single networks
CREATE TABLE basic_models AS
SELECT 'real'::text AS name, vae_train(f, '{"ensemble": 1}') AS model FROM basic_data;
-- double precision[] input, some options
INSERT INTO basic_models
SELECT 'double', vae_train(f::float8[], '{"ensemble": 1, "epochs": 40, "learning_rate": 0.01, "seed": 7}')
FROM basic_data;

-- a model is a bytea that starts with the magic "VAEM"
SELECT name, pg_typeof(model), substring(model FROM 1 FOR 4) = 'VAEM'::bytea AS magic
FROM basic_models ORDER BY name;

-- vae_model_info: everything but the losses and the training time is
-- determined by the data shape and the options (defaults resolved: latent 2
-- and one hidden layer of 8 for 4 features; 100 epochs for 300 rows; no
-- validation set under 1000 rows)
SELECT jsonb_pretty(vae_model_info(model) - 'train_loss' - 'val_loss' - 'train_seconds')
FROM basic_models WHERE name = 'real';
SELECT vae_model_info(model) - 'train_loss' - 'val_loss' - 'train_seconds' - 'options' AS info,
       vae_model_info(model)->'options' AS options
FROM basic_models WHERE name = 'double';

-- the training record: one train_loss and one val_loss per epoch (val_loss
-- null: no validation set), best epoch in range, the loss went down, a
-- non-negative training time, and size_bytes is the bytea length as given by
-- docs/model-format.md: 176 + 8 D + 4 P + 16 E + 12 S + 4
SELECT name,
       jsonb_array_length(i->'train_loss') = (i->>'epochs')::int AS train_loss_per_epoch,
       jsonb_array_length(i->'val_loss') = (i->>'epochs')::int AS val_loss_per_epoch,
       (SELECT bool_and(jsonb_typeof(v) = 'number') FROM jsonb_array_elements(i->'train_loss') v) AS train_loss_numbers,
       (SELECT bool_and(jsonb_typeof(v) = 'null') FROM jsonb_array_elements(i->'val_loss') v) AS val_loss_null,
       (i->>'best_epoch')::int BETWEEN 1 AND (i->>'epochs')::int AS best_epoch_in_range,
       (i->'train_loss'->>-1)::float8 < (i->'train_loss'->>0)::float8 AS loss_went_down,
       (i->>'train_seconds')::float8 >= 0 AS train_seconds_ok,
       (i->>'size_bytes')::int = length(model) AS size_is_length,
       length(model) = 176 + 8 * (i->>'input_dim')::int + 4 * (i->>'parameters')::int
                       + 16 * (i->>'epochs')::int + 12 * (i->>'score_sample')::int + 4 AS size_formula
FROM basic_models, vae_model_info(model) AS i
ORDER BY name;

-- float8[] training stores the same float32 values as real[] training: with
-- the same options the models score identically
-- (every byte but train_seconds, offsets 152-159, and the CRC-32C trailer
-- that covers it)
WITH a AS (SELECT vae_train(f, '{"ensemble": 1, "epochs": 5}') AS m FROM basic_data),
     b AS (SELECT vae_train(f::float8[], '{"ensemble": 1, "epochs": 5}') AS m FROM basic_data)
SELECT substring(a.m FROM 1 FOR 152) = substring(b.m FROM 1 FOR 152)
         AND substring(a.m FROM 161 FOR length(a.m) - 164) = substring(b.m FROM 161 FOR length(b.m) - 164)
         AS same_bytes_but_time,
       (SELECT bool_and(vae_score(a.m, d.f) = vae_score(b.m, d.f)) FROM basic_data d) AS same_scores,
       (SELECT bool_and(vae_score(a.m, d.f) = vae_score(a.m, d.f::float8[])) FROM basic_data d) AS float8_scoring_same
FROM a, b;

-- every scoring function on a typical row
SELECT vae_score(model, f) = vae_score(model, f, 'elbo') AS default_is_elbo,
       vae_score(model, f)::text NOT IN ('NaN', 'Infinity', '-Infinity') AS recon_prob_finite,
       vae_score(model, f, 'elbo')::text NOT IN ('NaN', 'Infinity', '-Infinity') AS elbo_finite,
       vae_score(model, f, 'mse') >= 0 AS mse_nonnegative,
       array_length(vae_encode(model, f), 1) AS encode_len,
       array_length(vae_reconstruct(model, f), 1) AS reconstruct_len,
       (SELECT count(*) FROM vae_explain(model, f)) AS explain_rows,
       (SELECT array_agg(feature ORDER BY feature) FROM vae_explain(model, f)) AS explain_features
FROM basic_models, basic_data
WHERE name = 'real' AND i = 50;

-- the negative ELBO bounds the reconstruction probability score from above
-- (Jensen, over the same latent draws: the ELBO adds a KL term >= 0)
SELECT name, bool_and(vae_score(model, f, 'elbo') >= vae_score(model, f, 'recon_prob')) AS elbo_ge_recon_prob
FROM basic_models, basic_data
GROUP BY name ORDER BY name;

-- encode gives latent_dim values, reconstruct input_dim values, for both models
SELECT name,
       array_length(vae_encode(model, f), 1) = (vae_model_info(model)->>'latent_dim')::int AS encode_len_ok,
       array_length(vae_reconstruct(model, f), 1) = (vae_model_info(model)->>'input_dim')::int AS reconstruct_len_ok,
       vae_encode(model, f) = vae_encode(model, f::float8[]) AS encode_float8_same
FROM basic_models, basic_data
WHERE i = 123
ORDER BY name;

-- an obvious outlier scores higher than every training row, for every method
-- (vae_threshold(m, 0) is the largest training score)
SELECT name, method,
       vae_score(model, '{4,-4,4,-4}'::real[], method) > vae_threshold(model, 0.0, method) AS outlier_above_all,
       vae_score(model, '{4,-4,4,-4}'::real[], method) > vae_score(model, f, method) AS outlier_above_typical
FROM basic_models, basic_data, unnest(ARRAY['recon_prob', 'elbo', 'mse']) AS method
WHERE i = 50
ORDER BY name, method;

-- vae_threshold is monotone in the contamination, and is a quantile of the
-- stored scores.  A model that holds a validation split out stores the
-- scores its final weights give the rows (all 300 here):
-- threshold(0) is the largest and threshold(1) the smallest row score
-- (stored as real), and about 10% of the rows lie above threshold(0.1)
CREATE TABLE basic_val AS
SELECT vae_train(f, '{"ensemble": 1, "validation_fraction": 0.1, "epochs": 40, "seed": 3}') AS model
FROM basic_data;
SELECT method,
       vae_threshold(model, 0.0, method) >= vae_threshold(model, 0.1, method)
         AND vae_threshold(model, 0.1, method) >= vae_threshold(model, 1.0, method) AS monotone,
       vae_threshold(model, 0.0, method) = max(vae_score(model, f, method))::real::float8 AS t0_is_max,
       vae_threshold(model, 1.0, method) = min(vae_score(model, f, method))::real::float8 AS t1_is_min,
       avg((vae_score(model, f, method) > vae_threshold(model, 0.1, method))::int) BETWEEN 0.05 AND 0.15 AS about_10_percent
FROM basic_val, basic_data, unnest(ARRAY['recon_prob', 'elbo', 'mse']) AS method
GROUP BY method, model
ORDER BY method;
-- Without a validation split (the default under 1,000 rows) the stored
-- scores are out-of-fold (README, "Scoring"): each quarter of the rows is
-- scored by a network trained on the other three quarters, mapped onto the
-- model's scores.  They are not the model's scores of its training rows,
-- and rows it never saw (points between the training points of the curve)
-- fall above the 10% cut about 10% of the time (5-15%), as often as the
-- training rows do
CREATE TABLE basic_fresh AS
SELECT ARRAY[sin(i * 0.1), cos(i * 0.1), sin(i * 0.2), cos(i * 0.2)]::real[] AS f
FROM generate_series(1.5, 300.5, 1) AS i;
SELECT name,
       vae_threshold(model, 0.0) <> max(vae_score(model, f))::real::float8 AS not_the_training_scores,
       vae_threshold(model, 0.0) >= vae_threshold(model, 0.1)
         AND vae_threshold(model, 0.1) >= vae_threshold(model, 1.0) AS monotone,
       (SELECT avg((vae_score(model, g.f) > vae_threshold(model, 0.1))::int) BETWEEN 0.05 AND 0.15
        FROM basic_fresh g) AS new_rows_about_10_percent,
       (SELECT avg((vae_score(model, g.f) > vae_threshold(model, 0.1))::int) FROM basic_fresh g) -
         avg((vae_score(model, f) > vae_threshold(model, 0.1))::int) BETWEEN -0.03 AND 0.03 AS like_training_rows
FROM basic_models, basic_data
GROUP BY name, model
ORDER BY name;
-- and they stay finite on degenerate tables: ten identical rows, and nine
-- identical rows with one other, which a fold network never saw
SELECT name, vae_threshold(m, 0.0) < 'Infinity' AND vae_threshold(m, 1.0) > '-Infinity' AS finite_cuts,
       vae_threshold(m) < 'Infinity' AS finite_auto_cut
FROM (SELECT 'identical' AS name, vae_train(ARRAY[1, 2, 3]::real[], '{"epochs": 200}') AS m
      FROM generate_series(1, 10)
      UNION ALL
      SELECT 'one other', vae_train(CASE WHEN i = 1 THEN ARRAY[5, 0, 3] ELSE ARRAY[1, 2, 3] END::real[],
                                    '{"epochs": 200}')
      FROM generate_series(1, 10) i) q
ORDER BY name;
SELECT vae_threshold(model, 0.1) = vae_threshold(model, 0.1, 'elbo') AS default_method
FROM basic_models WHERE name = 'real';
-- the option method (1.1) picks what a model scores by when no method is
-- given; recon_prob keeps the 1.0 format (version 1), another method takes
-- version 4; an unknown one is refused before any work
SELECT o->>'method' AS method, vae_model_info(m)->>'format_version' AS format_version,
       vae_model_info(m)->'options'->>'method' AS recorded,
       bool_and(vae_score(m, f) = vae_score(m, f, o->>'method')) AS scores_by_it,
       vae_threshold(m, 0.1) = vae_threshold(m, 0.1, o->>'method') AS cuts_by_it,
       vae_threshold(m) = (vae_detect(m, (SELECT f FROM basic_data LIMIT 1))).threshold AS automatic_cut_by_it
FROM (SELECT o, vae_train(f, o) AS m FROM basic_data,
             (VALUES ('{"epochs": 5, "method": "recon_prob"}'::jsonb), ('{"epochs": 5, "method": "elbo"}'),
                     ('{"epochs": 5, "method": "mse"}')) v(o) GROUP BY o) x, basic_data
GROUP BY o, m ORDER BY 1;
SELECT vae_train(f, '{"method": "nll"}') FROM basic_data;
-- vae_threshold(model) (1.1): the automatic cut, Tukey's fence of the
-- training scores, Q3 + 1.5 (Q3 - Q1); it flags few of the training rows, and
-- the far-out row above
SELECT abs(vae_threshold(model) - (vae_threshold(model, 0.25) +
           1.5 * (vae_threshold(model, 0.25) - vae_threshold(model, 0.75))))
         <= 1e-9 * abs(vae_threshold(model)) AS is_the_fence,
       vae_threshold(model) > vae_threshold(model, 0.25) AS above_q3,
       (SELECT avg((vae_score(b.model, f) > vae_threshold(b.model))::int) < 0.05 FROM basic_data) AS flags_few_training_rows,
       vae_score(model, '{4,-4,4,-4}'::real[]) > vae_threshold(model) AS flags_the_outlier
FROM basic_models b WHERE name = 'real';

-- vae_explain: one row per feature; value is the input, expected is
-- vae_reconstruct, the contributions are finite; in a row whose third
-- feature is pushed far out, the third feature contributes the most
SELECT bool_and(e.value = (d.f)[e.feature]) AS value_is_input,
       bool_and(e.expected = (vae_reconstruct(m.model, d.f))[e.feature]) AS expected_is_reconstruction,
       bool_and(e.contribution::text NOT IN ('NaN', 'Infinity', '-Infinity')) AS contributions_finite,
       sum(e.contribution)::text NOT IN ('NaN', 'Infinity', '-Infinity') AS sum_finite
FROM basic_models m, basic_data d, vae_explain(m.model, d.f) e
WHERE m.name = 'real';
SELECT m.name, e.feature, e.value
FROM basic_models m, basic_data d,
     LATERAL (SELECT * FROM vae_explain(m.model, (d.f)[1:2] || 8::real || (d.f)[4:4])
              ORDER BY contribution DESC LIMIT 1) e
WHERE d.i = 50
ORDER BY m.name;
-- and the perturbed row's explanation adds up to more than the typical row's
SELECT (SELECT sum(contribution) FROM vae_explain(m.model, (d.f)[1:2] || 8::real || (d.f)[4:4]))
     > (SELECT sum(contribution) FROM vae_explain(m.model, d.f)) AS perturbed_explains_more
FROM basic_models m, basic_data d
WHERE m.name = 'real' AND d.i = 50;

-- vae_generate: n rows of input_dim values, the same for the same seed
-- (default seed 0), different for another seed; row k does not depend on n
-- (a LIMIT takes a prefix); n = 0 gives no rows.  Rows differ, though not
-- necessarily all: where every relu unit of the decoder is off, a region of
-- the prior decodes to one row
SELECT count(*) AS n, bool_and(array_length(g, 1) = 4) AS width_ok
FROM basic_models, vae_generate(model, 25) AS g WHERE name = 'real';
SELECT (SELECT array_agg(g::text ORDER BY o) FROM basic_models, vae_generate(model, 10, 3) WITH ORDINALITY AS t(g, o) WHERE name = 'real')
     = (SELECT array_agg(g::text ORDER BY o) FROM basic_models, vae_generate(model, 10, 3) WITH ORDINALITY AS t(g, o) WHERE name = 'real') AS same_seed_same_rows,
       (SELECT array_agg(g::text ORDER BY o) FROM basic_models, vae_generate(model, 10) WITH ORDINALITY AS t(g, o) WHERE name = 'real')
     = (SELECT array_agg(g::text ORDER BY o) FROM basic_models, vae_generate(model, 10, 0) WITH ORDINALITY AS t(g, o) WHERE name = 'real') AS default_seed_is_0,
       (SELECT array_agg(g::text ORDER BY o) FROM basic_models, vae_generate(model, 10, 3) WITH ORDINALITY AS t(g, o) WHERE name = 'real')
     <> (SELECT array_agg(g::text ORDER BY o) FROM basic_models, vae_generate(model, 10, 4) WITH ORDINALITY AS t(g, o) WHERE name = 'real') AS other_seed_other_rows,
       (SELECT count(DISTINCT g::text) FROM basic_models, vae_generate(model, 10, 3) AS g WHERE name = 'real') >= 5 AS rows_differ;
SELECT (SELECT array_agg(g::text ORDER BY o) FROM basic_models, vae_generate(model, 5, 9) WITH ORDINALITY AS t(g, o) WHERE name = 'real')
     = (SELECT array_agg(g::text ORDER BY o) FROM (SELECT g, o FROM basic_models, vae_generate(model, 1000, 9) WITH ORDINALITY AS t(g, o)
                                                  WHERE name = 'real' LIMIT 5) s) AS prefix_stable;
SELECT count(*) FROM basic_models, vae_generate(model, 0) WHERE name = 'real';

-- STRICT: a NULL model or row gives NULL
SELECT vae_score(NULL, '{1,2,3,4}'::real[]) IS NULL AS null_model,
       vae_score(model, NULL::real[]) IS NULL AS null_row,
       vae_encode(model, NULL::real[]) IS NULL AS null_encode
FROM basic_models WHERE name = 'real';

-- NULL rows are skipped: not counted, and the model is the one trained
-- without them
CREATE TABLE basic_with_nulls AS
SELECT i, CASE WHEN i % 4 = 0 THEN NULL ELSE f END AS f FROM basic_data;
WITH a AS (SELECT vae_train(f, '{"ensemble": 1, "epochs": 5}') AS m FROM basic_with_nulls),
     b AS (SELECT vae_train(f, '{"ensemble": 1, "epochs": 5}') AS m FROM basic_with_nulls WHERE f IS NOT NULL)
SELECT vae_model_info(a.m)->>'rows' AS rows_with_nulls,
       vae_model_info(b.m)->>'rows' AS rows_without,
       (SELECT bool_and(vae_score(a.m, f) = vae_score(b.m, f)) FROM basic_data) AS same_model
FROM a, b;
-- a NULL first row, too
SELECT vae_model_info(vae_train(f ORDER BY i))->>'rows' AS rows
FROM (SELECT 0 AS i, NULL::real[] AS f UNION ALL SELECT i, f FROM basic_data WHERE i <= 10) s;

--
-- Bernoulli likelihood on data in [0, 1], normalize none
--
CREATE TABLE basic_unit AS
SELECT i,
       ARRAY[(1 + sin(i * 0.1)) / 2, (1 + cos(i * 0.1)) / 2, (i % 2)::float8, (i % 5) / 4.0]::real[] AS f
FROM generate_series(1, 200) AS i;
CREATE TABLE basic_bern AS
SELECT vae_train(f, '{"ensemble": 1, "likelihood": "bernoulli", "normalize": "none", "epochs": 30}') AS model
FROM basic_unit;
SELECT i->>'likelihood' AS likelihood, i->>'normalize' AS normalize, i->>'rows' AS rows,
       i->>'parameters' AS parameters
FROM basic_bern, vae_model_info(model) i;
-- reconstructions and generated rows are means of Bernoulli variables: in [0, 1]
SELECT bool_and(r >= 0 AND r <= 1) AS reconstruct_in_unit
FROM basic_bern, basic_unit, unnest(vae_reconstruct(model, f)) r;
SELECT bool_and(x >= 0 AND x <= 1) AS generate_in_unit
FROM basic_bern, vae_generate(model, 20) g, unnest(g) x;
SELECT bool_and(vae_score(model, f, method) >= 0) AS scores_nonnegative
FROM basic_bern, basic_unit, unnest(ARRAY['recon_prob', 'elbo', 'mse']) method;
-- boundary values are fine, values outside [0, 1] are not
SELECT vae_score(model, '{0,1,0,1}'::real[]) >= 0 AS boundary_ok FROM basic_bern;
SELECT vae_score(model, '{0.5,1.5,0,1}'::real[]) FROM basic_bern;
SELECT vae_encode(model, '{0.5,0.5,-0.25,1}'::real[]) FROM basic_bern;
SELECT vae_train(f || (-1)::real, '{"likelihood": "bernoulli", "normalize": "none"}') FROM basic_unit;
-- without normalize the default for bernoulli is minmax
SELECT vae_model_info(vae_train(f, '{"likelihood": "bernoulli", "epochs": 1}'))->>'normalize' AS normalize
FROM basic_unit;
