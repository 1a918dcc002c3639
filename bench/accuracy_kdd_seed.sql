-- bench/accuracy_kdd_seed.sql - run by bench/accuracy.sh for each seed of
-- KDD_SEEDS, after accuracy_kdd.sql: the same protocol and metrics with
-- {"seed": :seed}, the model's own method only, reported for information.  Shows how
-- much of the default model's figures is the luck of one seed.

CREATE TEMP TABLE kdd_seed_model AS
SELECT vae_train(f, jsonb_build_object('seed', :seed)) AS model FROM kdd_split WHERE is_train;
SELECT vae_model_info(model)->'options'->>'method' AS kdd_method FROM kdd_seed_model \gset

INSERT INTO kdd_score
SELECT format('%s, seed %s', :'kdd_method', :seed), t.id, t.label, vae_score(m.model, t.f)
FROM kdd_test t CROSS JOIN kdd_seed_model m;

INSERT INTO bench_result (experiment, metric, value, digits)
SELECT 'kdd', format('%s (%s, info; kept epoch %s of %s)', x.metric, k.method,
					 i->>'best_epoch', i->>'epochs'), x.value, 4
FROM kdd_metric_of k
CROSS JOIN (SELECT vae_model_info(model) AS i FROM kdd_seed_model) info
CROSS JOIN LATERAL (VALUES (1, 'ROC AUC', k.auc), (2, 'F1 at k=#anomalies', k.f1)) x(ord, metric, value)
WHERE k.method = format('%s, seed %s', :'kdd_method', :seed)
ORDER BY x.ord;
DROP TABLE kdd_seed_model;
