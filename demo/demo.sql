-- demo/demo.sql - a guided tour of the vae extension: anomaly detection on
-- server metrics.  Run it with `make demo` (a throwaway cluster) or with
-- `psql -X -v ON_ERROR_STOP=1 -f demo/demo.sql` in a scratch database.
--
-- The data set is generated here, deterministically: two weeks of one-minute
-- samples of five metrics of a web server (cpu, memory, latency, requests,
-- error rate) that all follow the daily and weekly traffic pattern, plus
-- measurement noise drawn from md5 hashes of the row number (so every run
-- prints the same figures).  We train a variational autoencoder on that
-- history, then score a new day of samples into which eight incidents were
-- injected.
\set ON_ERROR_STOP on
\set QUIET on
\pset footer off
SET client_min_messages = warning;
SET TimeZone = 'UTC';

\echo
\echo '=== 1. Install the extension ==='
DROP TABLE IF EXISTS metrics, models, live_report CASCADE;
DROP EXTENSION IF EXISTS vae CASCADE;
CREATE EXTENSION vae;

-- deterministic N(0, 1) noise for (row, channel): Box-Muller on two md5 hashes
CREATE FUNCTION pg_temp.noise(i int, k int) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$
	SELECT sqrt(-2 * ln(u1)) * cos(2 * pi() * u2)
	FROM (SELECT ((('x' || substr(h, 1, 8))::bit(32)::bigint + 0.5) / 4294967296.0) AS u1,
				 ((('x' || substr(h, 9, 8))::bit(32)::bigint + 0.5) / 4294967296.0) AS u2
		  FROM (SELECT md5(i || ':' || k) AS h) s) u
$$;

\echo
\echo '=== 2. Generate 20,160 minutes (two weeks) of normal server metrics ==='
CREATE TABLE metrics (
	id          bigserial PRIMARY KEY,
	ts          timestamptz NOT NULL,
	batch       text NOT NULL,			-- 'history' (training) or 'live' (to score)
	cpu         real NOT NULL,			-- percent
	memory      real NOT NULL,			-- percent
	latency_ms  real NOT NULL,			-- p95 latency
	requests    real NOT NULL,			-- requests per second
	error_rate  real NOT NULL,			-- percent of requests
	injected    text					-- the incident, for injected anomalies
);

-- load: daily wave peaking mid-afternoon, a quieter weekend, a little noise;
-- every metric is a (noisy) function of it
CREATE FUNCTION pg_temp.gen(first int, last int, batch text)
RETURNS TABLE (ts timestamptz, batch text, cpu real, memory real, latency_ms real,
			   requests real, error_rate real)
LANGUAGE sql AS $$
	SELECT timestamptz '2024-03-04 00:00+00' + i * interval '1 minute', batch,
		   (8 + 70 * load + 2.5 * pg_temp.noise(i, 2))::real,
		   (35 + 30 * load + 0.01 * (i % 1440) + 1.5 * pg_temp.noise(i, 3))::real,
		   (18 + 45 * load * load + 2 * pg_temp.noise(i, 4))::real,
		   greatest(0, 1200 * load + 25 * pg_temp.noise(i, 5))::real,
		   greatest(0, 0.1 + 0.6 * load * load * load + 0.04 * pg_temp.noise(i, 6))::real
	FROM (SELECT i,
				 greatest(0.02, 0.45 - 0.3 * cos(2 * pi() * ((i % 1440) - 150) / 1440.0)
						  - CASE WHEN (i / 1440) % 7 IN (5, 6) THEN 0.12 ELSE 0 END
						  + 0.03 * pg_temp.noise(i, 1)) AS load
		  FROM generate_series(first, last) i) g
$$;

INSERT INTO metrics (ts, batch, cpu, memory, latency_ms, requests, error_rate)
SELECT * FROM pg_temp.gen(0, 20159, 'history');

SELECT count(*) AS samples, min(ts) AS first, max(ts) AS last,
	   round(avg(cpu)::numeric, 1) AS avg_cpu, round(avg(memory)::numeric, 1) AS avg_mem,
	   round(avg(latency_ms)::numeric, 1) AS avg_latency, round(avg(requests)::numeric) AS avg_req,
	   round(avg(error_rate)::numeric, 2) AS avg_err,
	   round(corr(cpu, requests)::numeric, 3) AS corr_cpu_req,
	   round(corr(latency_ms, cpu)::numeric, 3) AS corr_lat_cpu
FROM metrics;

\echo
\echo '=== 3. Train a VAE on the history (default options) and keep it in a table ==='
CREATE TABLE models (
	name       text PRIMARY KEY,
	model      bytea NOT NULL,
	trained_at timestamptz NOT NULL DEFAULT now()
);

\timing on
INSERT INTO models (name, model)
SELECT 'server_metrics',
	   vae_train(ARRAY[cpu, memory, latency_ms, requests, error_rate])
FROM metrics WHERE batch = 'history';
\timing off

\echo
\echo 'What vae_train chose from the data (vae_model_info, a few keys):'
SELECT i->>'input_dim' AS input_dim, i->>'hidden' AS hidden, i->>'latent_dim' AS latent_dim,
	   i->>'likelihood' AS likelihood, i->>'normalize' AS normalize,
	   i->>'rows' AS rows, i->>'epochs' AS epochs, i->>'best_epoch' AS best_epoch,
	   round((i->'val_loss'->>((i->>'best_epoch')::int - 1))::numeric, 3) AS best_val_loss,
	   i->>'parameters' AS parameters, pg_size_pretty((i->>'size_bytes')::bigint) AS size
FROM models, vae_model_info(model) AS i
WHERE name = 'server_metrics';

\echo
\echo '=== 4. A new day of live samples, with eight injected incidents ==='
INSERT INTO metrics (ts, batch, cpu, memory, latency_ms, requests, error_rate)
SELECT * FROM pg_temp.gen(20160, 21599, 'live');

-- each incident overwrites one live sample; the times are spread over the day
UPDATE metrics m
SET cpu = coalesce(x.cpu, m.cpu), memory = coalesce(x.memory, m.memory),
	latency_ms = coalesce(x.latency_ms, m.latency_ms), requests = coalesce(x.requests, m.requests),
	error_rate = coalesce(x.error_rate, m.error_rate), injected = x.incident
FROM (VALUES
	(20160 +   95, 'slow dependency: high latency, idle cpu',  NULL::real, NULL::real, 150::real, NULL::real, NULL::real),
	(20160 +  260, 'memory leak at night',                     NULL,       97,         NULL,      NULL,       NULL),
	(20160 +  480, 'runaway process: cpu pegged, no traffic',  99,         NULL,       NULL,      NULL,       NULL),
	(20160 +  610, 'error burst at normal load',               NULL,       NULL,       NULL,      NULL,       4.5),
	(20160 +  800, 'traffic spike the cpu did not follow',     NULL,       NULL,       NULL,      1900,       NULL),
	(20160 +  930, 'dead upstream: no requests at peak',       NULL,       NULL,       NULL,      0,          NULL),
	(20160 + 1100, 'GC storm: cpu and latency up, same load',  96,         NULL,       120,       NULL,       NULL),
	(20160 + 1300, 'subtle: latency 2x normal, errors 3x',     NULL,       NULL,       55,        NULL,       0.6)
) AS x(minute, incident, cpu, memory, latency_ms, requests, error_rate)
WHERE m.ts = timestamptz '2024-03-04 00:00+00' + x.minute * interval '1 minute';

SELECT to_char(ts, 'Dy HH24:MI') AS at, round(cpu::numeric, 1) AS cpu, round(memory::numeric, 1) AS memory,
	   round(latency_ms::numeric, 1) AS latency_ms, round(requests::numeric) AS requests,
	   round(error_rate::numeric, 2) AS error_rate, injected
FROM metrics WHERE injected IS NOT NULL ORDER BY ts;

\echo
\echo '=== 4b. A named model and a scheduled report over the live samples ==='
-- a row model of the five metrics (columns matched by name), registered
-- under a name: version 1 is deployed at once
SELECT vae_register('server_metrics', vae_train(m, '{"seed": 1}')) AS version
FROM (SELECT cpu, memory, latency_ms, requests, error_rate FROM metrics WHERE batch = 'history') m;
CREATE VIEW live_metrics AS
SELECT id, ts, cpu, memory, latency_ms, requests, error_rate FROM metrics WHERE batch = 'live';
-- the report: new rows of live_metrics past its watermark (key id), the
-- anomalies at contamination 0.002 into the table live_report; with pg_cron
-- it runs every minute, else we call it at the end (section 8)
SELECT (current_setting('shared_preload_libraries') LIKE '%pg_cron%') AS have_cron \gset
\if :have_cron
CREATE EXTENSION IF NOT EXISTS pg_cron;
SELECT vae_report_create('live_report', 'server_metrics', 'live_metrics', 'id', 0.002, '* * * * *') AS findings;
\echo 'pg_cron will run it at the start of the next minute; its findings are read in section 8.'
\else
SELECT vae_report_create('live_report', 'server_metrics', 'live_metrics', 'id', 0.002) AS findings;
\echo 'pg_cron is not loaded here: section 8 runs the report with CALL vae_report_run.'
\endif

\echo
\echo '=== 5. A view that scores every sample against the stored model ==='
CREATE VIEW metrics_scored AS
SELECT m.*,
	   ARRAY[m.cpu, m.memory, m.latency_ms, m.requests, m.error_rate] AS features,
	   vae_score(md.model, ARRAY[m.cpu, m.memory, m.latency_ms, m.requests, m.error_rate]) AS score,
	   md.model
FROM metrics m
CROSS JOIN models md
WHERE md.name = 'server_metrics';

\echo 'Threshold: the recon_prob score above which 1% of the training samples lie'
SELECT round(vae_threshold(model, 0.01)::numeric, 3) AS threshold_1pct
FROM models WHERE name = 'server_metrics' \gset
SELECT :threshold_1pct AS threshold_1pct,
	   count(*) AS live_samples,
	   count(*) FILTER (WHERE score > :threshold_1pct) AS live_flagged,
	   count(*) FILTER (WHERE score > :threshold_1pct AND injected IS NOT NULL) AS injected_flagged
FROM metrics_scored WHERE batch = 'live';

\echo
\echo '=== 6. The 10 most anomalous live samples, and the two features behind each (vae_explain) ==='
CREATE TEMP TABLE top10 AS
SELECT row_number() OVER (ORDER BY score DESC, id) AS rank, *
FROM metrics_scored
WHERE batch = 'live'
ORDER BY score DESC, id
LIMIT 10;

SELECT t.rank, to_char(t.ts, 'HH24:MI') AS at, round(t.score::numeric, 1) AS score,
	   d.drivers AS "top 2 drivers: value (expected)",
	   coalesce(t.injected, '-') AS injected_incident
FROM top10 t
CROSS JOIN LATERAL (
	SELECT string_agg(format('%s %s (%s)',
							 (ARRAY['cpu', 'memory', 'latency_ms', 'requests', 'error_rate'])[e.feature],
							 round(e.value::numeric, 1), round(e.expected::numeric, 1)),
					  ', ' ORDER BY e.contribution DESC) AS drivers
	FROM (SELECT * FROM vae_explain(t.model, t.features)
		  ORDER BY contribution DESC LIMIT 2) e
) d
ORDER BY t.rank;

\echo
\echo '=== 7. How many of the 8 injected incidents landed in the top 10? ==='
SELECT count(*) FILTER (WHERE injected IS NOT NULL) AS injected_in_top10,
	   (SELECT count(*) FROM metrics WHERE injected IS NOT NULL) AS injected_total
FROM top10;

\echo
\echo '=== 8. The report: what the scheduled run found, and a picture ==='
\if :have_cron
\echo 'waiting for pg_cron to run the report (it schedules by the minute) ...'
DO $$
BEGIN
	FOR i IN 1..90 LOOP
		EXIT WHEN EXISTS (SELECT 1 FROM vae_report_runs WHERE report = 'live_report');
		PERFORM pg_sleep(1);
	END LOOP;
END $$;
SELECT j.jobname, d.status, d.command
FROM cron.job_run_details d JOIN cron.job j USING (jobid)
WHERE j.jobname = 'vae_report:live_report' ORDER BY d.runid LIMIT 1;
\else
CALL vae_report_run('live_report');
\endif
SELECT run, model_version, rows_scored, anomalies, row_errors,
	   round(share_above::numeric, 4) AS share_above, round(threshold::numeric, 2) AS threshold
FROM vae_report_runs WHERE report = 'live_report';

\echo 'The findings, worst first, with the column that contributed most (vae_detect''s top):'
SELECT to_char(m.ts, 'HH24:MI') AS at, round(f.score::numeric, 1) AS score,
	   f.top -> 0 ->> 'column' AS top_column,
	   round((f.top -> 0 ->> 'share')::numeric, 2) AS share,
	   coalesce(m.injected, '-') AS injected_incident
FROM live_report f JOIN metrics m USING (id)
ORDER BY f.score DESC;

SELECT count(*) FILTER (WHERE m.injected IS NOT NULL) AS incidents_found,
	   (SELECT count(*) FROM metrics WHERE injected IS NOT NULL) AS incidents_injected,
	   count(*) FILTER (WHERE m.injected IS NULL) AS other_findings
FROM live_report f JOIN metrics m USING (id);

SELECT name, watermark, runs, rows_scored, anomalies, errors, drift FROM vae_reports;

\echo 'Pictures: build/demo-report.svg (the report''s runs), build/demo-scores.svg (training scores and the threshold)'
\pset format unaligned
\pset tuples_only on
\o build/demo-report.svg
SELECT vae_plot_report('live_report');
\o build/demo-scores.svg
SELECT vae_plot_scores(vae_model('server_metrics'), 0.002);
\o
\pset tuples_only off
\pset format aligned
\if :have_cron
SELECT vae_report_drop('live_report', drop_findings => false);
\endif
