--
-- Scale-out building blocks on one server (docs/scale-out.md): the state of
-- vae_train over records is vae_train_state; vae_sample(t) returns one
-- part's state, vae_train_samples(state) trains on the union of parts, and
-- the model is the one vae_train(t) trains on all the rows, byte for byte but
-- the training time (offset 152) and the CRC (the last 4 bytes).  The
-- Citus and postgres_fdw tests (test/integration/citus.sh, fdw_train.sh)
-- run the same aggregates across servers.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vae;
CREATE FUNCTION pg_temp.strip(m bytea) RETURNS bytea LANGUAGE sql AS $$
	SELECT overlay(substring(m FROM 1 FOR length(m) - 4) PLACING '\x0000000000000000'::bytea FROM 153 FOR 8)
$$;
-- numbers, categories (some parts lack some values), booleans, NULLs, and an
-- array column that part 1 never fills (its width comes from the others)
CREATE TABLE so AS
SELECT g AS id, g % 4 AS part,
	(g % 97) * 0.25 AS x, (g % 13)::int AS y,
	CASE WHEN g % 11 = 0 THEN NULL ELSE 'c' || (g * 7 % (5 + g % 4)) END AS cat,
	g % 3 = 0 AS flag,
	CASE WHEN g % 4 = 1 OR g % 9 = 0 THEN NULL ELSE ARRAY[g % 5, g % 7]::real[] END AS arr
FROM generate_series(1, 2000) g;
CREATE TYPE so_t AS (x numeric, y int, cat text, flag boolean, arr real[]);
CREATE VIEW so_rows AS SELECT part, ROW(x, y, cat, flag, arr)::so_t AS r FROM so;

-- all rows, and a 300-row sample
SELECT o AS options,
	pg_temp.strip((SELECT vae_train(r, o) FROM so_rows)) =
	pg_temp.strip((SELECT vae_train_samples(s) FROM
		(SELECT vae_sample(r, o) AS s FROM so_rows GROUP BY part) p)) AS merged_same,
	pg_temp.strip((SELECT vae_train(r, o) FROM so_rows)) =
	pg_temp.strip((SELECT vae_train_samples(s ORDER BY part DESC) FROM
		(SELECT part, vae_sample(r, o)::text::vae_train_state AS s FROM so_rows GROUP BY part) p))
		AS through_text_reversed
FROM (VALUES ('{"epochs": 2}'::jsonb), ('{"epochs": 2, "max_rows": 300}')) v(o);

-- parts whose row types differ by a dropped column (a shard table made after
-- ALTER TABLE ... DROP COLUMN) combine by the columns they have
CREATE TABLE d1 (a int, junk int, b text, c real);
ALTER TABLE d1 DROP COLUMN junk;
CREATE TABLE d2 (a int, b text, c real);
INSERT INTO d1 SELECT g % 10, 'v' || (g % 4), g * 0.5 FROM generate_series(1, 300) g;
INSERT INTO d2 SELECT g % 10, 'v' || (g % 5), g * 0.5 FROM generate_series(301, 600) g;
SELECT pg_temp.strip(vae_train_samples(s ORDER BY n)) =
	pg_temp.strip((SELECT vae_train(t, '{"epochs": 1}') FROM (SELECT * FROM d1 UNION ALL SELECT * FROM d2) t))
	AS same_model,
	pg_temp.strip(vae_train_samples(s ORDER BY n DESC)) =
	pg_temp.strip((SELECT vae_train(t, '{"epochs": 1}') FROM (SELECT * FROM d1 UNION ALL SELECT * FROM d2) t))
	AS same_model_reversed
FROM (SELECT 1 AS n, vae_sample(d1, '{"epochs": 1}') AS s FROM d1
	UNION ALL SELECT 2, vae_sample(d2, '{"epochs": 1}') FROM d2) u;
SELECT vae_train_samples(s) FROM (SELECT vae_sample(d1) s FROM d1
	UNION ALL SELECT vae_sample(r) FROM (SELECT a, b FROM d2) r) u;

-- feature arrays: vae_train(vae_features(f)) and the samples of parts train
-- the model vae_train(f) trains (the 1.0 aggregate, whose state stays internal)
CREATE VIEW so_arrays AS SELECT part, ARRAY[x, y, id % 7]::double precision[] AS f FROM so;
SELECT o AS options,
	pg_temp.strip((SELECT vae_train(f, o) FROM so_arrays)) =
	pg_temp.strip((SELECT vae_train(vae_features(f), o) FROM so_arrays)) AS same_aggregate,
	pg_temp.strip((SELECT vae_train(f, o) FROM so_arrays)) =
	pg_temp.strip((SELECT vae_train_samples(s::text::vae_train_state) FROM
		(SELECT vae_sample(vae_features(f), o) AS s FROM so_arrays GROUP BY part) p)) AS merged_same
FROM (VALUES ('{"epochs": 2}'::jsonb), ('{"epochs": 2, "max_rows": 300}')) v(o);
-- states of the two kinds do not mix
SELECT vae_train_samples(s) FROM (SELECT vae_sample(vae_features(f)) s FROM so_arrays
	UNION ALL SELECT vae_sample(r) FROM so_rows) u;
SELECT vae_train_samples(s::text::vae_train_state) FROM (SELECT vae_sample(r) s FROM so_rows
	UNION ALL SELECT vae_sample(vae_features(f)) FROM so_arrays) u;
SELECT 'x'::vae_features;

-- a part's sample travels as its k rows
SET client_min_messages = debug1;
SELECT length(vae_train_samples(s)) > 0 AS trained FROM
	(SELECT vae_sample(r, '{"epochs": 1, "max_rows": 100}') AS s FROM so_rows GROUP BY part) p;
SET client_min_messages = warning;

-- the binary form round-trips too
CREATE TEMP TABLE st AS SELECT part, vae_sample(r, '{"max_rows": 50}') AS s FROM so_rows GROUP BY part;
COPY st TO '/tmp/vae_scaleout_states.bin' WITH (FORMAT binary);
CREATE TEMP TABLE st2 (part int, s vae_train_state);
COPY st2 FROM '/tmp/vae_scaleout_states.bin' WITH (FORMAT binary);
SELECT bool_and(st.s::text = st2.s::text) AS same FROM st JOIN st2 USING (part);

-- bad states are errors
SELECT 'not base64!'::vae_train_state;
SELECT 'AAAA'::vae_train_state;
SELECT encode(decode('58585858010002000000', 'hex'), 'base64')::vae_train_state;
SELECT encode(decode('56414553090002000000', 'hex'), 'base64')::vae_train_state;
SELECT vae_train_samples(encode(decode('5641455301000200', 'hex'), 'base64')::vae_train_state);
SELECT vae_train_samples(substr(s::text, 1, 40)::vae_train_state) FROM st;
-- states of different rows, or options, do not combine
SELECT vae_train_samples(s) FROM (SELECT vae_sample(r) s FROM (SELECT 1 AS a) r
	UNION ALL SELECT vae_sample(r) FROM (SELECT 1 AS b) r) u;
SELECT vae_train_samples(s) FROM (SELECT vae_sample(r, '{"seed": 1}') s FROM (SELECT 1 AS a) r
	UNION ALL SELECT vae_sample(r, '{"seed": 2}') FROM (SELECT 1 AS a) r) u;
-- no rows
SELECT vae_train_samples(s) FROM st WHERE false;
-- forged attribute positions are clean errors, never a crash, and the
-- session goes on: c's column at INT32_MAX (col + width wraps in int32), c
-- at the row's end (col = dim) with width 0 and its dictionary, d's
-- dictionary on c's float.  Bytes (from 1): c's col at 71 and width at 75,
-- d's col at 158 (the SELECT of get_byte shows they are where expected).
CREATE TABLE so_forge AS SELECT 'a'::text AS c, 'b'::text AS d FROM generate_series(1, 5);
CREATE TEMP TABLE so_forged AS
	SELECT decode(translate(vae_sample(so_forge)::text, E'\n', ''), 'base64') AS b FROM so_forge;
CREATE FUNCTION pg_temp.st(bytea) RETURNS vae_train_state LANGUAGE sql AS
	$$ SELECT translate(encode($1, 'base64'), E'\n', '')::vae_train_state $$;
SELECT get_byte(b, 70) AS c_col, get_byte(b, 74) AS c_width, get_byte(b, 157) AS d_col FROM so_forged;
SELECT vae_train_samples(pg_temp.st(overlay(b PLACING '\xffffff7f'::bytea FROM 71 FOR 4))) FROM so_forged;
SELECT vae_train_samples(pg_temp.st(overlay(b PLACING '\x0200000000000000'::bytea FROM 71 FOR 8))) FROM so_forged;
SELECT vae_train_samples(pg_temp.st(overlay(b PLACING '\x00000000'::bytea FROM 158 FOR 4))) FROM so_forged;
SELECT 1 AS still_here;
DROP TABLE so_forge;
