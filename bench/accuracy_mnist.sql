-- bench/accuracy_mnist.sql - run by bench/accuracy.sh after it has loaded
-- table mnist (id = row number in mnist10k.csv.gz, label, px real[784]).
-- psql variables: epochs (integer), bar (mean test -ELBO bar, '' = none).

-- Seeded, deterministic shuffle: order by md5(id || 'seed42'); the first
-- 8,000 rows train, the other 2,000 test.
CREATE TABLE mnist_split AS
SELECT id, label, px,
	   row_number() OVER (ORDER BY md5(id::text || 'seed42'), id) <= 8000 AS is_train
FROM mnist;

SELECT jsonb_build_object(
	'hidden', jsonb_build_array(400), 'latent_dim', 20, 'activation', 'relu',
	'likelihood', 'bernoulli', 'learning_rate', 0.001, 'batch_size', 128,
	'epochs', :epochs, 'normalize', 'none', 'validation_fraction', 0,
	'seed', 1, 'ensemble', 1) AS opts \gset
\echo options :opts

SELECT clock_timestamp() AS t0 \gset
CREATE TABLE mnist_model AS
SELECT vae_train(px, :'opts'::jsonb) AS model FROM mnist_split WHERE is_train;
SELECT extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) AS train_s \gset

SELECT clock_timestamp() AS t0 \gset
CREATE TABLE mnist_score AS
SELECT s.id, s.label, vae_score(m.model, s.px, 'elbo') AS neg_elbo
FROM mnist_split s CROSS JOIN mnist_model m
WHERE NOT s.is_train;
SELECT extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) AS score_s \gset

INSERT INTO bench_result (experiment, metric, value, op, bar, reference, digits)
SELECT 'mnist', format('test -ELBO, nats/image (%s epochs)', :epochs),
	   avg(neg_elbo), CASE WHEN :'bar' <> '' THEN '<=' END, nullif(:'bar', '')::float8,
	   CASE :epochs WHEN 10 THEN 'PyTorch 123.2' WHEN 30 THEN 'PyTorch 111.6' END, 2
FROM mnist_score;

INSERT INTO bench_result (experiment, metric, value, digits)
SELECT 'mnist', 'final train -ELBO, nats/image', (i->'train_loss'->>-1)::float8, 2
FROM (SELECT vae_model_info(model) AS i FROM mnist_model) x
UNION ALL SELECT 'mnist', 'train wall time (s)', :train_s, 1
UNION ALL SELECT 'mnist', 'scoring 2,000 rows, elbo (rows/s)', 2000 / :score_s, 0;

\echo
\echo MNIST 784-400-20 bernoulli VAE, 8,000 train / 2,000 test
SELECT i->>'parameters' AS parameters, i->>'epochs' AS epochs, i->>'rows' AS rows,
	   round((i->>'train_seconds')::numeric, 1) AS train_seconds,
	   (SELECT string_agg(round(v::numeric, 1)::text, ' ')
		FROM jsonb_array_elements_text(i->'train_loss') v) AS train_loss_per_epoch
FROM (SELECT vae_model_info(model) AS i FROM mnist_model) x;
SELECT round(avg(neg_elbo)::numeric, 2) AS mean_test_neg_elbo_nats,
	   round(min(neg_elbo)::numeric, 1) AS min, round(max(neg_elbo)::numeric, 1) AS max,
	   count(*) AS test_rows,
	   round(:train_s::numeric, 1) AS train_wall_s
FROM mnist_score;
