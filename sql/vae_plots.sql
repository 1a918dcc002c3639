--
-- vae_plots: the pictures (vae_plot_*) are SVG documents: well-formed XML
-- (checked with xmlparse, which needs a server built with libxml, as
-- Debian's is), of the fixed size, with every user text escaped, the same
-- bytes whatever the session's settings, and the errors.  Rendering them
-- with a real renderer is test/integration/plots.sh.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vae;
RESET client_min_messages;
\set VERBOSITY default

-- svg_shape(doc): what every picture must be
CREATE FUNCTION svg_shape(doc text) RETURNS text LANGUAGE sql AS $$
  SELECT concat_ws(' ',
    CASE WHEN doc LIKE '<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="800" height="450" viewBox="0 0 800 450"%'
         THEN 'svg 800x450' ELSE 'NOT AN SVG OF THE SIZE' END,
    CASE WHEN xml_is_well_formed_document(doc) THEN 'well-formed' ELSE 'MALFORMED' END,
    CASE WHEN doc ~ '^[\x01-\x7e\n]*$' THEN 'ascii' ELSE 'NOT ASCII' END,
    CASE WHEN right(doc, 7) = '</svg>' || chr(10) THEN 'closed' ELSE 'NOT CLOSED' END)
$$;
-- the texts of a picture, as a renderer shows them (entities decoded)
CREATE FUNCTION svg_texts(doc text) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT x::text FROM unnest(xpath('//s:text/text()', xmlparse(document doc),
                                    ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']])) x
$$;

-- ---- vae_plot_history: a report's runs ----
CREATE TABLE plot_runs AS
SELECT i, timestamptz '2026-11-30 22:00:00+00' + i * interval '1 hour' AS at,
       (1000 + 10 * i)::bigint AS n_rows, (i % 4)::bigint AS n_anomalies, i = 5 AS flagged
FROM generate_series(1, 8) i;

SELECT svg_shape(vae_plot_history('traffic', array_agg(at ORDER BY i), array_agg(n_rows ORDER BY i),
                                  array_agg(n_anomalies ORDER BY i), array_agg(flagged ORDER BY i)))
FROM plot_runs;
-- the texts: title, summary, tick labels in UTC, legend
SELECT svg_texts(vae_plot_history('traffic', array_agg(at ORDER BY i), array_agg(n_rows ORDER BY i),
                                  array_agg(n_anomalies ORDER BY i), array_agg(flagged ORDER BY i)))
FROM plot_runs;
-- a hostile title is text, not markup
SELECT svg_shape(p), (SELECT t FROM svg_texts(p) t LIMIT 1) AS title,
       strpos(p, '<&">') = 0 AS no_raw_markup
FROM (SELECT vae_plot_history('<&">', ARRAY[timestamptz '2026-12-01 00:00+00'], '{5}', '{1}', '{t}') p) x;
-- the same bytes whatever TimeZone, DateStyle, extra_float_digits and lc_numeric say
CREATE TEMP TABLE plot_ref AS
SELECT vae_plot_history('traffic', array_agg(at ORDER BY i), array_agg(n_rows ORDER BY i),
                        array_agg(n_anomalies ORDER BY i), array_agg(flagged ORDER BY i)) p
FROM plot_runs;
SET TimeZone = 'Asia/Kolkata';
SET DateStyle = 'German';
SET extra_float_digits = -10;
-- (a comma-decimal locale where the machine has one; a no-op elsewhere)
DO $$ BEGIN PERFORM set_config('lc_numeric', 'de_DE.UTF-8', false);
EXCEPTION WHEN invalid_parameter_value THEN NULL; END $$;
SELECT vae_plot_history('traffic', array_agg(at ORDER BY i), array_agg(n_rows ORDER BY i),
                        array_agg(n_anomalies ORDER BY i), array_agg(flagged ORDER BY i))
       = (SELECT p FROM plot_ref) AS same_bytes
FROM plot_runs;
RESET TimeZone;
RESET DateStyle;
RESET extra_float_digits;
RESET lc_numeric;
-- runs out of order are drawn in time order; NULL counts and times are left out
SELECT vae_plot_history('t', ARRAY['2026-12-01 02:00+00', '2026-12-01 01:00+00', NULL]::timestamptz[],
                        '{2,1,3}', '{0,NULL,1}', NULL)
     = vae_plot_history('t', ARRAY['2026-12-01 01:00+00', '2026-12-01 02:00+00']::timestamptz[],
                        '{1,2}', '{NULL,0}', '{f,f}') AS same_picture;
-- thousands of runs: drawn per pixel column, the document stays small
SELECT svg_shape(p), length(p) < 60000 AS small
FROM (SELECT vae_plot_history('busy', array_agg(timestamptz '2026-11-01 00:00+00' + i * interval '7 minutes'),
                              array_agg(i::bigint), array_agg((i % 10)::bigint), array_agg(i % 500 = 0)) p
      FROM generate_series(1, 20000) i) x;
-- no runs: a picture that says so
SELECT svg_shape(p), (SELECT string_agg(t, ' | ') FROM svg_texts(p) t)
FROM (SELECT vae_plot_history('empty', NULL, NULL, NULL, NULL) p) x;
SELECT (SELECT string_agg(t, ' | ') FROM svg_texts(vae_plot_history(NULL, '{}', '{}', '{}', '{}')) t);
-- errors: arrays of different lengths, two-dimensional arrays
SELECT vae_plot_history('t', ARRAY[now()], '{1,2}', '{0}', '{f}');
SELECT vae_plot_history('t', ARRAY[now()], '{1}', '{0}', '{{f}}');

-- ---- pictures of a model ----
CREATE TABLE plot_data AS
SELECT i, ARRAY[sin(i * 0.1), cos(i * 0.1), (i % 7) * 0.5,
                CASE WHEN i % 100 = 0 THEN 25 ELSE sin(i * 0.37) END] AS f,
       (i % 50)::int AS port, 100 + 10 * sin(i * 0.1) AS bytes,
       (ARRAY['web', 'db', 'cache'])[1 + i % 3] AS host
FROM generate_series(1, 2400) i;
CREATE TABLE plot_models (name text PRIMARY KEY, model bytea);
INSERT INTO plot_models
SELECT 'val', vae_train(f, '{"epochs": 12, "seed": 1, "max_rows": 600, "validation_fraction": 0.2}') FROM plot_data
UNION ALL
SELECT 'noval', vae_train(f, '{"epochs": 12, "seed": 1, "max_rows": 600, "validation_fraction": 0}') FROM plot_data
UNION ALL
SELECT 'long', vae_train(f, '{"epochs": 3000, "patience": 0, "seed": 1, "max_rows": 40, "hidden": []}') FROM plot_data
UNION ALL
SELECT 'wide', vae_train(f, '{"epochs": 8, "seed": 1, "max_rows": 600, "latent_dim": 4}') FROM plot_data;
INSERT INTO plot_models
SELECT 'rows', vae_train(ROW(port, bytes, host), '{"epochs": 8, "seed": 1, "max_rows": 600}') FROM plot_data;

-- vae_plot_training: the curves, the kept epoch, a legend
SELECT name, svg_shape(p),
       (SELECT count(*) FROM svg_texts(p) t WHERE t = 'training rows') AS train_legend,
       (SELECT count(*) FROM svg_texts(p) t WHERE t = 'held-out rows (validation)') AS val_legend,
       (SELECT count(*) FROM svg_texts(p) t WHERE t LIKE 'kept: epoch %') AS kept_legend,
       (SELECT count(*) FROM svg_texts(p) t WHERE t = 'epoch') AS x_label,
       (SELECT count(*) FROM regexp_matches(p, '<path ', 'g')) AS curves
FROM (SELECT name, vae_plot_training(model) p FROM plot_models) x ORDER BY name;
-- 3,000 epochs: at most two points per pixel column, so the document stays small
SELECT jsonb_array_length(vae_model_info(model)->'train_loss') AS epochs, length(vae_plot_training(model)) < 40000 AS small
FROM plot_models WHERE name = 'long';

-- vae_plot_scores: the histogram and the threshold, automatic or by contamination
SELECT svg_shape(vae_plot_scores(model)),
       (SELECT count(*) FROM svg_texts(vae_plot_scores(model)) t
        WHERE t LIKE 'threshold % (automatic: Q3 + 1.5 IQR)') AS auto_cut,
       (SELECT count(*) FROM svg_texts(vae_plot_scores(model, 0.05)) t
        WHERE t LIKE 'threshold % (contamination 0.05)') AS given_cut,
       vae_plot_scores(model, NULL) = vae_plot_scores(model) AS null_is_auto
FROM plot_models WHERE name = 'val';
-- the threshold drawn is vae_threshold's, to the 4 significant digits of its label
SELECT abs(drawn - vae_threshold(model, 0.05)) <= 5e-4 * abs(vae_threshold(model, 0.05)) AS same_threshold
FROM plot_models m,
     LATERAL (SELECT substring(t FROM '^threshold (\S+) ')::float8 AS drawn
              FROM svg_texts(vae_plot_scores(model, 0.05)) t WHERE t LIKE 'threshold %') x
WHERE name = 'val';
SELECT vae_plot_scores(NULL) IS NULL AS null_model;
SELECT vae_plot_scores(model, 1.5) FROM plot_models WHERE name = 'val';

-- the same bytes whatever the session's number and date settings
CREATE TEMP TABLE plot_ref2 AS
SELECT name, vae_plot_training(model) t, vae_plot_scores(model) s FROM plot_models;
SET extra_float_digits = -15;
SET DateStyle = 'SQL, DMY';
DO $$ BEGIN PERFORM set_config('lc_numeric', 'de_DE.UTF-8', false);
EXCEPTION WHEN invalid_parameter_value THEN NULL; END $$;
SELECT bool_and(vae_plot_training(m.model) = r.t AND vae_plot_scores(m.model) = r.s) AS same_bytes
FROM plot_models m JOIN plot_ref2 r USING (name);
RESET extra_float_digits;
RESET DateStyle;
RESET lc_numeric;

-- ---- vae_plot_latent: the latent map ----
-- feature arrays, coloured by score (a colour bar); 2,400 rows: a sample of 2,000, said in the picture
SELECT svg_shape(p),
       (SELECT string_agg(t, ' | ') FROM svg_texts(p) t WHERE t LIKE '%rows%' OR t LIKE 'score%') AS texts,
       (SELECT count(*) FROM regexp_matches(p, '<circle ', 'g')) AS points
FROM (SELECT vae_plot_latent(m.model, d.f) p FROM plot_models m, plot_data d WHERE m.name = 'val') x;
-- fewer rows than the cap: every row drawn
SELECT (SELECT string_agg(t, ' | ') FROM svg_texts(p) t WHERE t LIKE '%rows%') AS texts,
       (SELECT count(*) FROM regexp_matches(p, '<circle ', 'g')) AS points
FROM (SELECT vae_plot_latent(m.model, d.f) p FROM plot_models m, plot_data d
      WHERE m.name = 'val' AND d.i <= 300) x;
-- a wider latent: its first two principal axes
SELECT (SELECT count(*) FROM svg_texts(p) t WHERE t LIKE 'principal axis 1 (%% of the latent variance)') AS pc1,
       (SELECT count(*) FROM svg_texts(p) t WHERE t LIKE 'principal axis 2 (%%)') AS pc2
FROM (SELECT vae_plot_latent(m.model, d.f) p FROM plot_models m, plot_data d WHERE m.name = 'wide') x;
-- rows of a table, coloured by a label; a hostile label is escaped
SELECT svg_shape(p),
       (SELECT string_agg(t, ' | ') FROM svg_texts(p) t WHERE t ~ ' \([0-9,]+\)$') AS legend,
       strpos(p, '<&">') = 0 AS no_raw_markup
FROM (SELECT vae_plot_latent(m.model, ROW(port, bytes, host),
                             CASE WHEN i % 200 = 0 THEN '<&">' ELSE host END) p
      FROM plot_models m, plot_data d WHERE m.name = 'rows') x;
-- many labels: nine colours and "others"
SELECT (SELECT string_agg(t, ' | ') FROM svg_texts(p) t WHERE t LIKE '%others%') AS others
FROM (SELECT vae_plot_latent(m.model, d.f, (d.i % 25)::text) p
      FROM plot_models m, plot_data d WHERE m.name = 'val') x;
-- the picture does not depend on the scan order
SELECT (SELECT vae_plot_latent(m.model, d.f, d.i::text)
        FROM plot_models m, (SELECT * FROM plot_data ORDER BY i) d WHERE m.name = 'wide')
     = (SELECT vae_plot_latent(m.model, d.f, d.i::text)
        FROM plot_models m, (SELECT * FROM plot_data ORDER BY md5(i::text)) d WHERE m.name = 'wide')
       AS same_bytes;
-- one map per model with GROUP BY; NULL models and rows are skipped
SELECT m.name, svg_shape(vae_plot_latent(m.model, d.f))
FROM plot_models m, plot_data d WHERE m.name IN ('val', 'wide') AND d.i <= 50 GROUP BY m.name ORDER BY 1;
SELECT (SELECT string_agg(t, ' | ') FROM svg_texts(vae_plot_latent(CASE WHEN i > 10 THEN NULL ELSE m.model END,
                                                                 CASE WHEN i = 1 THEN NULL ELSE d.f END)) t
        WHERE t LIKE '%rows%')
FROM plot_models m, plot_data d WHERE m.name = 'val' AND d.i <= 50;
-- no rows: a picture that says so
SELECT svg_shape(p), (SELECT string_agg(t, ' | ') FROM svg_texts(p) t)
FROM (SELECT vae_plot_latent(m.model, d.f) p FROM plot_models m, plot_data d WHERE false) x;
-- errors: two models in one map, the wrong kind of input, a bad row
SELECT vae_plot_latent(m.model, d.f) FROM plot_models m, plot_data d
WHERE m.name IN ('val', 'wide') AND d.i <= 5;
SELECT vae_plot_latent(m.model, ROW(port, bytes, host)) FROM plot_models m, plot_data d
WHERE m.name = 'val' AND d.i <= 5;
SELECT vae_plot_latent(m.model, d.f) FROM plot_models m, plot_data d
WHERE m.name = 'rows' AND d.i <= 5;
SELECT vae_plot_latent(m.model, ARRAY[1, 2]) FROM plot_models m WHERE m.name = 'val';
