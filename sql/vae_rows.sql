--
-- vae_rows: training on and scoring the rows of ordinary tables
-- (docs/rows.md): vae_train(t) over whole rows, scoring by column name,
-- NULLs as data, the columns left out, and the errors.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vae;
RESET client_min_messages;
\set VERBOSITY default
SET extra_float_digits = 3;

CREATE TYPE rows_proto AS ENUM ('tcp', 'udp', 'icmp');

-- a mixed-type table with NULLs in every kind of column; id is a key, ts a
-- timestamp, blob a type no model encodes, note NULL in every row
CREATE TABLE rows_data AS
SELECT i AS id,
       (i % 50)::int AS port,
       CASE WHEN i % 17 = 0 THEN NULL ELSE (100 + 10 * sin(i * 0.1))::numeric(8, 2) END AS bytes,
       CASE WHEN i % 19 = 0 THEN NULL ELSE (0.5 + 0.3 * cos(i * 0.2))::real END AS cpu,
       CASE WHEN i % 13 = 0 THEN NULL ELSE (i % 7) * 1.5 END AS load,
       CASE WHEN i % 23 = 0 THEN NULL ELSE i % 3 = 0 END AS ok,
       CASE WHEN i % 29 = 0 THEN NULL ELSE (ARRAY['web', 'db', 'cache'])[1 + i % 3] END AS host,
       CASE WHEN i % 31 = 0 THEN NULL
            ELSE (ARRAY['tcp', 'udp', 'icmp'])[1 + (i / 3) % 3]::rows_proto END AS proto,
       CASE WHEN i % 37 = 0 THEN NULL ELSE ARRAY[sin(i * 0.05), cos(i * 0.05)]::real[] END AS f,
       timestamp '2026-01-01' + i * interval '17 minutes' AS ts,
       '\x00'::bytea AS blob,
       NULL::varchar AS note
FROM generate_series(1, 300) AS i;

-- one NOTICE names every column left out, why, and how to include it
CREATE TABLE rows_models AS
SELECT 'base'::text AS name, vae_train(t, '{"ensemble": 1, "epochs": 15, "seed": 1}') AS model
FROM rows_data t;

-- every column the model reads: name, kind, source, categories, NULLs
SELECT c->>'name' AS name, c->>'attribute' AS attribute, c->>'kind' AS kind,
       c->>'source' AS source, c->'categories' AS categories,
       (c->>'null_share')::float8 > 0 AS had_nulls, c->>'null_unit' AS null_unit,
       (c->>'scale')::float8 > 0 AS scaled
FROM rows_models, jsonb_array_elements(vae_model_info(model)->'columns') c
WHERE name = 'base';
SELECT e->>'name' AS excluded, e->>'reason' AS reason
FROM rows_models, jsonb_array_elements(vae_model_info(model)->'excluded') e
WHERE name = 'base';
SELECT vae_model_info(model)->'format_version' AS format_version,
       vae_model_info(model)->'input' AS input,
       vae_model_info(model)->'rows' AS rows,
       vae_model_info(model)->'max_categories' AS max_categories
FROM rows_models WHERE name = 'base';

-- every row scores, NULLs included; vae_threshold works on a row model
SELECT count(*) AS rows, bool_and(s > -1e30 AND s < 1e30) AS finite
FROM (SELECT vae_score(m.model, t) AS s FROM rows_data t, rows_models m WHERE m.name = 'base') x;
SELECT count(*) FILTER (WHERE vae_score(m.model, t) > vae_threshold(m.model, 0.1)) BETWEEN 10 AND 60
       AS about_a_tenth_above
FROM rows_data t, rows_models m WHERE m.name = 'base';
SELECT bool_and(vae_score(m.model, t, 'elbo') >= 0 OR true) AS elbo,
       bool_and(vae_score(m.model, t, 'mse') >= 0) AS mse
FROM rows_data t, rows_models m WHERE m.name = 'base';

-- columns are matched by name: a view with the columns in another order and
-- more of them, a subquery, and a ROW() cast to a type give the same bits
CREATE VIEW rows_view AS
SELECT 'extra' AS extra, f, proto, note, host, ok, load, cpu, bytes, port, id FROM rows_data;
SELECT bool_and(vae_score(m.model, t) = vae_score(m.model, v)) AS view_same,
       bool_and(vae_score(m.model, t, 'mse') = vae_score(m.model, v, 'mse')) AS view_same_mse
FROM rows_data t JOIN rows_view v USING (id), rows_models m WHERE m.name = 'base';
SELECT bool_and(vae_score(m.model, t) =
                (SELECT vae_score(m.model, s)
                 FROM (SELECT host, proto, f, ok, cpu, load, bytes, port FROM rows_data d
                       WHERE d.id = t.id) s)) AS subquery_same
FROM rows_data t, rows_models m WHERE m.name = 'base';
CREATE TYPE rows_type AS (proto rows_proto, port int, bytes numeric, cpu real, load float8,
                          ok boolean, host text, f real[]);
SELECT vae_score(m.model, t) = vae_score(m.model, ROW(t.proto, t.port, t.bytes, t.cpu, t.load,
                                                      t.ok, t.host, t.f)::rows_type) AS row_cast_same
FROM rows_data t, rows_models m WHERE m.name = 'base' AND t.id = 42;
-- views and subqueries as training input
SELECT vae_model_info(vae_train(v, '{"epochs": 2}'))->'input_dim' AS from_view
FROM rows_view v;
SELECT vae_model_info(vae_train(x, '{"epochs": 2}'))->'input_dim' AS from_subquery
FROM (SELECT cpu, host, ok FROM rows_data) x;

-- a column with one value in every training row is kept (only an all-NULL
-- column is left out): another value at scoring time is unusual
CREATE TABLE rows_const AS
SELECT (i % 5) * 1.0 AS b, 'on'::text AS mode, true AS flag FROM generate_series(1, 200) AS i;
CREATE TYPE rows_const_t AS (b numeric, mode text, flag boolean);
CREATE TABLE rows_const_model AS SELECT vae_train(t, '{"ensemble": 1, "epochs": 30, "seed": 1}') AS m FROM rows_const t;
SELECT jsonb_path_query_array(vae_model_info(m), '$.columns[*].name') AS columns FROM rows_const_model;
SELECT vae_score(m, ROW(2.0, 'on', true)::rows_const_t) < vae_score(m, ROW(2.0, 'off', true)::rows_const_t)
         AS new_mode_unusual,
       vae_score(m, ROW(2.0, 'on', true)::rows_const_t) < vae_score(m, ROW(2.0, 'on', false)::rows_const_t)
         AS flipped_flag_unusual
FROM rows_const_model;

-- a missing column and a column of the wrong kind are errors naming them
SELECT vae_score(m.model, s) FROM rows_models m, (SELECT port, cpu FROM rows_data LIMIT 1) s
WHERE m.name = 'base';
SELECT vae_score(m.model, s) FROM rows_models m,
       (SELECT port, bytes, cpu::text AS cpu, load, ok, host, proto, f FROM rows_data LIMIT 1) s
WHERE m.name = 'base';
SELECT vae_score(m.model, s) FROM rows_models m,
       (SELECT port, bytes, cpu, load, 1 AS ok, host, proto, f FROM rows_data LIMIT 1) s
WHERE m.name = 'base';
SELECT vae_score(m.model, s) FROM rows_models m,
       (SELECT port, bytes, cpu, load, ok, host, proto, ARRAY[1, 2, 3]::real[] AS f
        FROM rows_data LIMIT 1) s
WHERE m.name = 'base';

-- a category never seen is "other": the row scores as more unusual than
-- with a common category, and vae_explain shows it
CREATE TEMP VIEW rows_42 AS
SELECT port, bytes, cpu, load, ok, host, proto, f FROM rows_data WHERE id = 42;
SELECT vae_score(m.model, u) > vae_score(m.model, c) AS unseen_scores_higher
FROM rows_models m,
     (SELECT port, bytes, cpu, load, ok, 'zzz' AS host, proto, f FROM rows_42) u,
     (SELECT port, bytes, cpu, load, ok, host, proto, f FROM rows_42) c
WHERE m.name = 'base';
SELECT e.feature, e.value, e.contribution > c.contribution AS costs_more
FROM rows_models m,
     (SELECT port, bytes, cpu, load, ok, 'zzz' AS host, proto, f FROM rows_42) u,
     vae_explain(m.model, u) e,
     rows_42 r, vae_explain(m.model, r) c
WHERE m.name = 'base' AND e.feature = 'host' AND c.feature = 'host';

-- vae_explain: one row per model column; the value as text; contributions
-- add up to the reconstruction term
SELECT e.feature, e.value, e.expected <> '' AS has_expected, e.contribution >= -50 AS sane
FROM rows_data t, rows_models m, vae_explain(m.model, t) e
WHERE m.name = 'base' AND t.id = 17;
SELECT jsonb_typeof(r->'host') AS host, jsonb_typeof(r->'ok') AS ok, jsonb_typeof(r->'port') AS port,
       (SELECT count(*) FROM jsonb_object_keys(r)) AS keys
FROM (SELECT vae_reconstruct(m.model, t) AS r FROM rows_data t, rows_models m
      WHERE m.name = 'base' AND t.id = 5) x;
SELECT array_length(vae_encode(m.model, t), 1) AS latent
FROM rows_data t, rows_models m WHERE m.name = 'base' AND t.id = 5;

-- NULLs are data: a NULL scores without error; a NULL where training never
-- saw one (port) raises the score
SELECT vae_score(m.model, n) > vae_score(m.model, r) AS null_port_scores_higher,
       vae_score(m.model, a) IS NOT NULL AS all_null_scores
FROM rows_models m, rows_42 r,
     (SELECT NULL::int AS port, bytes, cpu, load, ok, host, proto, f FROM rows_42) n,
     (SELECT NULL::int AS port, NULL::numeric AS bytes, NULL::real AS cpu, NULL::float8 AS load,
             NULL::boolean AS ok, NULL::text AS host, NULL::rows_proto AS proto,
             NULL::real[] AS f) a
WHERE m.name = 'base';
SELECT e.value, e.expected LIKE '%NULL (p=%' AS says_p_null
FROM rows_models m, (SELECT NULL::int AS port, bytes, cpu, load, ok, host, proto, f FROM rows_42) n,
     vae_explain(m.model, n) e
WHERE m.name = 'base' AND e.feature = 'port';

-- array models refuse rows and row models refuse arrays, saying which form to use
CREATE TABLE rows_arr AS
SELECT i, ARRAY[sin(i * 0.05) + CASE WHEN i % 50 = 0 THEN 3 ELSE 0 END, cos(i * 0.05),
                (i % 7) / 7.0, sin(i * 0.3)]::real[] AS f
FROM generate_series(1, 400) i;
INSERT INTO rows_models SELECT 'array', vae_train(f, '{"epochs": 15, "seed": 1}') FROM rows_arr;
INSERT INTO rows_models SELECT 'row of f', vae_train(ROW(f), '{"epochs": 15, "seed": 1}') FROM rows_arr;
SELECT vae_score(m.model, t) FROM rows_models m, rows_arr t WHERE m.name = 'array' LIMIT 1;
SELECT vae_explain(m.model, t) FROM rows_models m, rows_arr t WHERE m.name = 'array' LIMIT 1;
SELECT vae_score(m.model, t.f) FROM rows_models m, rows_arr t WHERE m.name = 'base' LIMIT 1;
SELECT vae_reconstruct(m.model, ARRAY[1, 2]::real[]) FROM rows_models m WHERE m.name = 'base';
SELECT vae_generate(model, 1) FROM rows_models WHERE name = 'base';
SELECT vae_generate_rows(model, 1) FROM rows_models WHERE name = 'array';

-- vae_train(ROW(f)) over a real[] column describes the same data as
-- vae_train(f) (ROW() names its column f1): as many inputs, scores that
-- agree, and the planted anomalies (every 50th row) above the rest for both
SELECT a.i->'input_dim' AS array_dim, r.i->'input_dim' AS row_dim,
       jsonb_path_query_array(r.i, '$.columns[*].name') AS row_columns
FROM (SELECT vae_model_info(model) AS i FROM rows_models WHERE name = 'array') a,
     (SELECT vae_model_info(model) AS i FROM rows_models WHERE name = 'row of f') r;
SELECT corr(vae_score(a.model, t.f, 'mse'), vae_score(r.model, ROW(t.f), 'mse')) > 0.7 AS scores_agree,
       avg(vae_score(a.model, t.f)) FILTER (WHERE i % 50 = 0) >
       avg(vae_score(a.model, t.f)) FILTER (WHERE i % 50 <> 0) AS array_finds_them,
       avg(vae_score(r.model, ROW(t.f))) FILTER (WHERE i % 50 = 0) >
       avg(vae_score(r.model, ROW(t.f))) FILTER (WHERE i % 50 <> 0) AS row_finds_them
FROM rows_arr t, rows_models a, rows_models r WHERE a.name = 'array' AND r.name = 'row of f';

-- generated rows: one jsonb object per row, every column a key
SELECT count(*) AS rows, bool_and((SELECT count(*) FROM jsonb_object_keys(g)) = 9) AS all_keys
FROM rows_models m, vae_generate_rows(m.model, 5, 7) g WHERE m.name = 'base';
SELECT (SELECT array_agg(g::text) FROM vae_generate_rows(m.model, 3, 7) g) =
       (SELECT array_agg(g::text) FROM vae_generate_rows(m.model, 3, 7) g) AS generate_repeats
FROM rows_models m WHERE m.name = 'base';
SET vae.max_generate_rows = 2;
SELECT count(*) FROM rows_models m, vae_generate_rows(m.model, 3) WHERE m.name = 'base';
RESET vae.max_generate_rows;

-- determinism: the model depends on the multiset of rows, not their order
-- (bytes compared without train_seconds and the CRC that covers it; single
-- networks here, ensembles in vae_ensemble)
CREATE FUNCTION pg_temp.md5_but_time(m bytea) RETURNS text LANGUAGE sql AS $$
	SELECT md5(substring(m FROM 1 FOR 152) || substring(m FROM 161 FOR length(m) - 164))
$$;
SET client_min_messages = warning;
SELECT count(DISTINCT pg_temp.md5_but_time(m)) AS distinct_models
FROM (SELECT vae_train(t, '{"ensemble": 1, "epochs": 5, "seed": 3}' ORDER BY id) AS m FROM rows_data t
      UNION ALL
      SELECT vae_train(t, '{"ensemble": 1, "epochs": 5, "seed": 3}' ORDER BY -id) FROM rows_data t
      UNION ALL
      SELECT vae_train(t, '{"ensemble": 1, "epochs": 5, "seed": 3}' ORDER BY md5(id::text)) FROM rows_data t
      UNION ALL
      SELECT vae_train(t, '{"ensemble": 1, "epochs": 5, "seed": 3}' ORDER BY host, cpu DESC) FROM rows_data t) x;
-- with a max_rows sample too, and with the scan in parallel workers
SELECT count(DISTINCT pg_temp.md5_but_time(m)) AS distinct_sampled_models
FROM (SELECT vae_train(t, '{"ensemble": 1, "epochs": 5, "max_rows": 100}' ORDER BY id) AS m FROM rows_data t
      UNION ALL
      SELECT vae_train(t, '{"ensemble": 1, "epochs": 5, "max_rows": 100}' ORDER BY md5(id::text)) FROM rows_data t) x;
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
CREATE TEMP TABLE rows_parallel AS
SELECT vae_train(t, '{"ensemble": 1, "epochs": 5, "max_rows": 100}') AS m FROM rows_data t;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SELECT pg_temp.md5_but_time(p.m) = pg_temp.md5_but_time(s.m) AS parallel_same,
       vae_model_info(p.m)->'rows' AS rows
FROM rows_parallel p,
     (SELECT vae_train(t, '{"ensemble": 1, "epochs": 5, "max_rows": 100}' ORDER BY -id) AS m FROM rows_data t) s;
RESET client_min_messages;

-- options: columns, exclude, kind, max_categories
SELECT jsonb_path_query_array(vae_model_info(vae_train(t, '{"epochs": 2, "columns": ["cpu", "host"]}')),
                              '$.columns[*].name') AS columns
FROM rows_data t;
SELECT jsonb_path_query_array(vae_model_info(vae_train(t, '{"epochs": 2, "exclude": ["f", "ts", "id", "blob", "note"],
                                                          "kind": {"port": "categorical", "proto": "ignore"}}')),
                              '$.columns[*] ? (@.kind == "categorical").name') AS categorical
FROM rows_data t;
SELECT jsonb_path_query_array(vae_model_info(vae_train(t, '{"epochs": 2, "columns": ["id", "ts"],
                                                          "kind": {"id": "continuous", "ts": "cyclic"}}')),
                              '$.columns[*].name') AS cyclic_and_key
FROM rows_data t;
SELECT jsonb_path_query_array(vae_model_info(vae_train(t, '{"epochs": 2, "columns": ["port"], "max_categories": 4,
                                                          "kind": {"port": "categorical"}}')),
                              '$.columns[0].categories') AS three_kept
FROM rows_data t;

-- a category's text may not depend on a setting (the scoring functions are
-- IMMUTABLE): a float category is its shortest exact decimal whatever
-- extra_float_digits says, and date/time types are refused as categories
CREATE TABLE rows_floatcat AS
SELECT (i % 4) * 0.1::float8 AS level, (i % 7)::real AS x FROM generate_series(1, 200) AS i;
CREATE TABLE rows_floatcat_model AS
SELECT vae_train(t, '{"epochs": 5, "kind": {"level": "categorical"}}') AS m FROM rows_floatcat t;
SELECT vae_model_info(m)->'columns'->0->'categories' AS float_categories FROM rows_floatcat_model;
CREATE TABLE rows_floatcat_scores AS
SELECT i, vae_score(m, t) AS s FROM rows_floatcat_model, (SELECT row_number() OVER () AS i, * FROM rows_floatcat) t;
SET extra_float_digits = 0;
SELECT bool_and(vae_score(m, t) = s.s) AS same_scores_whatever_extra_float_digits
FROM rows_floatcat_model, (SELECT row_number() OVER () AS i, * FROM rows_floatcat) t JOIN rows_floatcat_scores s USING (i);
SET extra_float_digits = 3;
SELECT vae_train(t, '{"columns": ["ts", "port"], "kind": {"ts": "categorical"}}') FROM rows_data t;

-- a row map cached by a call site is rebuilt when the row type changes in
-- the session (ALTER TABLE between two calls of one PL/pgSQL expression):
-- the second call reads the new layout, here a clear wrong-kind error
CREATE TABLE rows_alter AS SELECT (i % 5)::int AS a, (ARRAY['x', 'y'])[1 + i % 2] AS b
FROM generate_series(1, 100) AS i;
CREATE TABLE rows_alter_model AS SELECT vae_train(t, '{"epochs": 2}') AS m FROM rows_alter t;
DO $$
DECLARE
	r rows_alter;
	m bytea := (SELECT m FROM rows_alter_model);
	s float8;
BEGIN
	FOR i IN 1..2 LOOP
		SELECT * INTO r FROM rows_alter LIMIT 1;
		s := vae_score(m, r);
		RAISE NOTICE 'call % scored', i;
		IF i = 1 THEN
			EXECUTE 'ALTER TABLE rows_alter ALTER COLUMN a TYPE text';
		END IF;
	END LOOP;
END $$;

-- option errors name the column and list the real ones
SELECT vae_train(t, '{"exclude": ["nope"]}') FROM rows_data t;
SELECT vae_train(t, '{"kind": {"host": "boolean"}}') FROM rows_data t;
SELECT vae_train(t, '{"kind": {"host": "fancy"}}') FROM rows_data t;
SELECT vae_train(t, '{"max_categories": 1}') FROM rows_data t;
SELECT vae_train(t, '{"columns": "cpu"}') FROM rows_data t;
SELECT vae_train(f, '{"columns": ["f"]}') FROM rows_arr;
SELECT vae_train(t, '{"columns": ["blob"]}') FROM rows_data t;

-- two features of one name (an array element beside a column named like it,
-- a cyclic phase beside one) name both sources
SELECT vae_train(x) FROM (SELECT ARRAY[i, i + 1]::real[] AS a, i::real AS "a[1]"
                          FROM generate_series(1, 20) i) x;
SELECT vae_train(x, '{"kind": {"t": "cyclic"}}')
FROM (SELECT timestamptz '2026-12-01 00:00+00' + i * interval '1 hour' AS t, i::real AS "t:hour"
      FROM generate_series(1, 20) i) x;

-- NaN in a float column names the column and the row; arrays of another length too
SELECT vae_train(x) FROM (SELECT i, CASE WHEN i = 7 THEN 'NaN'::float8 ELSE i END AS v
                          FROM generate_series(1, 10) i) x;
SELECT vae_train(x) FROM (SELECT i % 3 AS k, CASE WHEN i = 5 THEN ARRAY[1, 2, 3] ELSE ARRAY[1, 2] END AS a
                          FROM generate_series(1, 10) i) x;
SELECT vae_score(m.model, s) FROM rows_models m,
       (SELECT port, bytes, 'Infinity'::real AS cpu, load, ok, host, proto, f FROM rows_42) s
WHERE m.name = 'base';

-- keys past 2^24, where float32 no longer holds every integer, are still keys
-- (dense and sparse ones); a large integer that repeats more often than its
-- neighbours could share a float is not
SELECT jsonb_path_query_array(vae_model_info(vae_train(t, '{"epochs": 1}')), '$.columns[*].name') AS kept
FROM (SELECT (50000000 + i)::bigint AS id, (3000000000 + 7 * i)::bigint AS sparse_id,
             (60000000 + 8 * (i % 100))::int AS big_repeat, 16777000 + i AS near_limit, i % 7 AS v
      FROM generate_series(1, 2000) i) t;

-- whole NULL rows are skipped; a row model needs a row to model
SELECT vae_model_info(vae_train(x, '{"epochs": 2}'))->'rows' AS rows
FROM (SELECT CASE WHEN i % 2 = 0 THEN i % 5 END AS a, CASE WHEN i % 2 = 0 THEN i % 3 END AS b
      FROM generate_series(1, 40) i) x;
SELECT vae_train(x) FROM (SELECT NULL::int AS a FROM generate_series(1, 3)) x;

-- row models train on the CPU: with device 'gpu', or 'auto' and a worker
-- configured, a NOTICE says so (and no worker is asked)
SELECT length(vae_train(x, '{"epochs": 2, "device": "gpu"}')) > 0 AS trained
FROM (SELECT i % 5 AS a, i % 3 AS b FROM generate_series(1, 40) i) x;
SET vae.gpu_worker = '/nonexistent/vae_gpud.sock';
SELECT length(vae_train(x, '{"epochs": 2}')) > 0 AS trained
FROM (SELECT i % 5 AS a, i % 3 AS b FROM generate_series(1, 40) i) x;
SELECT length(vae_train(x, '{"epochs": 2, "device": "cpu"}')) > 0 AS trained_quietly
FROM (SELECT i % 5 AS a, i % 3 AS b FROM generate_series(1, 40) i) x;
RESET vae.gpu_worker;

-- the row functions are immutable, strict and parallel safe like the array ones
SELECT p.oid::regprocedure AS function, p.provolatile, p.proisstrict, p.proparallel
FROM pg_proc p
WHERE p.proname IN ('vae_score', 'vae_encode', 'vae_reconstruct', 'vae_explain', 'vae_generate_rows')
  AND pg_get_function_identity_arguments(p.oid) ~ 'record|n integer'
  AND p.proargtypes[0] = 'bytea'::regtype	-- by name (text): vae_registry
ORDER BY p.oid::regprocedure::text;
SELECT a.aggfnoid::regprocedure AS aggregate, p.proparallel, a.aggcombinefn = 0 AS no_combine
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
WHERE p.proname = 'vae_train' ORDER BY 1::text;
