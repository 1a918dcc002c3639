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
