-- bench/accuracy_kdd.sql - run by bench/accuracy.sh after it has loaded
-- table kdd (id = row number in kdd_cup.csv.gz, f real[118], label int).
-- Protocol (DAGMM paper): label 1 = anomaly.  Seeded shuffle of the label-0
-- rows by md5(id || 'seed42'); the first floor(n0 / 2) train; test = the
-- other label-0 rows plus every label-1 row.
-- :kdd_options: the vae_train options, '{}' (the defaults) unless
-- accuracy.sh's KDD_OPTIONS sets them; the reported metric names then say so.

CREATE TABLE kdd_split AS
SELECT id, label, f,
	   label = 0 AND row_number() OVER (PARTITION BY label ORDER BY md5(id::text || 'seed42'), id)
		   <= (SELECT count(*) FROM kdd WHERE label = 0) / 2 AS is_train
FROM kdd;
CREATE TABLE kdd_test AS SELECT id, label, f FROM kdd_split WHERE NOT is_train;
ANALYZE kdd_split, kdd_test;
SELECT count(*) FILTER (WHERE is_train) AS train_rows,
	   count(*) FILTER (WHERE NOT is_train AND label = 0) AS test_normal_label0,
	   count(*) FILTER (WHERE NOT is_train AND label = 1) AS test_anomalies_label1
FROM kdd_split;

-- default options (or KDD_OPTIONS)
SELECT CASE WHEN :'kdd_options'::jsonb = '{}' THEN '' ELSE ', options ' || :'kdd_options' END AS opt_note \gset
SELECT clock_timestamp() AS t0 \gset
CREATE TABLE kdd_model AS SELECT vae_train(f, :'kdd_options'::jsonb) AS model FROM kdd_split WHERE is_train;
SELECT extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) AS train_s \gset

\echo
\echo KDD Cup 99 model (options :kdd_options)
SELECT i->'hidden' AS hidden, i->>'latent_dim' AS latent, i->>'normalize' AS normalize,
	   i->>'epochs' AS epochs, i->>'best_epoch' AS best_epoch, i->>'rows' AS rows,
	   round((i->>'train_seconds')::numeric, 1) AS train_seconds,
	   (SELECT string_agg(round(v::numeric, 1)::text, ' ')
		FROM jsonb_array_elements_text(i->'val_loss') v) AS val_loss_per_epoch
FROM (SELECT vae_model_info(model) AS i FROM kdd_model) x;

-- scores, one method per pass (the recon_prob pass is the timed one); the
-- bars are checked on the model's own method (option method: elbo unless
-- KDD_OPTIONS says otherwise)
SELECT vae_model_info(model)->'options'->>'method' AS kdd_method FROM kdd_model \gset
CREATE TABLE kdd_score (method text, id bigint, label int, score double precision);
CREATE TABLE kdd_timing (method text, seconds double precision, n bigint);

SELECT clock_timestamp() AS t0 \gset
INSERT INTO kdd_score
SELECT 'recon_prob', t.id, t.label, vae_score(m.model, t.f, 'recon_prob') FROM kdd_test t CROSS JOIN kdd_model m;
INSERT INTO kdd_timing
SELECT 'recon_prob', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz), count(*) FROM kdd_test;

SELECT clock_timestamp() AS t0 \gset
INSERT INTO kdd_score
SELECT 'elbo', t.id, t.label, vae_score(m.model, t.f, 'elbo') FROM kdd_test t CROSS JOIN kdd_model m;
INSERT INTO kdd_timing
SELECT 'elbo', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz), count(*) FROM kdd_test;

SELECT clock_timestamp() AS t0 \gset
INSERT INTO kdd_score
SELECT 'mse', t.id, t.label, vae_score(m.model, t.f, 'mse') FROM kdd_test t CROSS JOIN kdd_model m;
INSERT INTO kdd_timing
SELECT 'mse', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz), count(*) FROM kdd_test;

-- ROC AUC by the rank-sum (Mann-Whitney) formula with tied scores given
-- their average rank; F1 at top-k, k = number of anomalies (label 1).
-- A view, per method, so that accuracy_kdd_seed.sql measures its runs alike.
CREATE VIEW kdd_metric_of AS
WITH r AS (
	SELECT method, label, score,
		   (2 * rank() OVER w + count(*) OVER (PARTITION BY method, score) - 1) / 2.0 AS avg_rank,
		   row_number() OVER (PARTITION BY method ORDER BY score DESC, id) AS pos
	FROM kdd_score
	WINDOW w AS (PARTITION BY method ORDER BY score)
), c AS (
	SELECT method, count(*) FILTER (WHERE label = 1) AS n1, count(*) FILTER (WHERE label = 0) AS n0
	FROM kdd_score GROUP BY method
)
SELECT r.method,
	   ((sum(avg_rank) FILTER (WHERE label = 1) - c.n1 * (c.n1 + 1) / 2.0) / (c.n1::numeric * c.n0))::float8 AS auc,
	   (count(*) FILTER (WHERE label = 1 AND pos <= c.n1)::numeric / c.n1)::float8 AS f1,
	   count(*) FILTER (WHERE score IS NULL OR score = 'NaN' OR score IN ('Infinity', '-Infinity')) AS nonfinite
FROM r JOIN c USING (method)
GROUP BY r.method, c.n1, c.n0;
CREATE TABLE kdd_metric AS SELECT * FROM kdd_metric_of;

\echo
\echo KDD Cup 99 test set: ROC AUC and F1 at k = #anomalies, per scoring method
SELECT m.method, round(m.auc::numeric, 4) AS roc_auc, round(m.f1::numeric, 4) AS f1_at_k,
	   m.nonfinite AS nonfinite_scores,
	   round(t.seconds::numeric, 1) AS score_s, round((t.n / t.seconds)::numeric) AS rows_per_s
FROM kdd_metric m JOIN kdd_timing t USING (method)
ORDER BY array_position(array['recon_prob', 'elbo', 'mse'], m.method);

INSERT INTO bench_result (experiment, metric, value, op, bar, reference, digits)
SELECT 'kdd', 'ROC AUC (' || :'kdd_method' || :'opt_note' || ')', auc, '>=', 0.975, 'PyTorch VAE 0.98', 4
FROM kdd_metric WHERE method = :'kdd_method'
UNION ALL
SELECT 'kdd', 'F1 at k=#anomalies (' || :'kdd_method' || :'opt_note' || ')', f1, '>=', 0.93, 'PyTorch VAE 0.93, DAGMM 0.937', 4
FROM kdd_metric WHERE method = :'kdd_method';
INSERT INTO bench_result (experiment, metric, value, digits)
SELECT 'kdd', 'train wall time (s)', :train_s, 1
UNION ALL
SELECT 'kdd', format('scoring %s test rows (rows/s)', to_char(n, 'FM999,999,999')), n / seconds, 0
FROM kdd_timing WHERE method = 'recon_prob';
INSERT INTO bench_result (experiment, metric, value, digits)
SELECT 'kdd', format('%s (%s, info)', x.metric, m.method), x.value, 4
FROM kdd_metric m
CROSS JOIN LATERAL (VALUES (1, 'ROC AUC', m.auc), (2, 'F1 at k=#anomalies', m.f1)) x(ord, metric, value)
WHERE m.method <> :'kdd_method'
ORDER BY m.method, x.ord;
-- any non-finite score would sort as the most anomalous; flag it
INSERT INTO bench_result (experiment, metric, value, op, bar, digits)
SELECT 'kdd', 'non-finite scores (all methods)', sum(nonfinite), '<=', 0, 0 FROM kdd_metric;
