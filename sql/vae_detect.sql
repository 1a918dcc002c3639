--
-- vae_detect: detection in one call (docs/detect.md "vae_detect"): the
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

CREATE TABLE det_traffic AS
SELECT i AS id,
       (i % 50)::int AS port,
       CASE WHEN i % 17 = 0 THEN NULL ELSE 100 + 10 * sin(i * 0.1) END AS bytes,
       (ARRAY['web', 'db', 'cache'])[1 + i % 3] AS host,
       i % 4 = 0 AS ok
FROM generate_series(1, 300) AS i;
CREATE TABLE det_models AS
SELECT 'rows'::text AS name, vae_train(t, '{"epochs": 10, "seed": 1, "exclude": ["id"]}') AS model
FROM det_traffic t
UNION ALL
SELECT 'array', vae_train(ARRAY[port, coalesce(bytes, 100), id % 3]::real[], '{"epochs": 10, "seed": 1}')
FROM det_traffic;
-- two rows far out: bytes a million, port -500
INSERT INTO det_traffic VALUES (1001, 7, 1e6, 'db', true), (1002, -500, 100, 'web', false);

-- the score is vae_score's and the threshold vae_threshold's, bit for bit;
-- NULL or no contamination is the automatic threshold
SELECT count(*) AS rows,
       bool_and(d.score = vae_score(m.model, t)) AS score_is_vae_score,
       bool_and(d.threshold = vae_threshold(m.model, 0.05)) AS threshold_of_contamination,
       bool_and(d.is_anomaly = (d.score > d.threshold)) AS verdict,
       bool_and((vae_detect(m.model, t)).threshold = vae_threshold(m.model)) AS auto_default,
       bool_and((vae_detect(m.model, t, NULL)).threshold = vae_threshold(m.model)) AS auto_null,
       bool_and(d.percentile >= 0 AND d.percentile <= 1) AS percentile_in_0_1
FROM det_traffic t, det_models m, LATERAL vae_detect(m.model, t, 0.05) d
WHERE m.name = 'rows';

-- the percentile is the share of the stored training scores below the
-- score: contamination c puts about 1 - c of them below its threshold, so
-- rows above it are at least there; the rows far out are above all of them
SELECT bool_and(d.percentile >= 0.9 OR NOT d.is_anomaly) AS anomalies_high,
       bool_and(d.percentile < 0.9 OR d.is_anomaly OR d.score <= d.threshold) AS consistent,
       min(d.percentile) FILTER (WHERE t.id > 1000) AS far_out_percentile,
       bool_and(d.is_anomaly) FILTER (WHERE t.id > 1000) AS far_out_flagged,
       count(*) FILTER (WHERE d.is_anomaly AND t.id <= 1000) BETWEEN 5 AND 60 AS about_a_tenth
FROM det_traffic t, det_models m, LATERAL vae_detect(m.model, t, 0.1) d
WHERE m.name = 'rows';
-- and it grows with the score
SELECT bool_and(p_next >= p) AS monotone
FROM (SELECT d.percentile AS p, lead(d.percentile) OVER (ORDER BY d.score) AS p_next
      FROM det_traffic t, det_models m, LATERAL vae_detect(m.model, t) d
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
FROM det_traffic t, det_models m, LATERAL vae_detect(m.model, t, 0.05) d
WHERE m.name = 'rows' AND t.id > 1000 ORDER BY t.id;
SELECT bool_and((d.top->0->>'contribution')::float8 >= (d.top->1->>'contribution')::float8
                AND (d.top->1->>'contribution')::float8 >= (d.top->2->>'contribution')::float8) AS ordered,
       bool_and((SELECT bool_and((e->>'share')::float8 BETWEEN 0 AND 1)
                 FROM jsonb_array_elements(d.top) e)) AS shares_in_0_1,
       bool_and(((d.top->0->>'contribution')::float8 - x.contribution) = 0) AS explain_agrees
FROM det_traffic t, det_models m, LATERAL vae_detect(m.model, t) d,
     LATERAL (SELECT e.feature, e.contribution FROM vae_explain(m.model, t) e
              ORDER BY e.contribution DESC LIMIT 1) x
WHERE m.name = 'rows' AND x.feature = d.top->0->>'column';
SELECT jsonb_array_length((vae_detect(m.model, t, 0.05, 0)).top) AS none,
       jsonb_array_length((vae_detect(m.model, t, 0.05, 99)).top) AS every_column,
       jsonb_array_length((vae_detect(m.model, t, 0.05, NULL)).top) AS default_count,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys((vae_detect(m.model, t)).top->0) k) AS keys
FROM det_traffic t, det_models m WHERE m.name = 'rows' AND t.id = 1;

-- in a view, as the issue asks: SELECT t.*, d.* ... LATERAL vae_detect(...)
CREATE VIEW det_flagged AS
SELECT t.*, d.*
FROM det_traffic t, det_models m, LATERAL vae_detect(m.model, t, 0.01) d
WHERE m.name = 'rows' AND d.is_anomaly;
SELECT id, port, host, is_anomaly, jsonb_array_length(top) AS n_top
FROM det_flagged WHERE id > 1000 ORDER BY id;
SELECT count(*) = (SELECT count(*) FROM det_traffic t, det_models m
                   WHERE m.name = 'rows' AND vae_score(m.model, t) > vae_threshold(m.model, 0.01))
       AS view_flags_what_vae_score_does
FROM det_flagged;

-- the array form: features numbered from 1
SELECT bool_and(d.score = vae_score(m.model, f)) AS score_is_vae_score,
       bool_and(d.threshold = vae_threshold(m.model)) AS auto_threshold,
       bool_and((d.top->0->>'column')::int BETWEEN 1 AND 3) AS feature_numbers,
       bool_and(jsonb_array_length(d.top) = 3) AS all_three
FROM (SELECT ARRAY[port, coalesce(bytes, 100), id % 3]::real[] AS f FROM det_traffic) t,
     det_models m, LATERAL vae_detect(m.model, t.f) d
WHERE m.name = 'array';
SELECT (vae_detect(m.model, '{7,1e6,1}'::real[], 0.01)).top @> '[{"column": 2, "value": 1000000}]'
       AS culprit_in_top
FROM det_models m WHERE m.name = 'array';

-- NULL model or row: NULL, as from a strict function
SELECT vae_detect(NULL::bytea, t) IS NULL AS null_model,
       vae_detect(m.model, NULL::det_traffic) IS NULL AS null_row
FROM det_traffic t, det_models m WHERE m.name = 'rows' AND t.id = 1;

-- errors, with their SQLSTATEs
SELECT pg_temp.err($$SELECT vae_detect(model, t, 1.5) FROM det_traffic t, det_models WHERE name = 'rows'$$);
SELECT pg_temp.err($$SELECT vae_detect(model, t, -0.1) FROM det_traffic t, det_models WHERE name = 'rows'$$);
SELECT pg_temp.err($$SELECT vae_detect(model, t, 'NaN') FROM det_traffic t, det_models WHERE name = 'rows'$$);
SELECT pg_temp.err($$SELECT vae_detect(model, t, 0.1, -1) FROM det_traffic t, det_models WHERE name = 'rows'$$);
SELECT pg_temp.err($$SELECT vae_detect(model, t) FROM det_traffic t, det_models WHERE name = 'array'$$);
SELECT pg_temp.err($$SELECT vae_detect(model, '{1,2,3}'::real[]) FROM det_models WHERE name = 'rows'$$);
SELECT pg_temp.err($$SELECT vae_detect(model, '{1,2}'::real[]) FROM det_models WHERE name = 'array'$$);
SELECT pg_temp.err($$SELECT vae_detect(model, '{1,NaN,2}'::real[]) FROM det_models WHERE name = 'array'$$);
SELECT pg_temp.err($$SELECT vae_detect('\x00'::bytea, '{1,2,3}'::real[])$$);
SELECT pg_temp.err($$SELECT vae_detect(model, ROW(1, 2)) FROM det_models WHERE name = 'rows'$$);
