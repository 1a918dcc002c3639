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

# ensure_packages: install the Debian packages the benchmark needs, showing
# what is installed, when one of them is missing.
ensure_packages() {
	local missing=() p
	for p in r-cran-mlbench python3-sklearn; do
		[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "tables: installing ${missing[*]} (apt-get, as root)"
	as_root apt-get update
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

if [ -z "${PGHOST:-}" ]; then
	ensure_packages
	if [ "${VAE_PRIVATE_INSTALL:-0}" = 1 ] && [ -z "${VAE_PGROOT:-}" ]; then
		MAKE="${MAKE:-make} --no-print-directory"
		cd "$root"
		$MAKE >/dev/null
		trap remove_private_root EXIT
		install_ext >/dev/null		# sets and exports VAE_PGROOT
		echo "tables: private install root $VAE_PGROOT"
		"$root/scripts/with-cluster.sh" "$here/tables.sh" "$@"
		exit $?
	fi
	exec "$root/scripts/with-cluster.sh" "$here/tables.sh" "$@"
fi

DB=vae_tables
export PGDATABASE=${PGDATABASE:-postgres}
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
ts() { date +%H:%M:%S; }
t_start=$(date +%s)

echo "[$(ts)] fresh database $DB on ${PGHOST}:${PGPORT:-5432}"
"${PSQL[@]}" -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
export PGDATABASE=$DB
if ! "${PSQL[@]}" -c "CREATE EXTENSION vae"; then
	echo "tables: CREATE EXTENSION vae failed - build and install the extension first (make && make install, or VAE_PRIVATE_INSTALL=1)" >&2
	exit 2
fi
echo "vae extension version $("${PSQL[@]}" -At -c "SELECT extversion FROM pg_extension WHERE extname = 'vae'")"

data=$(mktemp -d /tmp/vae-tables-data.XXXXXX)
trap 'rm -rf "$data"' EXIT
echo "[$(ts)] exporting the data sets"
Rscript "$here/datasets/mlbench.R" "$data"
echo "[$(ts)] loading tables and prepared views"
"$here/datasets/load.sh" "$data" soybean vowel ozone bostonhousing2 dna

echo "[$(ts)] running the detectors"
/usr/bin/python3 "$here/tables.py"
echo "[$(ts)] done in $(( $(date +%s) - t_start )) s"
