--
-- vae_detect: detection in one call (docs/scoring.md, "Detection in one call"): the
-- score, threshold, verdict, percentile and top columns of a row or a
-- feature array, equal to what vae_score, vae_threshold and vae_explain
-- say; usable with LATERAL in a view; the errors.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vae;
RESET client_min_messages;
\set VERBOSITY default

-- SQLSTATE and message of the error q raises, or 'no error'
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

CREATE TABLE vd_traffic AS
SELECT i AS id,
       (i % 50)::int AS port,
       CASE WHEN i % 17 = 0 THEN NULL ELSE 100 + 10 * sin(i * 0.1) END AS bytes,
       (ARRAY['web', 'db', 'cache'])[1 + i % 3] AS host,
       i % 4 = 0 AS ok
FROM generate_series(1, 300) AS i;
CREATE TABLE vd_models AS
SELECT 'rows'::text AS name, vae_train(t, '{"epochs": 10, "seed": 1, "exclude": ["id"]}') AS model
FROM vd_traffic t
UNION ALL
SELECT 'array', vae_train(ARRAY[port, coalesce(bytes, 100), id % 3]::real[], '{"epochs": 10, "seed": 1}')
FROM vd_traffic;
-- two rows far out: bytes a million, port -500
INSERT INTO vd_traffic VALUES (1001, 7, 1e6, 'db', true), (1002, -500, 100, 'web', false);

-- the score is vae_score's and the threshold vae_threshold's, bit for bit;
-- NULL or no contamination is the automatic threshold
SELECT count(*) AS rows,
       bool_and(d.score = vae_score(m.model, t)) AS score_is_vae_score,
       bool_and(d.threshold = vae_threshold(m.model, 0.05)) AS threshold_of_contamination,
       bool_and(d.is_anomaly = (d.score > d.threshold)) AS verdict,
       bool_and((vae_detect(m.model, t)).threshold = vae_threshold(m.model)) AS auto_default,
       bool_and((vae_detect(m.model, t, NULL)).threshold = vae_threshold(m.model)) AS auto_null,
       bool_and(d.percentile >= 0 AND d.percentile <= 1) AS percentile_in_0_1
FROM vd_traffic t, vd_models m, LATERAL vae_detect(m.model, t, 0.05) d
WHERE m.name = 'rows';

-- the percentile is the share of the stored training scores below the
-- score: contamination c puts about 1 - c of them below its threshold, so
-- rows above it are at least there; the rows far out are above all of them
SELECT bool_and(d.percentile >= 0.9 OR NOT d.is_anomaly) AS anomalies_high,
       bool_and(d.percentile < 0.9 OR d.is_anomaly OR d.score <= d.threshold) AS consistent,
       min(d.percentile) FILTER (WHERE t.id > 1000) AS far_out_percentile,
       bool_and(d.is_anomaly) FILTER (WHERE t.id > 1000) AS far_out_flagged,
       count(*) FILTER (WHERE d.is_anomaly AND t.id <= 1000) BETWEEN 5 AND 60 AS about_a_tenth
FROM vd_traffic t, vd_models m, LATERAL vae_detect(m.model, t, 0.1) d
WHERE m.name = 'rows';
-- and it grows with the score
SELECT bool_and(p_next >= p) AS monotone
FROM (SELECT d.percentile AS p, lead(d.percentile) OVER (ORDER BY d.score) AS p_next
      FROM vd_traffic t, vd_models m, LATERAL vae_detect(m.model, t) d
      WHERE m.name = 'rows') x
WHERE p_next IS NOT NULL;

-- top: 3 columns by default, largest contribution first, the culprit of
-- each far-out row among them with its value (an explanation by
-- reconstruction: a huge bytes also pulls the decoder's port far off, so
-- port may come first); the contributions are vae_explain's and the shares
-- within [0, 1]
SELECT t.id, jsonb_array_length(d.top) AS n_top,
       d.top @> '[{"column": "bytes", "value": 1000000}]' AS bytes_in_top,
       d.top @> '[{"column": "port", "value": -500}]' AS port_in_top,
       (d.top->0->>'share')::float8 > 0.5 AS first_is_most
FROM vd_traffic t, vd_models m, LATERAL vae_detect(m.model, t, 0.05) d
WHERE m.name = 'rows' AND t.id > 1000 ORDER BY t.id;
SELECT bool_and((d.top->0->>'contribution')::float8 >= (d.top->1->>'contribution')::float8
                AND (d.top->1->>'contribution')::float8 >= (d.top->2->>'contribution')::float8) AS ordered,
       bool_and((SELECT bool_and((e->>'share')::float8 BETWEEN 0 AND 1)
                 FROM jsonb_array_elements(d.top) e)) AS shares_in_0_1,
       bool_and(((d.top->0->>'contribution')::float8 - x.contribution) = 0) AS explain_agrees
FROM vd_traffic t, vd_models m, LATERAL vae_detect(m.model, t) d,
     LATERAL (SELECT e.feature, e.contribution FROM vae_explain(m.model, t) e
              ORDER BY e.contribution DESC LIMIT 1) x
WHERE m.name = 'rows' AND x.feature = d.top->0->>'column';
SELECT jsonb_array_length((vae_detect(m.model, t, 0.05, 0)).top) AS none,
       jsonb_array_length((vae_detect(m.model, t, 0.05, 99)).top) AS every_column,
       jsonb_array_length((vae_detect(m.model, t, 0.05, NULL)).top) AS default_count,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys((vae_detect(m.model, t)).top->0) k) AS keys
FROM vd_traffic t, vd_models m WHERE m.name = 'rows' AND t.id = 1;

-- in a view, as the issue asks: SELECT t.*, d.* ... LATERAL vae_detect(...)
CREATE VIEW vd_flagged AS
SELECT t.*, d.*
FROM vd_traffic t, vd_models m, LATERAL vae_detect(m.model, t, 0.01) d
WHERE m.name = 'rows' AND d.is_anomaly;
SELECT id, port, host, is_anomaly, jsonb_array_length(top) AS n_top
FROM vd_flagged WHERE id > 1000 ORDER BY id;
SELECT count(*) = (SELECT count(*) FROM vd_traffic t, vd_models m
                   WHERE m.name = 'rows' AND vae_score(m.model, t) > vae_threshold(m.model, 0.01))
       AS view_flags_what_vae_score_does
FROM vd_flagged;

-- the array form: features numbered from 1
SELECT bool_and(d.score = vae_score(m.model, f)) AS score_is_vae_score,
       bool_and(d.threshold = vae_threshold(m.model)) AS auto_threshold,
       bool_and((d.top->0->>'column')::int BETWEEN 1 AND 3) AS feature_numbers,
       bool_and(jsonb_array_length(d.top) = 3) AS all_three
FROM (SELECT ARRAY[port, coalesce(bytes, 100), id % 3]::real[] AS f FROM vd_traffic) t,
     vd_models m, LATERAL vae_detect(m.model, t.f) d
WHERE m.name = 'array';
SELECT (vae_detect(m.model, '{7,1e6,1}'::real[], 0.01)).top @> '[{"column": 2, "value": 1000000}]'
       AS culprit_in_top,
       (vae_detect(m.model, '{0.1,1e6,1}'::real[], 0.01, 3)).top @> '[{"column": 1, "value": 0.1}]'
       AS values_as_real
FROM vd_models m WHERE m.name = 'array';

-- NULL model or row: NULL, as from a strict function
SELECT vae_detect(NULL::bytea, t) IS NULL AS null_model,
       vae_detect(m.model, NULL::vd_traffic) IS NULL AS null_row
FROM vd_traffic t, vd_models m WHERE m.name = 'rows' AND t.id = 1;

-- errors, with their SQLSTATEs
SELECT pg_temp.err($$SELECT vae_detect(model, t, 1.5) FROM vd_traffic t, vd_models WHERE name = 'rows'$$);
SELECT pg_temp.err($$SELECT vae_detect(model, t, -0.1) FROM vd_traffic t, vd_models WHERE name = 'rows'$$);
SELECT pg_temp.err($$SELECT vae_detect(model, t, 'NaN') FROM vd_traffic t, vd_models WHERE name = 'rows'$$);
SELECT pg_temp.err($$SELECT vae_detect(model, t, 0.1, -1) FROM vd_traffic t, vd_models WHERE name = 'rows'$$);
SELECT pg_temp.err($$SELECT vae_detect(model, t) FROM vd_traffic t, vd_models WHERE name = 'array'$$);
SELECT pg_temp.err($$SELECT vae_detect(model, '{1,2,3}'::real[]) FROM vd_models WHERE name = 'rows'$$);
SELECT pg_temp.err($$SELECT vae_detect(model, '{1,2}'::real[]) FROM vd_models WHERE name = 'array'$$);
SELECT pg_temp.err($$SELECT vae_detect(model, '{1,NaN,2}'::real[]) FROM vd_models WHERE name = 'array'$$);
SELECT pg_temp.err($$SELECT vae_detect('\x00'::bytea, '{1,2,3}'::real[])$$);
SELECT pg_temp.err($$SELECT vae_detect(model, ROW(1, 2)) FROM vd_models WHERE name = 'rows'$$);

--
-- The set-returning form over a relation or a query: the function reads the
-- rows itself (a cursor, fetches of 1024 rows, blocks of rows scored with
-- one GEMM per layer).
--
-- every row, in the source's order: the scores and the threshold of
-- vae_score and vae_threshold, and what the per-row form says
CREATE TABLE vd_big AS
SELECT (i % 300) + 1 AS k, t.port, t.bytes, t.host, t.ok
FROM generate_series(0, 2999) AS i JOIN vd_traffic t ON t.id = (i % 300) + 1;
INSERT INTO vd_big SELECT 1000 + id, port, bytes, host, ok FROM vd_traffic WHERE id > 1000;
SELECT count(*) AS rows,
       bool_and(d.score = vae_score(m.model, x.b)) AS score_is_vae_score,
       bool_and(d.threshold = vae_threshold(m.model, 0.05)) AS threshold,
       bool_and(d.is_anomaly = p.is_anomaly AND d.percentile = p.percentile) AS per_row_form_agrees,
       bool_and((d.top = p.top) IS NOT FALSE) AS same_top,
       bool_and((d.top IS NOT NULL) = d.is_anomaly AND (d.row_data IS NOT NULL) = d.is_anomaly)
         AS explained_when_anomalous,
       count(*) FILTER (WHERE d.is_anomaly) > 0 AS some_anomalies
FROM vd_models m,
     vae_detect(m.model, 'SELECT * FROM vd_big ORDER BY k, port', 0.05) d
     JOIN (SELECT row_number() OVER (ORDER BY k, port) AS n, b FROM vd_big b) x ON x.n = d.row_number,
     LATERAL vae_detect(m.model, x.b, 0.05) p
WHERE m.name = 'rows';
-- a relation (regclass, or a text that is a plain name) and a query agree;
-- anomalies_only keeps the anomalies; row_data is the row
SELECT (SELECT count(*) FROM vd_models m, vae_detect(m.model, 'vd_traffic'::regclass) d
        WHERE m.name = 'rows') AS regclass_rows,
       (SELECT count(*) FROM vd_models m, vae_detect(m.model, 'vd_traffic') d
        WHERE m.name = 'rows') AS name_rows,
       (SELECT sum(d.score) FROM vd_models m, vae_detect(m.model, 'public.vd_traffic') d
        WHERE m.name = 'rows') =
       (SELECT sum(d.score) FROM vd_models m, vae_detect(m.model, 'TABLE vd_traffic') d
        WHERE m.name = 'rows') AS same_scores;
SELECT d.row_data->>'id' AS id, d.is_anomaly, d.percentile, jsonb_array_length(d.top) AS n_top,
       d.row_data ? 'host' AS whole_row
FROM vd_models m, vae_detect(m.model, 'vd_traffic'::regclass, 0.01, true, 2) d
WHERE m.name = 'rows' AND (d.row_data->>'id')::int > 1000 ORDER BY 1;
SELECT count(*) = (SELECT count(*) FROM vd_flagged) AS anomalies_only_is_the_view
FROM vd_models m, vae_detect(m.model, 'vd_traffic'::regclass, 0.01, anomalies_only => true) d
WHERE m.name = 'rows';
-- an array model reads the column named features, else the one array column;
-- a NULL array scores NULL
SELECT count(*) AS rows, count(d.score) AS scored,
       bool_and(d.score = vae_score(m.model, x.f)) AS score_is_vae_score
FROM vd_models m,
     vae_detect(m.model, $$SELECT ARRAY[port, coalesce(bytes, 100), id % 3]::real[] AS f, id
                            FROM vd_traffic UNION ALL SELECT NULL, 0 ORDER BY 2$$) d
     LEFT JOIN (SELECT row_number() OVER (ORDER BY id) + 1 AS n,
                       ARRAY[port, coalesce(bytes, 100), id % 3]::real[] AS f FROM vd_traffic) x
       ON x.n = d.row_number
WHERE m.name = 'array';
SELECT count(*) FROM vd_models m,
       vae_detect(m.model, 'SELECT 1 AS id, ARRAY[1, 2, 3]::real[] AS features, ARRAY[1]::real[] AS other') d
WHERE m.name = 'array';
-- no rows, and NULL model or source: no rows
SELECT count(*) FROM vd_models m, vae_detect(m.model, 'SELECT * FROM vd_traffic WHERE false') d
WHERE m.name = 'rows';
SELECT count(*) FROM vae_detect(NULL, 'vd_traffic'::regclass);
SELECT count(*) FROM vd_models m, vae_detect(m.model, NULL::text) d WHERE m.name = 'rows';

-- errors name the row (its position in the source) in their context
\set VERBOSITY default
SELECT d.* FROM vd_models m,
       vae_detect(m.model, $$VALUES (ARRAY[1, 2, 3]::real[]), (ARRAY[1, 'NaN', 3]::real[])$$) d
WHERE m.name = 'array';
SELECT d.* FROM vd_models m,
       vae_detect(m.model, $$SELECT 7 AS port, 100.0 AS bytes, 'web' AS host, true AS ok
                             UNION ALL SELECT 7, 'Infinity'::float8, 'db', false$$) d
WHERE m.name = 'rows';
SELECT pg_temp.err($$SELECT vae_detect(model, 'SELECT 1 AS a') FROM vd_models WHERE name = 'rows'$$);
SELECT pg_temp.err($$SELECT vae_detect(model, 'SELECT 1 AS a, ARRAY[1]::real[] AS f') FROM vd_models WHERE name = 'array'$$);
SELECT pg_temp.err($$SELECT vae_detect(model, 'SELECT 1 AS a') FROM vd_models WHERE name = 'array'$$);
SELECT pg_temp.err($$SELECT vae_detect(model, 'no_such_table') FROM vd_models WHERE name = 'rows'$$);
SELECT pg_temp.err($$SELECT vae_detect(model, 'SELEC * FROM vd_traffic') FROM vd_models WHERE name = 'rows'$$);
SELECT pg_temp.err($$SELECT vae_detect(model, 'DELETE FROM vd_traffic RETURNING *') FROM vd_models WHERE name = 'rows'$$);
SELECT pg_temp.err($$SELECT vae_detect(model, 'CREATE TABLE vd_x (a int)') FROM vd_models WHERE name = 'rows'$$);
SELECT pg_temp.err($$SELECT vae_detect(model, 'vd_traffic'::regclass, 2) FROM vd_models WHERE name = 'rows'$$);
SELECT pg_temp.err($$SELECT vae_detect(model, 'vd_traffic'::regclass, top_columns => -2) FROM vd_models WHERE name = 'rows'$$);
SELECT count(*) AS still_there FROM vd_traffic;
-- an error later in the statement, after the set-returning form returned:
-- its error context callback is off the stack by then (a dangling one
-- crashed the backend here)
SELECT count(*) / 0 FROM vd_models m, vae_detect(m.model, 'vd_traffic'::regclass) d WHERE m.name = 'rows';
SELECT count(*) > 0 AS still_here FROM vd_models m, vae_detect(m.model, 'vd_traffic'::regclass) d WHERE m.name = 'rows';

--
-- The scoring method, the last argument of every form (recon_prob by
-- default): the score is vae_score(model, r, method)'s and the threshold
-- vae_threshold(model, c, method)'s, bit for bit; with no contamination the
-- method's own automatic cut, Q3 + 1.5 (Q3 - Q1) of its training scores.
--
-- an ensemble too: its stored training scores are kept per method
INSERT INTO vd_models
SELECT 'ensemble', vae_train(t, '{"epochs": 5, "seed": 1, "exclude": ["id"], "ensemble": 3}')
FROM vd_traffic t WHERE id <= 300;
-- per row, each method and model
SELECT m.name, meth,
       bool_and(d.score = vae_score(m.model, t, meth)) AS score_is_vae_score,
       bool_and(d.threshold = vae_threshold(m.model, 0.05, meth)) AS threshold,
       bool_and(d.is_anomaly = (d.score > d.threshold)) AS verdict,
       bool_and(a.threshold = q.q3 + 1.5 * (q.q3 - q.q1)) AS auto_is_the_fence,
       bool_and(a.score = d.score AND a.percentile = d.percentile) AS same_row,
       bool_and(d.top = (vae_detect(m.model, t, 0.05)).top) AS top_whatever_the_method
FROM vd_models m, vd_traffic t, unnest(enum_range(NULL::vae_method)) AS meth,
     LATERAL vae_detect(m.model, t, 0.05, method => meth) d,
     LATERAL vae_detect(m.model, t, NULL, 3, meth) a,
     LATERAL (SELECT vae_threshold(m.model, 0.25, meth) AS q3,
                     vae_threshold(m.model, 0.75, meth) AS q1) q
WHERE m.name IN ('rows', 'ensemble')
GROUP BY 1, 2 ORDER BY 1, 2;
-- the array form
SELECT meth,
       bool_and(d.score = vae_score(m.model, t.f, meth)) AS score_is_vae_score,
       bool_and(d.threshold = vae_threshold(m.model, 0.05, meth)) AS threshold
FROM (SELECT ARRAY[port, coalesce(bytes, 100), id % 3]::real[] AS f FROM vd_traffic) t,
     vd_models m, unnest(enum_range(NULL::vae_method)) AS meth,
     LATERAL vae_detect(m.model, t.f, 0.05, 3, meth) d
WHERE m.name = 'array' GROUP BY 1 ORDER BY 1;
-- the methods differ: their own scores, cuts and percentiles
SELECT count(DISTINCT d.threshold) AS thresholds, count(DISTINCT d.score) AS scores
FROM vd_models m, vd_traffic t, unnest(enum_range(NULL::vae_method)) AS meth,
     LATERAL vae_detect(m.model, t, method => meth) d
WHERE m.name = 'rows' AND t.id = 1;
SELECT meth, d.is_anomaly, d.percentile = 1 AS above_every_training_row
FROM vd_models m, vd_traffic t, unnest(enum_range(NULL::vae_method)) AS meth,
     LATERAL vae_detect(m.model, t, 0.01, method => meth) d
WHERE m.name = 'rows' AND t.id = 1001 ORDER BY 1;
-- over a relation and a query: what the per-row form says, for each method
SELECT m.name, meth,
       bool_and(d.score = vae_score(m.model, x.b, meth)) AS score_is_vae_score,
       bool_and(d.threshold = vae_threshold(m.model, 0.05, meth)) AS threshold,
       bool_and(d.is_anomaly = p.is_anomaly AND d.percentile = p.percentile) AS per_row_form_agrees,
       bool_and((d.top = p.top) IS NOT FALSE) AS same_top
FROM vd_models m, unnest(enum_range(NULL::vae_method)) AS meth,
     vae_detect(m.model, 'SELECT * FROM vd_big ORDER BY k, port', 0.05, false, 3, meth) d
     JOIN (SELECT row_number() OVER (ORDER BY k, port) AS n, b FROM vd_big b) x ON x.n = d.row_number,
     LATERAL vae_detect(m.model, x.b, 0.05, 3, meth) p
WHERE m.name IN ('rows', 'ensemble')
GROUP BY 1, 2 ORDER BY 1, 2;
SELECT meth,
       bool_and(d.score = vae_score(m.model, x.t, meth)) AS score_is_vae_score,
       bool_and(d.threshold = p.threshold AND d.percentile = p.percentile) AS auto_per_row_agrees
FROM vd_models m, unnest(enum_range(NULL::vae_method)) AS meth,
     vae_detect(m.model, 'SELECT * FROM vd_traffic ORDER BY id', method => meth) d
     JOIN (SELECT row_number() OVER (ORDER BY id) AS n, t FROM vd_traffic t) x ON x.n = d.row_number,
     LATERAL vae_detect(m.model, x.t, method => meth) p
WHERE m.name = 'rows' GROUP BY 1 ORDER BY 1;
-- by a registered model's name: the same C functions
SELECT vae_register('vd_rows', model) AS version FROM vd_models WHERE name = 'rows';
SELECT bool_and(dn = db) AS per_row_by_name
FROM vd_traffic t, vd_models m, LATERAL vae_detect('vd_rows', t, 0.05, 3, 'mse') dn,
     LATERAL vae_detect(m.model, t, 0.05, 3, 'mse') db
WHERE m.name = 'rows';
SELECT (SELECT array_agg(d ORDER BY row_number)
        FROM vae_detect('vd_rows', 'vd_traffic'::regclass, method => 'elbo') d)
     = (SELECT array_agg(d ORDER BY row_number)
        FROM vd_models m, vae_detect(m.model, 'vd_traffic'::regclass, method => 'elbo') d
        WHERE m.name = 'rows') AS set_by_name;
-- in a view
CREATE VIEW vd_flagged_mse AS
SELECT t.*, d.*
FROM vd_traffic t, vd_models m, LATERAL vae_detect(m.model, t, 0.01, method => 'mse') d
WHERE m.name = 'rows' AND d.is_anomaly;
SELECT id, is_anomaly FROM vd_flagged_mse WHERE id > 1000 ORDER BY id;
SELECT count(*) = (SELECT count(*) FROM vd_traffic t, vd_models m
                   WHERE m.name = 'rows'
                     AND vae_score(m.model, t, 'mse'::vae_method)
                         > vae_threshold(m.model, 0.01, 'mse'::vae_method))
       AS view_flags_what_vae_score_does
FROM vd_flagged_mse;
-- NULL method: the model's own (option method, elbo by default), as when
-- left out, every field; an unknown one
SELECT vae_detect(m.model, t, 0.05, 3, NULL) = vae_detect(m.model, t, 0.05, 3) AS null_method_same,
       (vae_detect(m.model, t, NULL, 3, NULL)).threshold = vae_threshold(m.model) AS automatic_cut_same,
       (vae_detect(m.model, t, 0.05, 3, NULL)).score = vae_score(m.model, t, 'elbo') AS scores_by_elbo
FROM vd_traffic t, vd_models m WHERE m.name = 'rows' AND t.id = 1;
SELECT array_agg(d.score ORDER BY d.score)
         = (SELECT array_agg(vae_score(m.model, t) ORDER BY vae_score(m.model, t)) FROM vd_traffic t)
         AS models_method
FROM vd_models m, vae_detect(m.model, 'vd_traffic'::regclass, method => NULL) d
WHERE m.name = 'rows'
GROUP BY m.model;
SELECT pg_temp.err($$SELECT vae_detect(model, t, method => 'nll') FROM vd_traffic t, vd_models WHERE name = 'rows'$$);
