--
-- vae_errors: bad input is an error with the right SQLSTATE, never a wrong
-- model or a wrong score; the session goes on working afterwards.
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

CREATE TABLE err_data AS
SELECT i, ARRAY[sin(i * 0.2), cos(i * 0.2), sin(i * 0.4)]::real[] AS f
FROM generate_series(1, 50) AS i;
CREATE TABLE err_model AS SELECT vae_train(f, '{"ensemble": 1, "epochs": 3}') AS m FROM err_data;
CREATE TABLE err_scores_before AS
SELECT i, vae_score(m, f) AS s FROM err_model, err_data;

--
-- Training input
--
-- a few shown in full (message, detail, hint)
SELECT vae_train(f) FROM (VALUES ('{1,2}'::real[]), ('{1,2,3}'::real[])) v(f);
SELECT vae_train(f) FROM err_data WHERE false;
SELECT vae_train(NULL::real[]) FROM generate_series(1, 3);
SELECT vae_train(ARRAY[1, i, 'NaN']::float8[]) FROM generate_series(1, 3) i;

SELECT what, pg_temp.err(q) AS error
FROM (VALUES
	('NULL element (real)',          $$SELECT vae_train(ARRAY[1, NULL, i]::real[]) FROM generate_series(1, 3) i$$),
	('NULL element (double)',        $$SELECT vae_train(ARRAY[NULL, i]::float8[]) FROM generate_series(1, 3) i$$),
	('NaN (real)',                   $$SELECT vae_train(ARRAY[i, 'NaN']::real[]) FROM generate_series(1, 3) i$$),
	('NaN (double)',                 $$SELECT vae_train(ARRAY[i, 'NaN']::float8[]) FROM generate_series(1, 3) i$$),
	('Infinity (real)',              $$SELECT vae_train(ARRAY['Infinity', i]::real[]) FROM generate_series(1, 3) i$$),
	('-Infinity (double)',           $$SELECT vae_train(ARRAY[i, '-Infinity']::float8[]) FROM generate_series(1, 3) i$$),
	('too large for real',           $$SELECT vae_train(ARRAY[i, 1e39]::float8[]) FROM generate_series(1, 3) i$$),
	('too small for real',           $$SELECT vae_train(ARRAY[-1e39, i]::float8[]) FROM generate_series(1, 3) i$$),
	('bad value in a later row',     $$SELECT vae_train(ARRAY[i, CASE WHEN i = 3 THEN 'NaN'::real ELSE 1 END]) FROM generate_series(1, 5) i$$),
	('two-dimensional array',        $$SELECT vae_train(ARRAY[[i, 1], [2, 3]]::real[]) FROM generate_series(1, 3) i$$),
	('empty array',                  $$SELECT vae_train('{}'::real[]) FROM generate_series(1, 3)$$),
	('empty array in a later row',   $$SELECT vae_train(CASE WHEN i = 2 THEN '{}' ELSE ARRAY[i] END::real[]) FROM generate_series(1, 3) i$$),
	('rows of different lengths',    $$SELECT vae_train(array_fill(1::real, ARRAY[i])) FROM generate_series(1, 3) i$$),
	('more than 16384 features',     $$SELECT vae_train(array_fill(i::real, ARRAY[16385])) FROM generate_series(1, 2) i$$),
	('zero rows',                    $$SELECT vae_train(f) FROM err_data WHERE false$$),
	('only NULL rows',               $$SELECT vae_train(NULL::float8[]) FROM generate_series(1, 3)$$),
	('one row',                      $$SELECT vae_train(f) FROM err_data WHERE i = 1$$),
	('one row and NULLs',            $$SELECT vae_train(CASE WHEN i = 1 THEN '{1,2}'::real[] END) FROM generate_series(1, 5) i$$),
	('range too wide to normalize',  $$SELECT vae_train(ARRAY[(-1) ^ i * 3e38]::real[], '{"normalize": "minmax"}') FROM generate_series(1, 4) i$$),
	('bernoulli data outside [0,1]', $$SELECT vae_train(ARRAY[i]::real[], '{"likelihood": "bernoulli", "normalize": "none"}') FROM generate_series(1, 3) i$$),
	('training diverges',            $$SELECT vae_train(ARRAY[(-1) ^ i * 1e30, 1]::real[], '{"normalize": "none"}') FROM generate_series(1, 4) i$$),
	('as a window function',         $$SELECT vae_train(f) OVER () FROM err_data$$),
	-- for contrast: fine
	('two rows',                     $$SELECT vae_train(f) FROM err_data WHERE i <= 2$$),
	('a constant column',            $$SELECT vae_train(ARRAY[1, i]::real[]) FROM generate_series(1, 3) i$$),
	('tiny values underflow to 0',   $$SELECT vae_train(ARRAY[1e-50, i]::float8[]) FROM generate_series(1, 3) i$$),
	('non-default lower bound',      $$SELECT vae_train('[3:4]={1,2}'::real[] || i::real) FROM generate_series(1, 3) i$$)
) v(what, q);

--
-- Scoring input
--
SELECT vae_score(m, '{1,2}'::real[]) FROM err_model;

SELECT what, pg_temp.err(q) AS error
FROM (VALUES
	('row too short',                $$SELECT vae_score(m, '{1,2}'::real[]) FROM err_model$$),
	('row too long',                 $$SELECT vae_score(m, '{1,2,3,4}'::float8[]) FROM err_model$$),
	('encode: wrong length',         $$SELECT vae_encode(m, '{1}'::real[]) FROM err_model$$),
	('reconstruct: wrong length',    $$SELECT vae_reconstruct(m, '{1,2,3,4,5}'::real[]) FROM err_model$$),
	('explain: wrong length',        $$SELECT * FROM err_model, vae_explain(m, '{1,2}'::real[])$$),
	('NULL element',                 $$SELECT vae_score(m, ARRAY[0, NULL, 0]::real[]) FROM err_model$$),
	('NaN',                          $$SELECT vae_score(m, ARRAY[0, 0, 'NaN']::float8[]) FROM err_model$$),
	('Infinity',                     $$SELECT vae_encode(m, ARRAY['Infinity', 0, 0]::real[]) FROM err_model$$),
	('too large for real',           $$SELECT vae_reconstruct(m, ARRAY[0, 1e300, 0]::float8[]) FROM err_model$$),
	('overflows when normalized',    $$SELECT vae_score(m, ARRAY[3e38, 0, 0]::real[]) FROM err_model$$),
	('two-dimensional array',        $$SELECT vae_score(m, '{{0,0,0}}'::real[]) FROM err_model$$),
	('empty array',                  $$SELECT vae_score(m, '{}'::real[]) FROM err_model$$),
	('unknown method',               $$SELECT vae_score(m, '{0,0,0}'::real[], 'mae') FROM err_model$$),
	('method is case sensitive',     $$SELECT vae_score(m, '{0,0,0}'::real[], 'MSE') FROM err_model$$),
	('threshold: unknown method',    $$SELECT vae_threshold(m, 0.1, 'likelihood') FROM err_model$$),
	('contamination < 0',            $$SELECT vae_threshold(m, -0.01) FROM err_model$$),
	('contamination > 1',            $$SELECT vae_threshold(m, 1.5, 'mse') FROM err_model$$),
	('contamination NaN',            $$SELECT vae_threshold(m, 'NaN') FROM err_model$$),
	('generate: n < 0',              $$SELECT * FROM err_model, vae_generate(m, -1)$$),
	-- for contrast: fine
	('generate: n = 0',              $$SELECT * FROM err_model, vae_generate(m, 0)$$),
	('contamination 0 and 1',        $$SELECT vae_threshold(m, 0) + vae_threshold(m, 1) FROM err_model$$),
	('double precision row',         $$SELECT vae_score(m, '{0,0,0}'::float8[], 'elbo') FROM err_model$$)
) v(what, q);

--
-- Element types: any numeric type is converted (vae_types); any other is
-- 42804, and every check above holds whatever the numeric type
--
SELECT vae_train(ARRAY['1', i::text]) FROM generate_series(1, 3) i;
-- a bare literal cannot tell which array type (or row) it is: cast it ('{0,0,0}'::real[])
SELECT vae_score(m, '{0,0,0}') FROM err_model;

SELECT what, pg_temp.err(q) AS error
FROM (VALUES
	('train: text[]',                $$SELECT vae_train(ARRAY['1', i::text], '{"epochs": 2}') FROM generate_series(1, 3) i$$),
	('train: boolean[]',             $$SELECT vae_train(ARRAY[true, i > 1]) FROM generate_series(1, 3) i$$),
	('score: text[]',                $$SELECT vae_score(m, ARRAY['0', '0', '0']) FROM err_model$$),
	('score: boolean[]',             $$SELECT vae_score(m, ARRAY[true, false, true], 'mse') FROM err_model$$),
	('encode: text[]',               $$SELECT vae_encode(m, '{0,0,0}'::text[]) FROM err_model$$),
	('reconstruct: boolean[]',       $$SELECT vae_reconstruct(m, '{t,f,t}'::boolean[]) FROM err_model$$),
	('explain: jsonb[]',             $$SELECT * FROM err_model, vae_explain(m, ARRAY['0', '0', '0']::jsonb[])$$),
	('two-dimensional text[]',       $$SELECT vae_score(m, '{{0,0,0}}'::text[]) FROM err_model$$),
	('NULL element (integer)',       $$SELECT vae_train(ARRAY[1, NULL, i]) FROM generate_series(1, 3) i$$),
	('NULL element (numeric)',       $$SELECT vae_score(m, ARRAY[0.5, NULL, 0]) FROM err_model$$),
	('NULL element (bigint)',        $$SELECT vae_encode(m, ARRAY[0, 0, NULL]::bigint[]) FROM err_model$$),
	('NULL element (smallint)',      $$SELECT vae_train(ARRAY[NULL, i]::smallint[]) FROM generate_series(1, 3) i$$),
	('NaN (numeric)',                $$SELECT vae_train(ARRAY[i, 'NaN']::numeric[]) FROM generate_series(1, 3) i$$),
	('NaN (numeric, scoring)',       $$SELECT vae_score(m, ARRAY[0, 'NaN', 0]::numeric[]) FROM err_model$$),
	('Infinity (numeric)',           $$SELECT vae_reconstruct(m, ARRAY[0, 0, 'Infinity']::numeric[]) FROM err_model$$),
	('-Infinity (numeric)',          $$SELECT vae_train(ARRAY['-Infinity', i]::numeric[]) FROM generate_series(1, 3) i$$),
	('too large for real (numeric)', $$SELECT vae_train(ARRAY[i, 1e39]) FROM generate_series(1, 3) i$$),
	('too small for real (numeric)', $$SELECT * FROM err_model, vae_explain(m, ARRAY[0, -3.5e38, 0])$$),
	('two-dimensional (integer)',    $$SELECT vae_train(ARRAY[[i, 1], [2, 3]]) FROM generate_series(1, 3) i$$),
	('two-dimensional (numeric)',    $$SELECT vae_score(m, ARRAY[[0.5, 0, 0]]) FROM err_model$$),
	('empty array (integer)',        $$SELECT vae_train('{}'::integer[]) FROM generate_series(1, 3)$$),
	('rows of different lengths (bigint)', $$SELECT vae_train(array_fill(1::bigint, ARRAY[i])) FROM generate_series(1, 3) i$$),
	('row too short (integer)',      $$SELECT vae_score(m, ARRAY[1, 2]) FROM err_model$$),
	('row too long (numeric)',       $$SELECT vae_score(m, ARRAY[1.5, 2, 3, 4]) FROM err_model$$),
	('more than 16384 features (smallint)', $$SELECT vae_train(array_fill(i::smallint, ARRAY[16385])) FROM generate_series(1, 2) i$$),
	('overflows when normalized (numeric)', $$SELECT vae_score(m, ARRAY[3e38, 0, 0]) FROM err_model$$),
	-- for contrast: fine
	('largest real (numeric)',       $$SELECT vae_train(ARRAY[i, 340282346638528859811704183484516925440]) FROM generate_series(1, 3) i$$),
	('numeric underflows to 0',      $$SELECT vae_train(ARRAY[1e-50, i]) FROM generate_series(1, 3) i$$),
	('integer row',                  $$SELECT vae_score(m, ARRAY[0, 1, 0], 'elbo') FROM err_model$$)
) v(what, q);

--
-- Damaged and foreign models: SQLSTATE 22P03 from every function
--
SELECT vae_score(set_byte(m, length(m) / 2, get_byte(m, length(m) / 2) # 1), '{0,0,0}'::real[]) FROM err_model;
SELECT vae_model_info('hello'::bytea);

CREATE TABLE err_bad AS
SELECT what, bad FROM err_model, LATERAL (VALUES
	('truncated by one byte',   substring(m FROM 1 FOR length(m) - 1)),
	('truncated to 100 bytes',  substring(m FROM 1 FOR 100)),
	('one trailing byte',       m || '\x00'::bytea),
	('byte flipped in middle',  set_byte(m, length(m) / 2, get_byte(m, length(m) / 2) # 1)),
	('CRC byte flipped',        set_byte(m, length(m) - 1, get_byte(m, length(m) - 1) # 128)),
	('format version 6',        set_byte(m, 4, 6)),
	('one byte',                '\x00'::bytea),
	('empty',                   ''::bytea),
	('text',                    'hello'::bytea),
	('garbage before the model', float4send('1'::real) || m)
) v(what, bad);

-- every function that reads a model, as a query template
CREATE TEMP TABLE err_fns (k, fn, q) AS
VALUES (1, 'vae_score',       $$SELECT vae_score(%s::bytea, '{0,0,0}'::real[])$$),
       (2, 'vae_threshold',   $$SELECT vae_threshold(%s::bytea, 0.1)$$),
       (3, 'vae_encode',      $$SELECT vae_encode(%s::bytea, '{0,0,0}'::real[])$$),
       (4, 'vae_reconstruct', $$SELECT vae_reconstruct(%s::bytea, '{0,0,0}'::real[])$$),
       (5, 'vae_explain',     $$SELECT * FROM vae_explain(%s::bytea, '{0,0,0}'::real[])$$),
       (6, 'vae_generate',    $$SELECT * FROM vae_generate(%s::bytea, 3)$$),
       (7, 'vae_model_info',  $$SELECT vae_model_info(%s::bytea)$$);

SELECT b.what, f.fn, pg_temp.err(format(f.q, quote_literal(b.bad::text))) AS error
FROM err_bad b, err_fns f
WHERE f.k = 1 OR b.what IN ('byte flipped in middle', 'text')
ORDER BY b.what, f.k;

-- every damaged model: 22P03, whatever the function
SELECT f.fn, count(*) AS damaged,
       count(*) FILTER (WHERE pg_temp.err(format(f.q, quote_literal(b.bad::text))) LIKE '22P03: invalid vae model: %') AS rejected_22p03
FROM err_bad b, err_fns f
GROUP BY f.k, f.fn
ORDER BY f.k;

-- every single-byte flip anywhere in the model is detected
SELECT count(*) AS positions,
       count(*) FILTER (WHERE pg_temp.err(format($$SELECT vae_model_info(%s::bytea)$$,
                                                quote_literal(set_byte(m, p, get_byte(m, p) # 16)::text)))
                        LIKE '22P03: %') AS rejected
FROM err_model, generate_series(0, length(m) - 1) p;

-- after all these errors the session works, and so does the model
SELECT 1 AS still_working;
SELECT bool_and(vae_score(m, f) = s) AS same_scores_as_before, count(*) AS rows
FROM err_model, err_data JOIN err_scores_before USING (i);
