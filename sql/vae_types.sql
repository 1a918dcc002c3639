--
-- vae_types: features are anyarray.  Arrays of real, double precision,
-- smallint, integer, bigint and numeric are accepted without a cast, and
-- converted the way PostgreSQL's own cast to real converts them, so a row
-- gives the same model and the same scores as the row cast to real[] (that
-- is checked byte for byte in vae_determinism).  Other element types are
-- errors (see vae_errors).
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vae;
RESET client_min_messages;
SET extra_float_digits = 3;

-- counters, one of them beyond 2^24, where converting to real rounds
CREATE TABLE types_data AS
SELECT i, ARRAY[i % 7, (i * 3) % 11 - 5, i % 2, (i / 10) % 13, 16777216 + i * 7] AS f
FROM generate_series(1, 300) AS i;
SELECT pg_typeof(f) FROM types_data LIMIT 1;

--
-- The natural calls resolve: no cast, no "function is not unique"
--
SELECT length(vae_train(f)) > 0 AS trained_integer FROM types_data;
SELECT length(vae_train(ARRAY[i / 7.0, sqrt(i::numeric)], '{"epochs": 2}')) > 0 AS trained_numeric FROM types_data;
SELECT length(vae_train(f::numeric[], '{"epochs": 2}')) > 0 AS trained_cast_numeric FROM types_data;

CREATE TABLE types_model AS
SELECT vae_train(f, '{"epochs": 5, "seed": 3}') AS model FROM types_data;

SELECT vae_score(model, ARRAY[1, 2, 3, 1, 16777300]) = vae_score(model, '{1,2,3,1,16777300}'::real[]) AS score_integer,
       vae_score(model, ARRAY[1.5, 2, 3, 1, 16777300]) = vae_score(model, '{1.5,2,3,1,16777300}'::real[]) AS score_numeric,
       vae_score(model, ARRAY[1, 2, 3, 1, 16777300], 'elbo') = vae_score(model, '{1,2,3,1,16777300}'::real[], 'elbo') AS score_method,
       vae_encode(model, ARRAY[1, 2, 3, 1, 16777300]) = vae_encode(model, '{1,2,3,1,16777300}'::real[]) AS encode_integer,
       vae_reconstruct(model, ARRAY[1.5, 2, 3, 1, 16777300]) = vae_reconstruct(model, '{1.5,2,3,1,16777300}'::real[]) AS reconstruct_numeric
FROM types_model;
SELECT e.feature, e.value FROM types_model, vae_explain(model, ARRAY[1.5, 2, 3, 1, 16777300]) e ORDER BY e.feature;

--
-- Conversion is the cast to real: one rounding, not two through double
-- precision (vae_explain's value column is the converted feature).  The
-- bigint and numeric rows hold a value where the two differ: 2^60 + 2^36 + 1
-- and -(2^25 + 2 + 1e-19) lie just beyond halfway between two reals, but round
-- to the halfway point as double precision, which then rounds to even.
--
CREATE FUNCTION pg_temp.conversion(x anyarray, OUT values_are_cast_to_real boolean,
                                   OUT differ_from_via_double bigint)
LANGUAGE sql AS $$
	SELECT bool_and(e.value = x[e.feature]::real),
	       count(*) FILTER (WHERE e.value <> x[e.feature]::float8::real)
	FROM types_model, vae_explain(model, x) e
$$;
SELECT 'bigint' AS type, * FROM pg_temp.conversion(ARRAY[1152921573326323713, 2147483647, 16777217, -9223372036854775807, 3]::bigint[])
UNION ALL
SELECT 'numeric', * FROM pg_temp.conversion(ARRAY[0.1, -33554434.0000000000000000001, 1.000000059604644775390625,
                                                  340282346638528859811704183484516925440, 1e-45])
UNION ALL
SELECT 'smallint', * FROM pg_temp.conversion(ARRAY[32767, -32768, 0, 1, 7]::smallint[]);

--
-- Domains: an array of a domain over a numeric type, and a domain over an
-- array, convert like their base types
--
CREATE DOMAIN types_count AS integer CHECK (VALUE >= -10);
CREATE DOMAIN types_row AS numeric[] CHECK (cardinality(VALUE) = 5);
SELECT vae_score(model, ARRAY[1, 2, 3, 1, 16777300]::types_count[]) = vae_score(model, ARRAY[1, 2, 3, 1, 16777300]) AS domain_elements,
       vae_score(model, ARRAY[1.5, 2, 3, 1, 16777300]::types_row) = vae_score(model, ARRAY[1.5, 2, 3, 1, 16777300]) AS domain_array
FROM types_model;
SELECT vae_model_info(vae_train(f::types_count[], '{"epochs": 5, "seed": 3}'))->'train_loss'
       = (SELECT vae_model_info(model)->'train_loss' FROM types_model) AS domain_trains_same
FROM types_data;
