--
-- vae_reports: scheduled anomaly reports without a scheduler (CALL
-- vae_report_run): the findings table, the watermark, the bookkeeping, a
-- bad row, a view as the source with a timestamp key, the views, the
-- picture, the errors.  test/integration/reports.sh covers concurrency,
-- cancel, NOTIFY, drift, retrain, pg_cron and dumps.
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

CREATE TABLE rep_rows (id bigserial PRIMARY KEY, at timestamptz, load double precision,
                       port integer, host text);
INSERT INTO rep_rows (at, load, port, host)
SELECT timestamptz '2026-11-01 00:00+00' + i * interval '1 minute', (i % 7) * 1.5, i % 5,
       (ARRAY['web', 'db', 'cache'])[1 + i % 3]
FROM generate_series(1, 600) AS i;
SELECT vae_register('rep_model', vae_train(t, '{"seed": 1, "epochs": 5}'))
FROM (SELECT load, port, host FROM rep_rows) t;

--
-- A report: the findings table in the current schema, the bookkeeping
SELECT vae_report_create('rep', 'rep_model', 'rep_rows', 'id', 0.02,
                         options => '{"batch_size": 100}');
\d rep
SELECT name, model, source, key_column, findings, contamination, watermark, runs
FROM vae_reports;

-- a run scores every row once and appends the anomalies
CALL vae_report_run('rep');
SELECT run, model_version, rows_scored, row_errors, watermark_from, watermark_to,
       anomalies = (SELECT count(*) FROM rep) AS anomalies_kept, error
FROM vae_report_runs WHERE report = 'rep';
SELECT count(*) FILTER (WHERE f.score > f.threshold) = count(*) AS all_above,
       count(*) FILTER (WHERE f.score = (vae_detect(vae_model('rep_model'), r, 0.02)).score) = count(*) AS same_scores,
       count(*) FILTER (WHERE f."row" ->> 'host' = r.host) = count(*) AS rows_kept
FROM rep f JOIN rep_rows r USING (id);
-- nothing new: an empty run moves nothing
CALL vae_report_run('rep');
SELECT runs, rows_scored, watermark FROM vae_reports;

-- a bad row (NaN) is recorded; the rows around it are scored
INSERT INTO rep_rows (at, load, port, host) VALUES
	('2026-12-01', 1.5, 1, 'web'), ('2026-12-01', 'NaN', 1, 'web'), ('2026-12-01', 3, 2, 'db');
CALL vae_report_run('rep');
SELECT key, sqlstate, message FROM vae_report_errors;
SELECT rows_scored, row_errors, watermark_to, error FROM vae_report_runs ORDER BY run DESC LIMIT 1;
SELECT runs, rows_scored, errors, watermark, last_error FROM vae_reports;

-- max_rows bounds a run: the next run goes on from its watermark
SELECT vae_report_create('rep_small', 'rep_model', 'rep_rows', 'id', 0.02,
                         options => '{"batch_size": 100, "max_rows": 250}');
CALL vae_report_run('rep_small');
CALL vae_report_run('rep_small');
CALL vae_report_run('rep_small');
SELECT run, rows_scored, row_errors, watermark_from, watermark_to
FROM vae_report_runs WHERE report = 'rep_small' ORDER BY run;
SELECT vae_report_drop('rep_small');

-- a view column that does not compute for one row (a text that does not
-- cast): that row is recorded, the others are scored
CREATE TABLE rep_raw (id serial PRIMARY KEY, load text, port integer, host text);
INSERT INTO rep_raw (load, port, host)
SELECT ((i % 7) * 1.5)::text, i % 5, (ARRAY['web', 'db', 'cache'])[1 + i % 3]
FROM generate_series(1, 50) AS i;
UPDATE rep_raw SET load = 'n/a' WHERE id = 20;
CREATE VIEW rep_cast AS SELECT id, load::double precision AS load, port, host FROM rep_raw;
SELECT vae_report_create('rep_cast_report', 'rep_model', 'rep_cast', 'id', 0.02);
CALL vae_report_run('rep_cast_report');
SELECT key, sqlstate, message FROM vae_report_errors WHERE report = 'rep_cast_report';
SELECT rows_scored, row_errors, watermark_to, error FROM vae_report_runs WHERE report = 'rep_cast_report';
-- the source no longer fits the model (a column it reads renamed): not a
-- row's fault, so the run fails as a whole and nothing moves
INSERT INTO rep_raw (load, port, host) VALUES ('1.5', 1, 'web'), ('3', 2, 'db');
ALTER VIEW rep_cast RENAME COLUMN host TO hostname;
CALL vae_report_run('rep_cast_report');
SELECT rows_scored, row_errors, watermark_to, error_sqlstate, error
FROM vae_report_runs WHERE report = 'rep_cast_report' ORDER BY run DESC LIMIT 1;
SELECT watermark, errors, last_error FROM vae_reports WHERE name = 'rep_cast_report';
ALTER VIEW rep_cast RENAME COLUMN hostname TO host;
CALL vae_report_run('rep_cast_report');
SELECT rows_scored, row_errors, watermark_to, error
FROM vae_report_runs WHERE report = 'rep_cast_report' ORDER BY run DESC LIMIT 1;
-- an error that is not a row's own (a lock timeout, raised here by a view
-- function for one row): the run fails, no row is recorded as bad, and the
-- watermark stays, so the next run scores the row
CREATE FUNCTION rep_flaky(i integer) RETURNS integer LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF i = 53 AND current_setting('rep.flaky', true) = 'on' THEN
		RAISE EXCEPTION 'lock timeout stand-in' USING ERRCODE = 'lock_not_available';
	END IF;
	RETURN i;
END $$;
CREATE OR REPLACE VIEW rep_cast AS
SELECT rep_flaky(id) AS id, load::double precision AS load, port, host FROM rep_raw;
INSERT INTO rep_raw (load, port, host) VALUES ('3', 1, 'db');
SET rep.flaky = on;
CALL vae_report_run('rep_cast_report');
SELECT rows_scored, row_errors, watermark_from = watermark_to AS watermark_stays, error_sqlstate
FROM vae_report_runs WHERE report = 'rep_cast_report' ORDER BY run DESC LIMIT 1;
RESET rep.flaky;
CALL vae_report_run('rep_cast_report');
SELECT rows_scored, row_errors, watermark_to, error
FROM vae_report_runs WHERE report = 'rep_cast_report' ORDER BY run DESC LIMIT 1;
SELECT key, sqlstate, message FROM vae_report_errors WHERE report = 'rep_cast_report' ORDER BY run DESC LIMIT 1;
-- another role does not see the report (row security on the bookkeeping,
-- which every role may use): nothing to read, change, run or drop
CREATE ROLE regress_vae_eve;
SET ROLE regress_vae_eve;
SELECT count(*) AS eve_sees FROM vae_reports;
SELECT count(*) AS eve_sees_runs FROM vae_report_runs;
UPDATE vae_report_state SET source = 'pg_class' WHERE name = 'rep_cast_report';
SELECT pg_temp.err($$CALL vae_report_run('rep_cast_report')$$);
SELECT pg_temp.err($$SELECT vae_report_drop('rep_cast_report')$$);
-- nor make a report that claims to be someone else's
SELECT pg_temp.err($$INSERT INTO vae_report_state (name, model, source, key_column, key_type,
                     findings, contamination, created_by)
                     VALUES ('forged', 'rep_model', 'rep_raw', 'id', 'integer', 'rep_raw', 0.1,
                             current_user)$$) AS as_self,
       pg_temp.err($$INSERT INTO vae_report_state (name, model, source, key_column, key_type,
                     findings, contamination, created_by)
                     VALUES ('forged', 'rep_model', 'rep_raw', 'id', 'integer', 'rep_raw', 0.1,
                             'postgres')$$) AS as_other;
RESET ROLE;
SELECT source FROM vae_report_state WHERE name = 'rep_cast_report';
DELETE FROM vae_report_state WHERE name = 'forged';
DROP ROLE regress_vae_eve;
-- a role that bypasses row security sees it, and still may not run or
-- drop it (its triggers and view functions would run with that role's
-- rights)
CREATE ROLE regress_vae_mallory BYPASSRLS;
SET ROLE regress_vae_mallory;
SELECT count(*) AS mallory_sees FROM vae_report_state WHERE name = 'rep_cast_report';
SELECT pg_temp.err($$CALL vae_report_run('rep_cast_report')$$);
SELECT pg_temp.err($$SELECT vae_report_drop('rep_cast_report')$$);
RESET ROLE;
DROP ROLE regress_vae_mallory;
SELECT vae_report_drop('rep_cast_report');
DROP VIEW rep_cast;
DROP FUNCTION rep_flaky(integer);
DROP TABLE rep_raw;

--
-- A view as the source, a timestamp key (the NaN row ties with two
-- others: the three are recorded under their one key)
CREATE VIEW rep_view AS SELECT at, load, port, host FROM rep_rows WHERE load = load;
SELECT vae_report_create('rep_ts', 'rep_model', 'rep_view', 'at', 0.02);
CALL vae_report_run('rep_ts');
SELECT watermark, rows_scored, errors FROM vae_reports WHERE name = 'rep_ts';
SELECT atttypid::regtype AS at_type FROM pg_attribute WHERE attrelid = 'rep_ts'::regclass AND attname = 'at';
-- the watermark is ISO 8601 text in UTC: another session's DateStyle and
-- TimeZone (a pg_cron worker's) read it back the same
SET DateStyle = 'SQL, DMY';
SET TimeZone = 'Asia/Tokyo';
INSERT INTO rep_rows (at, load, port, host) VALUES ('2026-12-02 00:00+00', 3, 2, 'db');
CALL vae_report_run('rep_ts');
RESET DateStyle;
RESET TimeZone;
SELECT rows_scored, row_errors, watermark_from, watermark_to
FROM vae_report_runs WHERE report = 'rep_ts' ORDER BY run DESC LIMIT 1;

--
-- The picture
SELECT left(vae_plot_report('rep'), 5) AS svg, vae_plot_report('rep') LIKE '%</svg>%' AS closed;

--
-- Errors
SELECT pg_temp.err($$SELECT vae_report_create('rep', 'rep_model', 'rep_rows', 'id', 0.02)$$);
SELECT pg_temp.err($$SELECT vae_report_create('rep2', 'no_such_model', 'rep_rows', 'id', 0.02)$$);
SELECT pg_temp.err($$SELECT vae_report_create('rep2', 'rep_model', 'rep_rows', 'nope', 0.02)$$);
SELECT pg_temp.err($$SELECT vae_report_create('rep2', 'rep_model', 'rep_rows', 'host', 0.02)$$);
SELECT pg_temp.err($$SELECT vae_report_create('rep2', 'rep_model', 'rep_rows', 'id', 1)$$);
SELECT pg_temp.err($$SELECT vae_report_create('rep2', 'rep_model', 'rep_rows', 'id', 0.02, NULL, '{"batch": 5}')$$);
SELECT pg_temp.err($$SELECT vae_report_create('rep2', 'rep_model', 'no_table', 'id', 0.02)$$);
SELECT pg_temp.err($$SELECT vae_report_create('rep2', 'rep_model', 'rep_rows', 'id', 0.02, '* * * * *')$$);
SELECT pg_temp.err($$CALL vae_report_run('nope')$$);
SELECT pg_temp.err($$SELECT vae_report_drop('nope')$$);
SELECT pg_temp.err($$SELECT vae_report_retrain('rep', NULL, '{"window": 5}')$$);
SELECT pg_temp.err($$SELECT vae_plot_report('nope')$$);
-- an array model: a report scores rows by name
SELECT vae_register('rep_array_model', vae_train(ARRAY[load, port]::real[], '{"seed": 1, "epochs": 2}'))
FROM rep_rows WHERE id <= 600;
SELECT pg_temp.err($$SELECT vae_report_create('rep2', 'rep_array_model', 'rep_rows', 'id', 0.02)$$);
-- nothing was left behind by the failed creations
SELECT count(*) FROM vae_reports;
SELECT to_regclass('rep2');

--
-- A role without any privilege of its own on the extension's tables runs
-- its own reports (on its table, with its registered model); a member of
-- its role sees and runs them too; a report name another role holds is
-- taken, though that report cannot be seen
CREATE ROLE regress_vae_owner;
CREATE ROLE regress_vae_member IN ROLE regress_vae_owner;
GRANT CREATE ON SCHEMA public TO regress_vae_owner;
GRANT SELECT ON vae_model_registry, vae_model_deployments TO regress_vae_owner;
SET ROLE regress_vae_owner;
CREATE TABLE rep_own (id integer PRIMARY KEY, load double precision, host text);
INSERT INTO rep_own SELECT i, i % 5, (ARRAY['a', 'b'])[1 + i % 2] FROM generate_series(1, 200) i;
SELECT vae_register('rep_own_model', vae_train(t, '{"seed": 1, "epochs": 3}'))
FROM (SELECT load, host FROM rep_own) t;
SELECT vae_report_create('rep_own_report', 'rep_own_model', 'rep_own', 'id', 0.05);
CALL vae_report_run('rep_own_report');
SELECT name, runs, rows_scored, errors, watermark, created_by FROM vae_reports;
SELECT report, rows_scored, row_errors, error FROM vae_report_runs;
SET ROLE regress_vae_member;
INSERT INTO rep_own SELECT i, i % 5, 'a' FROM generate_series(201, 210) i;
CALL vae_report_run('rep_own_report');
SELECT name, runs, rows_scored FROM vae_reports;
RESET ROLE;
SELECT pg_temp.err($$SELECT vae_report_create('rep_own_report', 'rep_model', 'rep_rows', 'id', 0.02)$$);
CREATE SCHEMA rep_own_schema AUTHORIZATION regress_vae_owner;
SET ROLE regress_vae_owner;
SET search_path = rep_own_schema, public;
SELECT pg_temp.err($$SELECT vae_report_create('rep_ts', 'rep_own_model', 'public.rep_own', 'id', 0.05)$$);
RESET search_path;
SELECT vae_report_drop('rep_own_report');
DROP TABLE rep_own;
RESET ROLE;
DELETE FROM vae_model_deployments WHERE name = 'rep_own_model';
DELETE FROM vae_model_registry WHERE name = 'rep_own_model';
REVOKE ALL ON vae_model_registry, vae_model_deployments FROM regress_vae_owner;
REVOKE CREATE ON SCHEMA public FROM regress_vae_owner;
DROP SCHEMA rep_own_schema;
DROP ROLE regress_vae_member;
DROP ROLE regress_vae_owner;

--
-- A run that cannot run at all is recorded, not raised (the source is gone)
DROP VIEW rep_view CASCADE;
CALL vae_report_run('rep_ts');
SELECT rows_scored, error_sqlstate, error FROM vae_report_runs WHERE report = 'rep_ts' ORDER BY run DESC LIMIT 1;

--
-- Drop: the bookkeeping and the findings go
SELECT vae_report_drop('rep_ts');
SELECT vae_report_drop('rep', drop_findings => false);
SELECT count(*) FROM vae_report_state;
SELECT count(*) FROM vae_report_history;
SELECT count(*) FROM vae_report_errors;
SELECT to_regclass('rep_ts') IS NULL AS ts_dropped, to_regclass('rep') IS NOT NULL AS rep_kept;
DROP TABLE rep, rep_rows;
