#!/usr/bin/env bash
# bench/detect.sh - anomaly detection benchmark of the vae extension on ten
# public tabular data sets, against the sklearn detectors and a reference
# PyTorch VAE.  See docs/detect.md for the data sets, protocol and results.
#
#   bench/detect.sh                     full run (5 split seeds; about 13 min on 2 cores)
#   QUICK=1 bench/detect.sh             smoke run: 1 split seed, tiny grid
#   OUT_JSON=detect.json bench/detect.sh    also write a JSON summary
#   SETS="glass wine" bench/detect.sh   a subset (names in bench/detect_lib.py)
#   VAE_PRIVATE_INSTALL=1 bench/detect.sh   build and install the extension
#                                       into a private /tmp root first (no
#                                       root needed, system install untouched)
# Further knobs (SPLIT_SEEDS, MODEL_SEEDS, TORCH=0, TORCH_EPOCHS,
# TORCH_LATENTS, VAE_RULE, ENSEMBLE, ENSEMBLE_COMBINE, BASELINE_CACHE): see
# bench/detect.py.
#
# Repeated experiments (a few minutes each instead of the full run): keep
# one private install root and one cluster, and reuse the loaded tables:
#   MAKE=make VAE_PRIVATE_INSTALL=1; . scripts/common.sh; install_ext  # exports VAE_PGROOT
#   scripts/pgcluster.sh start /tmp/mypg; . /tmp/mypg/env               # exports PGHOST...
#   REUSE_DB=1 TORCH=0 VAE_RULE=steps5k bench/detect.sh
# REUSE_DB=1 (with PGHOST set) keeps the database vae_detect when it already
# holds the loaded tables, skipping the export and load; its vae extension
# is dropped and re-created, so a rebuilt install is picked up.
# DETECT_DB=name works in another database than vae_detect (runs in
# parallel on one cluster need one each).
#
# Needs R's mlbench, scikit-learn and PyTorch (Debian r-cran-mlbench,
# python3-sklearn, python3-torch): installed with apt-get when missing
# (as root, or through sudo).  Without VAE_PRIVATE_INSTALL it builds and
# installs nothing: run `make install` first.  When PGHOST is not set it
# re-executes itself through scripts/with-cluster.sh (a fresh cluster,
# removed afterwards); when PGHOST is set it works in a database of its own,
# vae_detect, which it drops and re-creates, and leaves behind.
#
# Steps: export the data sets to CSV (bench/datasets/mlbench.R,
# bench/datasets/sklearn_sets.py), load them as typed tables with prepared
# array views (bench/datasets/load.sh), then run bench/detect.py.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$root/scripts/common.sh"

. "$here/lib.sh"

if [ -z "${PGHOST:-}" ]; then
	bench_ensure_packages detect r-cran-mlbench python3-sklearn python3-torch
fi
bench_enter_cluster detect "$here/detect.sh" "$@"

DB=${DETECT_DB:-vae_detect}
export PGDATABASE=${PGDATABASE:-postgres}
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
ts() { date +%H:%M:%S; }
t_start=$(date +%s)

reuse=0
if [ "${REUSE_DB:-0}" = 1 ] &&
	[ "$("${PSQL[@]}" -At -d "$DB" -c "SELECT to_regclass('breast_cancer_prepared') IS NOT NULL" 2>/dev/null)" = t ]; then
	reuse=1
	echo "[$(ts)] reusing database $DB on ${PGHOST}:${PGPORT:-5432} (REUSE_DB=1)"
	"${PSQL[@]}" -d "$DB" -c "SET client_min_messages = warning" -c "DROP EXTENSION IF EXISTS vae CASCADE" \
		-c "DROP TABLE IF EXISTS detect_model"
	export PGDATABASE=$DB
	bench_create_extension detect
else
	bench_fresh_db detect "$DB"
fi

if [ "$reuse" = 0 ]; then
	data=$(mktemp -d /tmp/vae-detect-data.XXXXXX)
	trap 'rm -rf "$data"' EXIT
	echo "[$(ts)] exporting the data sets"
	Rscript "$here/datasets/mlbench.R" "$data"
	/usr/bin/python3 "$here/datasets/sklearn_sets.py" "$data"
	echo "[$(ts)] loading tables and prepared views"
	"$here/datasets/load.sh" "$data" glass vehicle vowel sonar letter soybean wine digits breast_cancer
fi

echo "[$(ts)] running the detectors"
/usr/bin/python3 "$here/detect.py"
echo "[$(ts)] done in $(( $(date +%s) - t_start )) s"
