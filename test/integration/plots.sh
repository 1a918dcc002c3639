#!/usr/bin/env bash
# plots.sh - every vae_plot_* picture rendered by a real SVG renderer:
#
#   train an array model (with held-out rows) and a row model in a
#   throwaway cluster, write each picture to a file the way the README
#   shows (psql -At ... > file.svg), render it with rsvg-convert (librsvg,
#   Debian's librsvg2-bin, which scripts/install-deps.sh installs) to PNG,
#   and check from the PNG alone (test/integration/lib/png_stats.py) that it
#   is an 800 x 450 image, not blank (many colours, a share of non-white
#   pixels) and that the marks each picture promises are there in their
#   colours (curves, bars, threshold, colour scale, palette, drift shading).
#
# Prints TAP-like lines; the last one is "# N passed, N failed, N skipped".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/lib/tap.sh"
cd "$root"

if ! command -v rsvg-convert >/dev/null 2>&1; then
	not_ok "rsvg-convert is installed (scripts/install-deps.sh installs librsvg2-bin)"
	finish
fi

it_cluster_start
ok "throwaway cluster started"
psql_c -c "CREATE EXTENSION vae" || { not_ok "CREATE EXTENSION vae"; finish; }

if psql_c <<'SQL'
CREATE TABLE traffic AS
SELECT i AS id,
       ARRAY[sin(i * 0.1), cos(i * 0.1), (i % 7) * 0.5,
             CASE WHEN i % 150 = 0 THEN 20 ELSE sin(i * 0.37) END] AS f,
       (i % 50)::int AS port, 100 + 10 * sin(i * 0.1) + CASE WHEN i % 150 = 0 THEN 80 ELSE 0 END AS bytes,
       (ARRAY['web', 'db', 'cache'])[1 + i % 3] AS host
FROM generate_series(1, 3000) i;
CREATE TABLE models (name text PRIMARY KEY, model bytea);
INSERT INTO models
SELECT 'arrays', vae_train(f, '{"epochs": 40, "seed": 3, "validation_fraction": 0.2}') FROM traffic;
INSERT INTO models
SELECT 'rows', vae_train(ROW(port, bytes, host), '{"epochs": 20, "seed": 3, "latent_dim": 3}') FROM traffic;
CREATE TABLE runs AS
SELECT timestamptz '2026-12-01 00:00+00' + i * interval '10 minutes' AS at,
       (500 + 50 * sin(i * 0.3))::bigint AS n_rows,
       (CASE WHEN i BETWEEN 30 AND 34 THEN 40 ELSE i % 4 END)::bigint AS n_anomalies,
       i BETWEEN 30 AND 34 AS flagged
FROM generate_series(1, 60) i;
SQL
then
	ok "models trained and a run history made"
else
	not_ok "train the models"
	finish
fi

out=$it_work/pictures
mkdir -p "$out"
# picture NAME SQL: write the SVG the query returns to $out/NAME.svg
picture() {
	psql_c -c "$2" >"$out/$1.svg"
}

picture training "SELECT vae_plot_training(model) FROM models WHERE name = 'arrays'"
picture training_rows "SELECT vae_plot_training(model) FROM models WHERE name = 'rows'"
picture scores "SELECT vae_plot_scores(model) FROM models WHERE name = 'arrays'"
picture scores_001 "SELECT vae_plot_scores(model, 0.01) FROM models WHERE name = 'arrays'"
picture latent "SELECT vae_plot_latent(m.model, t.f) FROM models m, traffic t WHERE m.name = 'arrays'"
picture latent_labels "SELECT vae_plot_latent(m.model, ROW(t.port, t.bytes, t.host), t.host) FROM models m, traffic t WHERE m.name = 'rows'"
picture latent_empty "SELECT vae_plot_latent(m.model, t.f) FROM models m, traffic t WHERE false"
picture history "SELECT vae_plot_history('traffic <&>', array_agg(at ORDER BY at), array_agg(n_rows ORDER BY at), array_agg(n_anomalies ORDER BY at), array_agg(flagged ORDER BY at)) FROM runs"

# check_picture NAME MIN_COLOURS MIN_NONWHITE [RRGGBB:MIN_PIXELS ...]: render
# NAME.svg and check the PNG
check_picture() {
	local name=$1 min_colours=$2 min_nonwhite=$3
	shift 3
	local svg=$out/$name.svg png=$out/$name.png stats w h colours nonwhite spec col min got
	if ! head -c 5 "$svg" | grep -q '^<svg '; then
		not_ok "$name: psql wrote an SVG document ($(head -c 40 "$svg"))"
		return
	fi
	if ! rsvg-convert -f png -o "$png" "$svg" 2>"$out/$name.err" || [ ! -s "$png" ]; then
		not_ok "$name: rsvg-convert renders it ($(head -c 200 "$out/$name.err"))"
		return
	fi
	stats=$(/usr/bin/python3 "$here/lib/png_stats.py" "$png" "${@%%:*}") || {
		not_ok "$name: the PNG decodes"
		return
	}
	read -r w h colours nonwhite <<<"$(head -1 <<<"$stats")"
	check "$name: rendered by rsvg-convert to an 800 x 450 PNG (got $w x $h, $(stat -c %s "$svg") bytes of SVG)" \
		[ "$w" = 800 ] && [ "$h" = 450 ]
	check "$name: not blank: $colours colours (>= $min_colours), $nonwhite non-white pixels (>= $min_nonwhite)" \
		[ "$colours" -ge "$min_colours" ] && [ "$nonwhite" -ge "$min_nonwhite" ]
	for spec in "$@"; do
		col=${spec%%:*}
		min=${spec##*:}
		got=$(awk -v c="$col" '$1 == c { print $2 }' <<<"$stats")
		check "$name: #$col drawn ($got pixels, >= $min)" [ "${got:-0}" -ge "$min" ]
	done
}

# the colours each picture promises (src/pg/vae_plot*.c, vae_svg.c)
# (the drift shading is #fdae6b at opacity 0.45 over white: #fedbbc)
check_picture training 100 8000 1f77b4:300 ff7f0e:300  # train and validation curves
check_picture training_rows 50 8000 1f77b4:300
check_picture scores 100 20000 4e79a7:3000 b22222:100  # bars, threshold line
check_picture scores_001 100 20000 4e79a7:3000 b22222:100
check_picture latent 300 10000 440154:20 fde725:100    # both ends of the colour scale
check_picture latent_labels 300 10000 4e79a7:300 f28e2b:300 e15759:300 # three hosts
check_picture latent_empty 10 1000                     # says "no rows"
check_picture history 100 20000 9ecae1:3000 d62728:100 fedbbc:1000 # bars, anomalies, drift

# the title's markup characters are text in the SVG
check "history: the title's <&> is escaped" grep -q '<title>traffic &lt;&amp;&gt;</title>' "$out/history.svg"
if [ -n "${VAE_PLOTS_KEEP:-}" ]; then
	mkdir -p "$VAE_PLOTS_KEEP" && cp "$out"/*.svg "$out"/*.png "$VAE_PLOTS_KEEP"/
fi
finish
