#!/usr/bin/env bash
# bench/tables.sh - accuracy of the vae row path on public data loaded as
# typed tables without hand preparation (text categories, booleans, NULLs),
# against the array path and IsolationForest over the usual prepared
# features.  See docs/tables.md for the data sets, protocol and results.
#
#   bench/tables.sh                     full run (5 split seeds, 5 model seeds)
#   QUICK=1 bench/tables.sh             smoke run: 1 split seed, 2 model seeds
#   OUT_JSON=tables.json bench/tables.sh    also write a JSON summary
#   SETS="ozone dna" bench/tables.sh    a subset (names in bench/tables.py)
#   VAE_PRIVATE_INSTALL=1 bench/tables.sh   build and install the extension
#                                       into a private /tmp root first (no
#                                       root needed, system install untouched)
#
# Needs R's mlbench and scikit-learn (Debian r-cran-mlbench, python3-sklearn):
# installed with apt-get when missing (as root, or through sudo).  Without
# VAE_PRIVATE_INSTALL it builds and installs nothing: run `make install`
# first.  When PGHOST is not set it re-executes itself through
# scripts/with-cluster.sh (a fresh cluster, removed afterwards); when PGHOST
# is set it works in a database of its own, vae_tables, which it drops and
# re-creates, and leaves behind.
#
# Steps: export the data sets to CSV (bench/datasets/mlbench.R), load them
# as typed tables with prepared array views (bench/datasets/load.sh), then
# run bench/tables.py.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$root/scripts/common.sh"

. "$here/lib.sh"

bench_ensure_packages tables r-cran-mlbench python3-sklearn
bench_enter_cluster tables "$here/tables.sh" "$@"

ts() { date +%H:%M:%S; }
t_start=$(date +%s)
bench_fresh_db tables vae_tables

data=$(mktemp -d /tmp/vae-tables-data.XXXXXX)
trap 'rm -rf "$data"' EXIT
echo "[$(ts)] exporting the data sets"
Rscript "$here/datasets/mlbench.R" "$data"
echo "[$(ts)] loading tables and prepared views"
"$here/datasets/load.sh" "$data" soybean vowel ozone bostonhousing2 dna

echo "[$(ts)] running the detectors"
/usr/bin/python3 "$here/tables.py"
echo "[$(ts)] done in $(( $(date +%s) - t_start )) s"
