--
-- vae_determinism: a model depends only on the multiset of rows, the options
-- and the seed -- not on the scan order, nor on a parallel plan -- and a
-- row's score is the same whatever the query.
--
-- Two models are compared byte for byte except for train_seconds (header
-- offsets 152-159, docs/model-format.md) and the CRC-32C trailer that covers
-- it; and by their scores, as exact float8 text.  These are single networks
-- ("ensemble": 1); vae_ensemble shows the same of ensembles.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vae;
RESET client_min_messages;
SET extra_float_digits = 3;

CREATE FUNCTION pg_temp.same_model(a bytea, b bytea) RETURNS boolean LANGUAGE sql AS $$
	SELECT length(a) = length(b)
	   AND substring(a FROM 1 FOR 152) = substring(b FROM 1 FOR 152)
	   AND substring(a FROM 161 FOR length(a) - 164) = substring(b FROM 161 FOR length(b) - 164)
$$;

CREATE TABLE det_data AS
SELECT i, ARRAY[sin(i * 0.05), cos(i * 0.05), sin(i * 0.1) * 0.5, cos(i * 0.15), (i % 7) / 7.0]::real[] AS f
FROM generate_series(1, 400) AS i;

-- the same rows in four orders (and once with another seed), one model each
CREATE TABLE det_models AS
SELECT 'by i' AS name, vae_train(f, '{"ensemble": 1, "seed": 11, "epochs": 20}' ORDER BY i) AS model FROM det_data
UNION ALL
SELECT 'by -i', vae_train(f, '{"ensemble": 1, "seed": 11, "epochs": 20}' ORDER BY -i) FROM det_data
UNION ALL
SELECT 'by md5', vae_train(f, '{"ensemble": 1, "seed": 11, "epochs": 20}' ORDER BY md5(i::text)) FROM det_data
UNION ALL
SELECT 'subquery by -i', vae_train(f, '{"ensemble": 1, "seed": 11, "epochs": 20}')
FROM (SELECT f FROM det_data ORDER BY -i OFFSET 0) s
UNION ALL
SELECT 'seed 12', vae_train(f, '{"ensemble": 1, "seed": 12, "epochs": 20}') FROM det_data;

-- scores of the first 50 rows and train_loss, as text, per model
CREATE TABLE det_fingerprints AS
SELECT name,
       (SELECT md5(string_agg(vae_score(model, f)::text || ' ' || vae_score(model, f, 'elbo')::text
                              || ' ' || vae_score(model, f, 'mse')::text, ',' ORDER BY i))
        FROM det_data WHERE i <= 50) AS scores,
       vae_model_info(model)->'train_loss' AS train_loss,
       model
FROM det_models;

SELECT b.name,
       pg_temp.same_model(a.model, b.model) AS same_bytes_but_time,
       a.scores = b.scores AS same_scores,
       a.train_loss = b.train_loss AS same_train_loss
FROM det_fingerprints a, det_fingerprints b
WHERE a.name = 'by i'
ORDER BY b.name;

-- the comparison is sharp: one flipped bit in a weight makes it false
SELECT pg_temp.same_model(model, set_byte(model, 500, get_byte(model, 500) # 1)) AS flipped_bit_same
FROM det_models WHERE name = 'by i';

-- duplicated rows count: the multiset, not the set, is what is learned
SELECT pg_temp.same_model(
         (SELECT vae_train(f, '{"ensemble": 1, "seed": 11, "epochs": 20}') FROM det_data),
         (SELECT vae_train(f, '{"ensemble": 1, "seed": 11, "epochs": 20}') FROM (SELECT f FROM det_data UNION ALL SELECT f FROM det_data WHERE i = 1) s)
       ) AS duplicate_row_same_model;

--
-- The element type does not matter: rows as integer[], bigint[], smallint[],
-- numeric[] or double precision[] train the same model (every byte but the
-- training time) and get the same outputs from every function as the same
-- rows cast to real[] (vae_types checks the conversion itself).
-- f: counters, one beyond 2^24 so that converting to real rounds;
-- g: numerics with more digits than real (or double precision) holds
--
CREATE TABLE det_types AS
SELECT i,
       ARRAY[i % 7, (i * 3) % 11 - 5, i % 2, (i / 10) % 13, 16777216 + i * 7] AS f,
       ARRAY[i / 7.0, (i % 13) / 3.0 - 2, sqrt(i::numeric), 1 + i * 0.0000000596046447753906250000001,
             (i % 5) * 1.00000000000000000000001] AS g
FROM generate_series(1, 300) AS i;

CREATE FUNCTION pg_temp.against_real(x text, OUT type regtype, OUT same_model boolean,
                                     OUT same_scores boolean, OUT same_other_functions boolean)
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format($q$
		WITH d AS (SELECT i, %s AS x FROM det_types),
		     m AS (SELECT vae_train(x, '{"ensemble": 1, "epochs": 5, "seed": 3}') AS a,
		                  vae_train(x::real[], '{"ensemble": 1, "epochs": 5, "seed": 3}') AS b FROM d)
		SELECT pg_typeof(min(x)),
		       pg_temp.same_model(a, b),
		       bool_and(vae_score(a, x) = vae_score(b, x::real[])
		                AND vae_score(a, x, 'elbo') = vae_score(b, x::real[], 'elbo')
		                AND vae_score(a, x, 'mse') = vae_score(b, x::real[], 'mse')),
		       bool_and(vae_encode(a, x) = vae_encode(b, x::real[])
		                AND vae_reconstruct(a, x) = vae_reconstruct(b, x::real[])
		                AND (SELECT array_agg(e ORDER BY e.feature) FROM vae_explain(a, x) e)
		                    = (SELECT array_agg(e ORDER BY e.feature) FROM vae_explain(b, x::real[]) e))
		FROM m, d
		GROUP BY a, b$q$, x)
	INTO type, same_model, same_scores, same_other_functions;
END $$;

SELECT x AS features, c.*
FROM (VALUES ('f'), ('f::bigint[]'), ('f[1:4]::smallint[]'), ('g'), ('g::float8[]'), ('g::real[]')) v(x),
     pg_temp.against_real(x) c;

-- the comparison is sharp: one feature's value off by one ulp changes the model
SELECT pg_temp.same_model(vae_train(g, '{"ensemble": 1, "epochs": 5, "seed": 3}'),
                          vae_train(g::float8[]::real[], '{"ensemble": 1, "epochs": 5, "seed": 3}')) AS same_as_via_double,
       count(*) FILTER (WHERE g::real[] <> g::float8[]::real[]) AS rows_that_differ
FROM det_types;

--
-- Scores are reproducible: the same row twice in one query, in another
-- query, in another order, or after scoring other rows gives the same bits
--
CREATE TABLE det_scores AS
SELECT i, vae_score(model, f) AS s, vae_score(model, f, 'elbo') AS e, vae_score(model, f, 'mse') AS q,
       vae_encode(model, f) AS z, vae_reconstruct(model, f) AS r
FROM det_models, det_data WHERE name = 'by i';

SELECT count(*) AS rows,
       count(*) FILTER (WHERE vae_score(model, f) = vae_score(model, f)
                        AND vae_score(model, f, 'elbo') = vae_score(model, f, 'elbo')) AS same_twice
FROM det_models, det_data WHERE name = 'by i';

SELECT count(*) AS rows, count(*) FILTER (WHERE t.s = d.s AND t.e = d.e AND t.q = d.q AND t.z = d.z AND t.r = d.r) AS same
FROM (SELECT i, vae_score(model, f) AS s, vae_score(model, f, 'elbo') AS e, vae_score(model, f, 'mse') AS q,
             vae_encode(model, f) AS z, vae_reconstruct(model, f) AS r
      FROM det_models, (SELECT * FROM det_data ORDER BY -i OFFSET 0) dd
      WHERE name = 'by i') t
JOIN det_scores d USING (i);

-- the same row in between others (here: every row scored after row 1)
SELECT count(*) FILTER (WHERE x.s = d.s) AS same, count(*) AS rows
FROM (SELECT i, vae_score(model, CASE WHEN k = 1 THEN (SELECT f FROM det_data WHERE i = 1) ELSE f END) AS s, k
      FROM det_models, det_data, generate_series(1, 2) k
      WHERE name = 'by i' ORDER BY i, k OFFSET 0) x
JOIN det_scores d USING (i)
WHERE x.k = 2;

--
-- Grouped training, and a hashed aggregate that is rescanned without being
-- rebuilt: PostgreSQL then runs the final function again on the same
-- transition state (here: in a correlated subquery whose parameter does not
-- reach the aggregate's input).  Every call must give the same model.
--
CREATE FUNCTION pg_temp.md5_but_time(m bytea) RETURNS text LANGUAGE sql AS $$
	SELECT md5(substring(m FROM 1 FOR 152) || substring(m FROM 161 FOR length(m) - 164))
$$;
CREATE TABLE det_groups AS
SELECT i % 3 AS g, ARRAY[sin(i * 0.1) * 5 + 3, cos(i * 0.1) * 2 - 7]::real[] AS f
FROM generate_series(1, 300) AS i;
ANALYZE det_groups;
-- one model per group, each the model of that group's rows alone
CREATE TABLE det_group_ref AS
SELECT g, vae_train(f, '{"ensemble": 1, "epochs": 2}') AS m FROM det_groups GROUP BY g;
SELECT g, pg_temp.md5_but_time(m) = (SELECT pg_temp.md5_but_time(vae_train(f, '{"ensemble": 1, "epochs": 2}'))
                                     FROM det_groups d WHERE d.g = r.g) AS same_as_alone
FROM det_group_ref r ORDER BY g;

SET work_mem = '64MB';	-- no spill to disk (a spilled hash table is rebuilt)
SET enable_sort = off;
-- the number of times the hashed aggregate and the scan below it ran
CREATE FUNCTION pg_temp.loops(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	plan json;
BEGIN
	EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF, FORMAT JSON) ' || q INTO plan;
	RETURN (SELECT string_agg((n->>'Node Type') || coalesce(' ' || (n->>'Strategy'), '') || ': ' || (n->>'Actual Loops'), ', ')
	        FROM jsonb_path_query(plan::jsonb, 'strict $.** ? (@."Strategy" == "Hashed" || @."Node Type" == "Seq Scan")') n);
END $$;
EXPLAIN (COSTS OFF)
SELECT o, (SELECT string_agg(g || ':' || pg_temp.md5_but_time(m), ' ' ORDER BY g)
           FROM (SELECT g, vae_train(f, '{"ensemble": 1, "epochs": 2}') AS m FROM det_groups GROUP BY g) s
           WHERE length(s.m) > o)
FROM generate_series(1, 3) AS o;
SELECT pg_temp.loops($$
SELECT o, (SELECT string_agg(g || ':' || pg_temp.md5_but_time(m), ' ' ORDER BY g)
           FROM (SELECT g, vae_train(f, '{"ensemble": 1, "epochs": 2}') AS m FROM det_groups GROUP BY g) s
           WHERE length(s.m) > o)
FROM generate_series(1, 3) AS o$$) AS loops;
SELECT o, (SELECT string_agg(g || ':' || pg_temp.md5_but_time(m), ' ' ORDER BY g)
           FROM (SELECT g, vae_train(f, '{"ensemble": 1, "epochs": 2}') AS m FROM det_groups GROUP BY g) s
           WHERE length(s.m) > o)
        = (SELECT string_agg(g || ':' || pg_temp.md5_but_time(m), ' ' ORDER BY g) FROM det_group_ref) AS same_models
FROM generate_series(1, 3) AS o;
RESET work_mem;
RESET enable_sort;

--
-- Parallel aggregation: partial states from workers combine into exactly
-- the model a serial scan trains, with or without max_rows sampling
--
CREATE TABLE det_big AS
SELECT i, ARRAY[sin(i * 0.01), cos(i * 0.013), sin(i * 0.02) * cos(i * 0.007), (i % 11) / 11.0]::real[] AS f
FROM generate_series(1, 3000) AS i;
ALTER TABLE det_big SET (parallel_workers = 2);
ANALYZE det_big;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
-- the leader only gathers and combines: every row goes through a worker's
-- partial aggregate, serialized, deserialized and combined
SET parallel_leader_participation = off;

-- a parallel-safe filter that keeps every row but sleeps 10 ms on every 50th, so
-- that both workers get rows even when one starts late on a loaded machine
CREATE FUNCTION det_slow(i int) RETURNS boolean LANGUAGE sql PARALLEL SAFE
AS $$ SELECT i % 50 <> 0 OR pg_sleep(0.01)::text = '' $$;

-- vae_train is PARALLEL RESTRICTED: partial aggregation of a buffer-every-row
-- aggregate gains nothing (the scan is a small part of training) and would
-- hold the rows several times in the leader while partial states travel, so
-- the scan runs in the workers and the aggregate in the leader.  The rows then
-- arrive in whatever order the workers deliver them.
EXPLAIN (COSTS OFF) SELECT vae_train(f, '{"ensemble": 1, "epochs": 3, "seed": 5}') FROM det_big WHERE det_slow(i);

-- Its combine, serialize and deserialize functions are there for engines that
-- aggregate partial states (sharding); an otherwise identical PARALLEL SAFE
-- aggregate exercises them through real parallel partial aggregation.
CREATE AGGREGATE det_partial_train(anyarray, jsonb) (
	SFUNC = vae_train_trans, STYPE = internal,
	FINALFUNC = vae_train_final, FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = vae_train_combine,
	SERIALFUNC = vae_train_serialize, DESERIALFUNC = vae_train_deserialize,
	PARALLEL = SAFE);
EXPLAIN (COSTS OFF) SELECT det_partial_train(f, '{"ensemble": 1, "epochs": 3, "seed": 5}') FROM det_big WHERE det_slow(i);

-- the number of workers whose scan returned rows
CREATE FUNCTION pg_temp.busy_workers(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	plan json;
BEGIN
	EXECUTE 'EXPLAIN (ANALYZE, VERBOSE, TIMING OFF, COSTS OFF, FORMAT JSON) ' || q INTO plan;
	RETURN (SELECT count(*) FROM jsonb_path_query(plan::jsonb,
		'strict $.** ? (@."Node Type" == "Seq Scan" && @."Parallel Aware" == true)."Workers"[*] ? (@."Actual Rows" > 0)'));
END $$;
SELECT pg_temp.busy_workers($$SELECT det_partial_train(f, '{"ensemble": 1, "epochs": 3, "seed": 5}') FROM det_big WHERE det_slow(i)$$) AS busy_workers;

CREATE TABLE det_par AS
SELECT 'parallel' AS plan, 'all rows' AS rows, det_partial_train(f, '{"ensemble": 1, "epochs": 3, "seed": 5}') AS model
FROM det_big WHERE det_slow(i);
INSERT INTO det_par
SELECT 'parallel', 'max_rows 500', det_partial_train(f, '{"ensemble": 1, "epochs": 3, "seed": 5, "max_rows": 500}')
FROM det_big WHERE det_slow(i);
INSERT INTO det_par
SELECT 'parallel', 'max_rows 2999', det_partial_train(f, '{"ensemble": 1, "epochs": 3, "seed": 5, "max_rows": 2999}')
FROM det_big WHERE det_slow(i);
-- and with the leader scanning too
SET parallel_leader_participation = on;
INSERT INTO det_par
SELECT 'parallel', 'all rows, leader too', det_partial_train(f, '{"ensemble": 1, "epochs": 3, "seed": 5}')
FROM det_big WHERE det_slow(i);

INSERT INTO det_par
SELECT 'parallel', 'all rows, vae_train over a parallel scan', vae_train(f, '{"ensemble": 1, "epochs": 3, "seed": 5}')
FROM det_big WHERE det_slow(i);
SET parallel_leader_participation = off;

SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF) SELECT vae_train(f, '{"ensemble": 1, "epochs": 3, "seed": 5}') FROM det_big;
INSERT INTO det_par
SELECT 'serial', 'all rows', vae_train(f, '{"ensemble": 1, "epochs": 3, "seed": 5}') FROM det_big;
INSERT INTO det_par
SELECT 'serial', 'max_rows 500', vae_train(f, '{"ensemble": 1, "epochs": 3, "seed": 5, "max_rows": 500}') FROM det_big;
INSERT INTO det_par
SELECT 'serial', 'max_rows 2999', vae_train(f, '{"ensemble": 1, "epochs": 3, "seed": 5, "max_rows": 2999}') FROM det_big;

SELECT p.rows,
       vae_model_info(p.model)->'rows' AS trained_rows,
       pg_temp.same_model(p.model, s.model) AS same_bytes_but_time,
       vae_model_info(p.model)->'train_loss' = vae_model_info(s.model)->'train_loss' AS same_train_loss,
       (SELECT bool_and(vae_score(p.model, f) = vae_score(s.model, f)) FROM det_big WHERE i % 60 = 0) AS same_scores
FROM det_par p JOIN det_par s ON split_part(p.rows, ',', 1) = s.rows AND p.plan = 'parallel' AND s.plan = 'serial'
ORDER BY p.rows;
-- the sample depends on the seed, not only on the data
SELECT pg_temp.same_model(
         (SELECT model FROM det_par WHERE plan = 'serial' AND rows = 'max_rows 500'),
         (SELECT vae_train(f, '{"ensemble": 1, "epochs": 3, "seed": 6, "max_rows": 500}') FROM det_big)) AS other_seed_same_model;

-- scoring in parallel workers gives the serial bits
ALTER TABLE det_par SET (parallel_workers = 0);
CREATE TABLE det_big_scores AS
SELECT i, f, vae_score((SELECT model FROM det_par WHERE plan = 'serial' AND rows = 'all rows'), f) AS s
FROM det_big;
ALTER TABLE det_big_scores SET (parallel_workers = 2);
ANALYZE det_big_scores;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM det_big_scores
WHERE det_slow(i) AND vae_score((SELECT model FROM det_par WHERE plan = 'serial' AND rows = 'all rows'), f) = s;
SELECT pg_temp.busy_workers($$
SELECT count(*) FROM det_big_scores
WHERE det_slow(i) AND vae_score((SELECT model FROM det_par WHERE plan = 'serial' AND rows = 'all rows'), f) = s$$) AS busy_workers;
SELECT count(*) AS same FROM det_big_scores
WHERE det_slow(i) AND vae_score((SELECT model FROM det_par WHERE plan = 'serial' AND rows = 'all rows'), f) = s;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET parallel_leader_participation;
DROP FUNCTION det_slow(int);
