--
-- vae_cache: scoring functions decode a model once per query and keep it;
-- whatever model bytes a row passes, the result must be the one a fresh
-- decode gives -- stored inline or TOASTed, the same model on every row or
-- models alternating row by row, models that differ only deep inside.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vae;
RESET client_min_messages;
\set VERBOSITY default

CREATE TABLE cache_data AS
SELECT i, ARRAY[sin(i * 0.07), cos(i * 0.07), sin(i * 0.11), cos(i * 0.13)]::real[] AS f
FROM generate_series(1, 200) AS i;

-- small models stay inline (< 2 kB); large ones are TOASTed.  Each pair has
-- the same options and row count, hence the same length and the same first
-- 128 bytes: they differ only in the weights, the scores and the CRC.
CREATE TABLE cache_models (name text PRIMARY KEY, model bytea);
INSERT INTO cache_models
SELECT 'small a', vae_train(f, '{"ensemble": 1, "hidden": [], "latent_dim": 1, "epochs": 2}') FROM cache_data WHERE i <= 40;
INSERT INTO cache_models
SELECT 'small b', vae_train(f, '{"ensemble": 1, "hidden": [], "latent_dim": 1, "epochs": 2}') FROM cache_data WHERE i > 160;
INSERT INTO cache_models
SELECT 'large a', vae_train(f, '{"ensemble": 1, "hidden": [16], "epochs": 5}') FROM cache_data WHERE i <= 100;
INSERT INTO cache_models
SELECT 'large b', vae_train(f, '{"ensemble": 1, "hidden": [16], "epochs": 5}') FROM cache_data WHERE i > 100;

SELECT name, length(model) < 2000 AS small, length(model) > 2500 AS large,
       length(model) = (SELECT length(model) FROM cache_models c WHERE c.name = split_part(m.name, ' ', 1) || ' a') AS same_length_as_a,
       substring(model FROM 1 FOR 128) = (SELECT substring(model FROM 1 FOR 128) FROM cache_models c
                                          WHERE c.name = split_part(m.name, ' ', 1) || ' a') AS same_head_as_a
FROM cache_models m ORDER BY name;

-- the two large models are stored out of line (two TOAST values)
CREATE FUNCTION pg_temp.toasted_values(rel regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	EXECUTE format('SELECT count(DISTINCT chunk_id) FROM %s',
	               (SELECT reltoastrelid::regclass FROM pg_class WHERE oid = rel)) INTO n;
	RETURN n;
END $$;
SELECT pg_temp.toasted_values('cache_models') AS toasted_values;

-- reference results, each from its own query (EXECUTE plans afresh, so
-- nothing is cached from one call to the next)
CREATE TABLE cache_ref (name text, i int, s float8, e float8, q float8, z real[], r real[], x float8);
DO $$
DECLARE
	mr record;
	dr record;
	res cache_ref;
BEGIN
	FOR mr IN SELECT name FROM cache_models LOOP
		FOR dr IN SELECT i FROM cache_data WHERE i % 2 = 0 OR i % 5 = 0 LOOP
			EXECUTE $q$SELECT m.name, d.i, vae_score(m.model, d.f), vae_score(m.model, d.f, 'elbo'),
			                  vae_score(m.model, d.f, 'mse'), vae_encode(m.model, d.f),
			                  vae_reconstruct(m.model, d.f),
			                  (SELECT sum(contribution) FROM vae_explain(m.model, d.f))
			           FROM cache_models m, cache_data d WHERE m.name = $1 AND d.i = $2$q$
			INTO res USING mr.name, dr.i;
			INSERT INTO cache_ref SELECT res.*;
		END LOOP;
	END LOOP;
END $$;
SELECT name, count(*) AS reference_rows, count(DISTINCT s) AS distinct_scores
FROM cache_ref GROUP BY name ORDER BY name;

-- one model for every row, as a join passes it (a TOAST pointer for the
-- large ones): every result equals the reference
SELECT m.name, count(*) AS rows,
       count(*) FILTER (WHERE vae_score(m.model, d.f) = r.s AND vae_score(m.model, d.f, 'elbo') = r.e
                        AND vae_score(m.model, d.f, 'mse') = r.q AND vae_encode(m.model, d.f) = r.z
                        AND vae_reconstruct(m.model, d.f) = r.r) AS same
FROM cache_models m JOIN cache_ref r ON r.name = m.name JOIN cache_data d ON d.i = r.i
GROUP BY m.name ORDER BY m.name;
-- summed over a join, as an application would
SELECT m.name, sum(vae_score(m.model, t.f)) = (SELECT sum(s) FROM (SELECT s FROM cache_ref r WHERE r.name = m.name ORDER BY i) x) AS same_sum
FROM cache_models m, (SELECT * FROM cache_data WHERE i % 2 = 0 OR i % 5 = 0 ORDER BY i) t
GROUP BY m.name ORDER BY m.name;

-- a different model on each row: models taken in turns, row by row, by a
-- correlated subquery, so consecutive calls get different bytes
CREATE FUNCTION pg_temp.check_alternating(names text[]) RETURNS TABLE(rows bigint, same bigint, same_explain bigint)
LANGUAGE sql AS $$
	SELECT count(*),
	       count(*) FILTER (WHERE s.sc = r.s AND s.el = r.e AND s.ms = r.q AND s.z = r.z AND s.rc = r.r),
	       count(*) FILTER (WHERE s.ex = r.x)
	FROM (SELECT d.i, x.name,
	             vae_score(x.model, d.f) AS sc, vae_score(x.model, d.f, 'elbo') AS el,
	             vae_score(x.model, d.f, 'mse') AS ms, vae_encode(x.model, d.f) AS z,
	             vae_reconstruct(x.model, d.f) AS rc,
	             (SELECT sum(contribution) FROM vae_explain(x.model, d.f)) AS ex
	      FROM (SELECT *, row_number() OVER (ORDER BY i) AS k
	            FROM cache_data WHERE i % 2 = 0 OR i % 5 = 0 ORDER BY i) d,
	           LATERAL (SELECT name, model FROM cache_models
	                    WHERE name = names[1 + d.k % array_length(names, 1)]) x
	      OFFSET 0) s
	JOIN cache_ref r ON r.name = s.name AND r.i = s.i
$$;
SELECT names, c.*
FROM (VALUES (ARRAY['large a', 'large b']), (ARRAY['small a', 'small b']),
             (ARRAY['small a', 'large a']), (ARRAY['large a', 'small b', 'large b', 'small a'])) v(names),
     pg_temp.check_alternating(names) c;

-- every model with every row, in whatever order a nested loop gives
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SELECT count(*) AS rows, count(*) FILTER (WHERE vae_score(m.model, d.f) = r.s) AS same
FROM cache_ref r JOIN cache_data d ON d.i = r.i JOIN cache_models m ON m.name = r.name;
RESET enable_hashjoin;
RESET enable_mergejoin;

-- vae_threshold and vae_model_info with alternating models
SELECT count(*) AS rows,
       count(*) FILTER (WHERE t = (SELECT vae_threshold(model, 0.1) FROM cache_models c WHERE c.name = x.name)) AS same_threshold,
       count(*) FILTER (WHERE info = (SELECT vae_model_info(model) FROM cache_models c WHERE c.name = x.name)) AS same_info
FROM (SELECT x.name, vae_threshold(x.model, 0.1) AS t, vae_model_info(x.model) AS info
      FROM generate_series(1, 40) g,
           LATERAL (SELECT name, model FROM cache_models ORDER BY name OFFSET g % 4 LIMIT 1) x
      OFFSET 0) x;

-- a model copied inline (detoasted) and the TOASTed original in turns
SELECT count(*) AS rows, count(*) FILTER (WHERE x.sc = r.s) AS same
FROM (SELECT d.i, vae_score(CASE WHEN d.i % 4 = 0 THEN m.model || ''::bytea ELSE m.model END, d.f) AS sc
      FROM cache_models m, (SELECT * FROM cache_data WHERE i % 2 = 0 ORDER BY i) d
      WHERE m.name = 'large b' OFFSET 0) x
JOIN cache_ref r ON r.name = 'large b' AND r.i = x.i;

-- a model replaced in its table between queries
CREATE TABLE cache_slot AS SELECT model FROM cache_models WHERE name = 'large a';
SELECT count(*) FILTER (WHERE vae_score(m.model, d.f) = r.s) AS same_as_large_a
FROM cache_slot m, cache_ref r JOIN cache_data d USING (i) WHERE r.name = 'large a';
UPDATE cache_slot SET model = (SELECT model FROM cache_models WHERE name = 'large b');
SELECT count(*) FILTER (WHERE vae_score(m.model, d.f) = r.s) AS same_as_large_b
FROM cache_slot m, cache_ref r JOIN cache_data d USING (i) WHERE r.name = 'large b';
-- and within one transaction, in a PL/pgSQL loop whose expression state
-- (and so the cache) lives from one statement to the next
CREATE FUNCTION pg_temp.score_loop() RETURNS TABLE(models text, rows bigint, same bigint) LANGUAGE plpgsql AS $$
DECLARE
	names text[] := ARRAY['small a', 'small b', 'small b', 'large a', 'large b', 'small a', 'large a'];
	nm text;
	v float8;
	mdl bytea;
	ok bigint := 0;
	n bigint := 0;
BEGIN
	FOREACH nm IN ARRAY names LOOP
		UPDATE cache_slot SET model = (SELECT model FROM cache_models WHERE name = nm);
		SELECT model INTO mdl FROM cache_slot;
		v := vae_score(mdl, (SELECT f FROM cache_data WHERE i = 10));
		n := n + 1;
		IF v = (SELECT s FROM cache_ref WHERE name = nm AND i = 10) THEN
			ok := ok + 1;
		END IF;
	END LOOP;
	RETURN QUERY SELECT array_to_string(names, ', '), n, ok;
END $$;
SELECT * FROM pg_temp.score_loop();

--
-- A damaged copy of a model must be rejected even right after the intact
-- model was scored in the same query (same length, same header, same stored
-- CRC trailer: only the bytes in the middle differ)
--
INSERT INTO cache_models
SELECT 'small b damaged', set_byte(model, length(model) / 2, get_byte(model, length(model) / 2) # 1)
FROM cache_models WHERE name = 'small b';
INSERT INTO cache_models
SELECT 'large b damaged', set_byte(model, length(model) / 2, get_byte(model, length(model) / 2) # 1)
FROM cache_models WHERE name = 'large b';
-- alone: rejected
SELECT vae_score(model, '{0,1,0,1}'::real[]) FROM cache_models WHERE name = 'small b damaged';
SELECT vae_score(model, '{0,1,0,1}'::real[]) FROM cache_models WHERE name = 'large b damaged';
-- after the intact model, in one query: rejected too
SELECT name, vae_score(model, '{0,1,0,1}'::real[]) IS NOT NULL AS scored
FROM (SELECT * FROM cache_models WHERE name IN ('small b', 'small b damaged') ORDER BY name OFFSET 0) s;
SELECT name, vae_score(model, '{0,1,0,1}'::real[]) IS NOT NULL AS scored
FROM (SELECT * FROM cache_models WHERE name IN ('large b', 'large b damaged') ORDER BY name OFFSET 0) s;
SELECT name, vae_model_info(model)->'rows' AS rows
FROM (SELECT * FROM cache_models WHERE name IN ('small b', 'small b damaged') ORDER BY name OFFSET 0) s;
-- the intact models still score as before
SELECT m.name, count(*) FILTER (WHERE vae_score(m.model, d.f) = r.s) AS same, count(*) AS rows
FROM cache_models m JOIN cache_ref r ON r.name = m.name JOIN cache_data d ON d.i = r.i
WHERE m.name IN ('small b', 'large b')
GROUP BY m.name ORDER BY m.name;
-- PL/pgSQL keeps a simple expression's state (fn_extra included) for the
-- transaction and evaluates it again with new parameter values: a model
-- passed as a PL/pgSQL variable must not be taken as fixed
CREATE FUNCTION cache_score_via(m bytea, f real[]) RETURNS double precision
LANGUAGE plpgsql AS $$ BEGIN RETURN vae_score(m, f); END $$;
CREATE FUNCTION cache_score_name_via(n text, f real[]) RETURNS double precision
LANGUAGE plpgsql AS $$ BEGIN RETURN vae_score(n, f); END $$;
SELECT m.name, count(*) FILTER (WHERE cache_score_via(m.model, d.f) = r.s) AS same, count(*) AS rows
FROM cache_models m JOIN cache_ref r ON r.name = m.name JOIN cache_data d ON d.i = r.i
WHERE m.name IN ('small b', 'large b')
GROUP BY m.name ORDER BY m.name;
SELECT vae_register('cache small b', model) FROM cache_models WHERE name = 'small b';
SELECT vae_register('cache large b', model) FROM cache_models WHERE name = 'large b';
SELECT m.name, count(*) FILTER (WHERE cache_score_name_via('cache ' || m.name, d.f) = r.s) AS same,
       count(*) AS rows
FROM cache_models m JOIN cache_ref r ON r.name = m.name JOIN cache_data d ON d.i = r.i
WHERE m.name IN ('small b', 'large b')
GROUP BY m.name ORDER BY m.name;
