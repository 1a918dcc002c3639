--
-- vae_method: the scoring method as an enum (docs/scale-out.md).  An enum
-- has no collation, so postgres_fdw ships a call with a method constant; the
-- 1.1 record form takes only the enum, the frozen 1.0 array forms take text
-- or the enum and give the same bits either way.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vae;
RESET client_min_messages;
\set VERBOSITY default

SELECT enum_range(NULL::vae_method) AS methods;

CREATE TABLE method_data AS
SELECT i AS id, sin(i * 0.1) AS a, cos(i * 0.1) AS b, (i % 7) / 7.0 AS c,
       ARRAY[sin(i * 0.1), cos(i * 0.1), (i % 7) / 7.0]::real[] AS f
FROM generate_series(1, 200) AS i;
CREATE TABLE method_models AS
SELECT vae_train(f, '{"epochs": 5, "seed": 3}') AS arr,
       (SELECT vae_train(t, '{"epochs": 5, "seed": 3}') FROM (SELECT a, b, c FROM method_data) t) AS rec
FROM method_data;

-- the enum and the text overloads of the array forms agree bit for bit,
-- for every method, scores and thresholds
SELECT m AS method,
       bool_and(vae_score(arr, f, m) = vae_score(arr, f, m::text)) AS score_same,
       bool_and(vae_threshold(arr, 0.05, m) = vae_threshold(arr, 0.05, m::text)) AS threshold_same
FROM method_models, method_data, unnest(enum_range(NULL::vae_method)) AS m
GROUP BY m ORDER BY m;
-- the record form: an untyped literal is the enum; the model's method
-- (elbo, the 1.1 default of the option method) is the default
SELECT bool_and(vae_score(rec, t, 'elbo') = vae_score(rec, t)) AS default_same,
       bool_and(vae_score(rec, t, 'mse') = vae_score(rec, t, 'mse'::vae_method)) AS literal_same,
       bool_and(vae_score(rec, t, 'elbo') >= 0) AS elbo_scores
FROM method_models, (SELECT a, b, c FROM method_data) t;

-- which overload an untyped literal picks: text for the array forms (the
-- preferred type of the string category wins over an enum), so the form
-- that ships is 'mse'::vae_method; the enum for the record form
CREATE VIEW method_calls AS
SELECT vae_score(arr, f, 'mse') AS array_literal,
       vae_score(arr, f, 'mse'::vae_method) AS array_enum,
       vae_threshold(arr, 0.1, 'elbo'::vae_method) AS threshold_enum,
       vae_score(rec, ROW(a, b, c), 'mse') AS record_literal
FROM method_models, method_data;
SELECT pg_get_viewdef('method_calls'::regclass, true) ~ '''mse''::text' AS array_literal_is_text,
       pg_get_viewdef('method_calls'::regclass, true) ~ '''mse''::vae_method' AS enum_kept,
       pg_get_viewdef('method_calls'::regclass, true) ~ '''elbo''::vae_method' AS threshold_enum_kept;
SELECT count(*) = 3 AS record_literal_is_enum
FROM regexp_matches(pg_get_viewdef('method_calls'::regclass, true), '::vae_method', 'g');

-- errors: a method that is not a label; a text value for the record form
-- (no implicit cast from text to an enum: cast it)
SELECT vae_score(rec, t, 'mae') FROM method_models, (SELECT a, b, c FROM method_data) t;
SELECT vae_score(rec, t, 'mse'::text) FROM method_models, (SELECT a, b, c FROM method_data) t;
SELECT vae_threshold(arr, 0.1, 'MSE'::vae_method) FROM method_models;

-- no scoring function that postgres_fdw could ship has a collatable
-- argument, except the frozen 1.0 text-method signatures (which have enum
-- overloads)
SELECT p.oid::regprocedure AS collatable_argument
FROM pg_proc p
WHERE p.proname IN ('vae_score', 'vae_threshold', 'vae_encode', 'vae_reconstruct',
                    'vae_explain', 'vae_generate', 'vae_generate_rows', 'vae_model_info')
  AND p.provolatile = 'i'
  AND EXISTS (SELECT 1 FROM unnest(p.proargtypes::oid[]) a JOIN pg_type t ON t.oid = a
              WHERE t.typcollation <> 0)
ORDER BY p.oid::regprocedure::text;

DROP VIEW method_calls;
DROP TABLE method_models, method_data;
