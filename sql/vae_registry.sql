--
-- vae_registry: named models.  vae_register / vae_deploy / vae_rollback,
-- the vae_models view, vae_model(name), every scoring function by name
-- (the same values as with the bytes), the errors, and the privileges.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vae;
RESET client_min_messages;
\set VERBOSITY default
SET extra_float_digits = 3;

-- SQLSTATE and message of the error q raises, or 'no error'
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

CREATE TABLE reg_rows AS
SELECT i AS id, (i % 7) * 1.5 AS load, (i % 5)::int AS port,
       (ARRAY['web', 'db', 'cache'])[1 + i % 3] AS host
FROM generate_series(1, 300) AS i;
CREATE TYPE reg_rows_t AS (load numeric, port int, host text);
CREATE TABLE reg_arrays AS
SELECT i AS id, ARRAY[sin(i * 0.2), cos(i * 0.2), sin(i * 0.4)]::real[] AS f
FROM generate_series(1, 200) AS i;

--
-- Life cycle
--
-- train and register in one statement: version 1, deployed
SELECT vae_register('reg_traffic', vae_train(t, '{"epochs": 5, "exclude": ["id"]}')) FROM reg_rows t;
-- later versions are candidates until deployed
SELECT vae_register('reg_traffic', vae_train(t, '{"epochs": 6, "exclude": ["id"], "seed": 2}'),
                    'more epochs') FROM reg_rows t;
SELECT vae_register('reg_traffic', vae_train(t, '{"epochs": 4, "exclude": ["id"], "seed": 3}'),
                    source => 'reg_rows') FROM reg_rows t;
SELECT name, version, state, owner, created_by, rows, size_bytes > 0 AS has_model,
       threshold > 0 AS has_threshold, source, note, deployed_at IS NOT NULL AS was_deployed
FROM vae_models WHERE name = 'reg_traffic' ORDER BY version;
-- what the registry keeps of a model
SELECT jsonb_object_keys(metrics) AS metric FROM vae_model_registry
WHERE name = 'reg_traffic' AND version = 1 ORDER BY 1;
SELECT options ->> 'epochs' AS epochs, metrics ->> 'rows' AS rows,
       (metrics ->> 'threshold')::float8 = vae_threshold(model) AS threshold_is_automatic,
       (metrics -> 'score_quantiles' ->> 'p99')::float8 = vae_threshold(model, 0.01) AS p99_ok,
       (metrics -> 'score_quantiles' ->> 'min')::float8 <= (metrics -> 'score_quantiles' ->> 'p50')::float8 AS min_le_median
FROM vae_model_registry WHERE name = 'reg_traffic' ORDER BY version;

-- vae_model(name) is the deployed version
SELECT version FROM vae_model_registry
WHERE name = 'reg_traffic' AND model = vae_model('reg_traffic');
SELECT vae_deploy('reg_traffic', 3);
SELECT version, state FROM vae_models WHERE name = 'reg_traffic' ORDER BY version;
SELECT version FROM vae_model_registry
WHERE name = 'reg_traffic' AND model = vae_model('reg_traffic');
-- deploying the deployed version again changes nothing
SELECT vae_deploy('reg_traffic', 3);
SELECT vae_deploy('reg_traffic', 2);
-- rollback undoes the latest deployment: 2 -> 3 -> 1, then nothing before 1
SELECT vae_rollback('reg_traffic');
SELECT vae_rollback('reg_traffic');
SELECT version, state FROM vae_models WHERE name = 'reg_traffic' ORDER BY version;
SELECT pg_temp.err($$SELECT vae_rollback('reg_traffic')$$);
SELECT seq, version, action, undone_at IS NOT NULL AS undone, deployed_by
FROM vae_model_deployments WHERE name = 'reg_traffic' ORDER BY seq;
-- a deployment after a rollback is rolled back to where it started
SELECT vae_deploy('reg_traffic', 2);
SELECT vae_rollback('reg_traffic');

--
-- Scoring by name: the deployed version's values, for every function
--
SELECT vae_register('reg_array', vae_train(f, '{"epochs": 5}')) FROM reg_arrays;
CREATE TABLE reg_bytes AS
SELECT name, model FROM vae_model_registry WHERE state = 'deployed';
-- rows
SELECT count(*) AS rows,
       bool_and(vae_score('reg_traffic', t) = vae_score(b.model, t)) AS score,
       bool_and(vae_score('reg_traffic', t, 'mse') = vae_score(b.model, t, 'mse')) AS score_mse,
       bool_and(vae_encode('reg_traffic', t) = vae_encode(b.model, t)) AS encode,
       bool_and(vae_reconstruct('reg_traffic', t) = vae_reconstruct(b.model, t)) AS reconstruct
FROM reg_rows t, reg_bytes b WHERE b.name = 'reg_traffic';
SELECT (SELECT array_agg(e ORDER BY feature) FROM vae_explain('reg_traffic', t) e)
     = (SELECT array_agg(e ORDER BY feature) FROM vae_explain(b.model, t) e) AS explain
FROM reg_rows t, reg_bytes b WHERE b.name = 'reg_traffic' AND t.id = 7;
SELECT vae_threshold('reg_traffic') = vae_threshold(model) AS auto,
       vae_threshold('reg_traffic', 0.05) = vae_threshold(model, 0.05) AS contamination,
       vae_threshold('reg_traffic', 0.05, 'elbo') = vae_threshold(model, 0.05, 'elbo') AS method,
       vae_model_info('reg_traffic') = vae_model_info(model) AS info,
       ARRAY(SELECT vae_generate_rows('reg_traffic', 3, 5))
         = ARRAY(SELECT vae_generate_rows(model, 3, 5)) AS generate_rows
FROM reg_bytes WHERE name = 'reg_traffic';
-- vae_detect by name: per row (LATERAL) and over a relation
SELECT count(*) AS rows, bool_and(dn IS NOT DISTINCT FROM db) AS detect
FROM reg_rows t, reg_bytes b, LATERAL vae_detect('reg_traffic', t, 0.05) dn,
     LATERAL vae_detect(b.model, t, 0.05) db
WHERE b.name = 'reg_traffic';
SELECT (SELECT array_agg(d ORDER BY row_number) FROM vae_detect('reg_traffic', 'reg_rows'::regclass, 0.05) d)
     = (SELECT array_agg(d ORDER BY row_number) FROM vae_detect(model, 'reg_rows'::regclass, 0.05) d)
       AS detect_source
FROM reg_bytes WHERE name = 'reg_traffic';
-- arrays
SELECT count(*) AS rows,
       bool_and(vae_score('reg_array', f) = vae_score(b.model, f)) AS score,
       bool_and(vae_score('reg_array', f, 'elbo') = vae_score(b.model, f, 'elbo')) AS score_elbo,
       bool_and(vae_encode('reg_array', f) = vae_encode(b.model, f)) AS encode,
       bool_and(vae_reconstruct('reg_array', f) = vae_reconstruct(b.model, f)) AS reconstruct
FROM reg_arrays t, reg_bytes b WHERE b.name = 'reg_array';
SELECT ARRAY(SELECT e FROM vae_explain('reg_array', '{0.1, 0.2, 0.3}'::real[]) e)
     = ARRAY(SELECT e FROM vae_explain(model, '{0.1, 0.2, 0.3}'::real[]) e) AS explain,
       ARRAY(SELECT vae_generate('reg_array', 4)) = ARRAY(SELECT vae_generate(model, 4)) AS generate
FROM reg_bytes WHERE name = 'reg_array';
-- a name per row (a join with names): each looked up once, scores right
SELECT n.name, count(*), bool_and(vae_score(n.name, a.f) = vae_score(b.model, a.f)) AS same
FROM reg_arrays a, (VALUES ('reg_array')) n(name), reg_bytes b
WHERE b.name = n.name GROUP BY n.name;
-- the text overload is what an untyped literal picks; bytea calls are unchanged
-- (the name forms: a text-first function with a bytea-first twin of the same
-- other arguments; they are STABLE, their twins IMMUTABLE)
SELECT p.oid::regprocedure, p.provolatile, p.proparallel, b.provolatile AS twin_volatile
FROM pg_proc p JOIN pg_proc b
  ON b.proname = p.proname AND b.pronamespace = p.pronamespace
 AND b.proargtypes[0] = 'bytea'::regtype AND b.pronargs = p.pronargs
 AND (b.proargtypes::oid[])[1:] = (p.proargtypes::oid[])[1:]
WHERE p.proname LIKE 'vae\_%' AND p.proargtypes[0] = 'text'::regtype
  AND p.pronamespace = (SELECT extnamespace FROM pg_extension WHERE extname = 'vae')
ORDER BY 1::text;
-- (so a model written as an untyped literal is now read as a name: cast it to bytea)
SELECT pg_temp.err($$SELECT vae_model_info('\x00')$$);
SELECT pg_temp.err($$SELECT vae_model_info('\x00'::bytea)$$);
-- the bytea forms stay IMMUTABLE, but those that read tables (vae_detect over a source)
SELECT p.oid::regprocedure AS bytea_functions_not_immutable, p.provolatile
FROM pg_proc p
WHERE p.proname LIKE 'vae\_%' AND p.proargtypes[0] = 'bytea'::regtype AND p.provolatile <> 'i'
ORDER BY 1::text;
-- the name is looked up once per query, not per row: the registry is read
-- by as many scans for 200 rows as for 1 (this backend's table statistics,
-- not flushed during a transaction)
BEGIN;
CREATE TEMP TABLE reg_scans AS
SELECT 0 AS step, coalesce(seq_scan, 0) + coalesce(idx_scan, 0) AS n
FROM pg_stat_xact_user_tables WHERE relname = 'vae_model_registry';
SELECT count(vae_score('reg_array', f)) FROM (SELECT f FROM reg_arrays LIMIT 1) a;
INSERT INTO reg_scans SELECT 1, coalesce(seq_scan, 0) + coalesce(idx_scan, 0)
FROM pg_stat_xact_user_tables WHERE relname = 'vae_model_registry';
SELECT count(vae_score('reg_array', f)) FROM reg_arrays;
INSERT INTO reg_scans SELECT 2, coalesce(seq_scan, 0) + coalesce(idx_scan, 0)
FROM pg_stat_xact_user_tables WHERE relname = 'vae_model_registry';
SELECT s1.n - s0.n AS scans_for_1_row, s2.n - s1.n AS scans_for_200_rows
FROM reg_scans s0, reg_scans s1, reg_scans s2
WHERE s0.step = 0 AND s1.step = 1 AND s2.step = 2;
COMMIT;
-- a deployment is seen by the next query
SELECT vae_deploy('reg_traffic', 2);
SELECT vae_score('reg_traffic', t) = vae_score(r.model, t) AS scores_with_version_2
FROM reg_rows t, vae_model_registry r
WHERE t.id = 1 AND r.name = 'reg_traffic' AND r.version = 2;
-- and by the next evaluation of a PL/pgSQL expression in the same
-- transaction (the call site keeps its cache; the snapshot changed)
CREATE FUNCTION pg_temp.deploy_and_score(v int) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	s float8;
BEGIN
	PERFORM vae_deploy('reg_traffic', v);
	s := vae_score('reg_traffic', ROW(1.5, 2, 'db')::reg_rows_t);
	RETURN s = (SELECT vae_score(model, ROW(1.5, 2, 'db')::reg_rows_t)
	            FROM vae_model_registry WHERE name = 'reg_traffic' AND version = v);
END $$;
BEGIN;
SELECT v, pg_temp.deploy_and_score(v) AS scores_with_v FROM generate_series(1, 3) v;
COMMIT;
-- in a parallel plan (the lookup is a read-only query, allowed in workers)
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
CREATE TABLE reg_scored AS
SELECT f, vae_score(model, f) AS expected FROM reg_arrays, reg_bytes WHERE name = 'reg_array';
EXPLAIN (COSTS OFF)
SELECT count(*), bool_and(vae_score('reg_array', f) = expected) AS same FROM reg_scored;
SELECT count(*), bool_and(vae_score('reg_array', f) = expected) AS same FROM reg_scored;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

--
-- Errors
--
SELECT pg_temp.err($$SELECT vae_score('reg_nope', t) FROM reg_rows t$$);
SELECT pg_temp.err($$SELECT vae_model('reg_nope')$$);
SELECT pg_temp.err($$SELECT vae_threshold('reg_nope', 0.1)$$);
SELECT pg_temp.err($$SELECT vae_generate('reg_nope', 1)$$);
SELECT pg_temp.err($$SELECT vae_deploy('reg_nope', 1)$$);
SELECT pg_temp.err($$SELECT vae_rollback('reg_nope')$$);
SELECT pg_temp.err($$SELECT vae_deploy('reg_traffic', 9)$$);
SELECT pg_temp.err($$SELECT vae_register('reg_traffic', '\x00'::bytea)$$);
SELECT pg_temp.err($$SELECT vae_register('', model) FROM reg_bytes WHERE name = 'reg_array'$$);
SELECT pg_temp.err($$SELECT vae_register(NULL, model) FROM reg_bytes WHERE name = 'reg_array'$$);
SELECT pg_temp.err($$SELECT vae_register('reg_x', NULL)$$);
-- a model for rows scored with an array, by name: the usual error
SELECT pg_temp.err($$SELECT vae_score('reg_traffic', '{1,2,3}'::real[])$$);
-- a name whose deployed version was withdrawn (by hand) scores nothing
UPDATE vae_model_registry SET state = 'retired' WHERE name = 'reg_array';
SELECT pg_temp.err($$SELECT vae_score('reg_array', f) FROM reg_arrays$$);
SELECT pg_temp.err($$SELECT vae_model('reg_array')$$);
SELECT pg_temp.err($$SELECT vae_rollback('reg_array')$$);
SELECT vae_deploy('reg_array', 1);
SELECT vae_model('reg_array') = model AS deployed_again FROM reg_bytes WHERE name = 'reg_array';
-- at most one deployed version per name
SELECT pg_temp.err($$UPDATE vae_model_registry SET state = 'deployed' WHERE name = 'reg_traffic'$$);

--
-- Privileges: the owner of a name (who registered its first version), its
-- members and superusers manage it; others may read and score if granted
--
CREATE ROLE regress_vae_alice;
CREATE ROLE regress_vae_bob;
CREATE ROLE regress_vae_carol IN ROLE regress_vae_alice;
GRANT SELECT ON reg_arrays TO regress_vae_alice, regress_vae_bob;
GRANT SELECT ON vae_model_registry, vae_model_deployments TO regress_vae_alice, regress_vae_bob;
SET ROLE regress_vae_alice;
SELECT vae_register('reg_alice', vae_train(f, '{"epochs": 3}')) FROM reg_arrays;
SELECT vae_register('reg_alice', vae_train(f, '{"epochs": 4}')) FROM reg_arrays;
SELECT vae_deploy('reg_alice', 2);
SET ROLE regress_vae_bob;
-- bob cannot replace, deploy or roll back alice's model
SELECT pg_temp.err($$SELECT vae_register('reg_alice', vae_train(f, '{"epochs": 3}')) FROM reg_arrays$$);
SELECT pg_temp.err($$SELECT vae_deploy('reg_alice', 1)$$);
SELECT pg_temp.err($$SELECT vae_rollback('reg_alice')$$);
-- nor write the tables or call the functions that do
SELECT pg_temp.err($$UPDATE vae_model_registry SET state = 'candidate' WHERE name = 'reg_alice'$$);
SELECT pg_temp.err($$DELETE FROM vae_model_registry$$);
SELECT pg_temp.err($$INSERT INTO vae_model_deployments VALUES ('reg_alice', 9, 1, now(), 'x', 'deploy')$$);
SELECT pg_temp.err($$SELECT vae_registry_deploy('regress_vae_alice'::regrole::oid, 'reg_alice', 1)$$);
-- but scores with it (granted SELECT on the registry), and registers his own
SELECT count(*), min(vae_score('reg_alice', f)) > 0 AS scored FROM reg_arrays;
SELECT version, state, owner FROM vae_models WHERE name = 'reg_alice' ORDER BY version;
SELECT vae_register('reg_bob', vae_train(f, '{"epochs": 3}')) FROM reg_arrays;
RESET ROLE;
SELECT name, version, state, owner, created_by FROM vae_models
WHERE name IN ('reg_alice', 'reg_bob') ORDER BY name, version;
-- a member of the owner's role may deploy; the history says who did
SET ROLE regress_vae_carol;
SELECT vae_rollback('reg_alice');
SELECT vae_register('reg_alice', vae_train(f, '{"epochs": 5}')) FROM reg_arrays;
RESET ROLE;
SELECT version, state, created_by FROM vae_models WHERE name = 'reg_alice' ORDER BY version;
SELECT seq, version, deployed_by, undone_by FROM vae_model_deployments
WHERE name = 'reg_alice' ORDER BY seq;
-- without SELECT on the registry, no scoring by name
REVOKE SELECT ON vae_model_registry FROM regress_vae_bob;
SET ROLE regress_vae_bob;
SELECT pg_temp.err($$SELECT vae_score('reg_alice', f) FROM reg_arrays$$);
SELECT pg_temp.err($$SELECT count(*) FROM vae_models$$);
RESET ROLE;
-- a superuser may manage any name
SELECT vae_deploy('reg_alice', 3);
SELECT vae_rollback('reg_alice');

DELETE FROM vae_model_registry WHERE name LIKE 'reg\_%';
DELETE FROM vae_model_deployments WHERE name LIKE 'reg\_%';
REVOKE ALL ON vae_model_registry, vae_model_deployments, reg_arrays FROM regress_vae_alice, regress_vae_bob;
DROP ROLE regress_vae_carol;
DROP ROLE regress_vae_alice;
DROP ROLE regress_vae_bob;
