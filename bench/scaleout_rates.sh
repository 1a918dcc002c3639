#!/usr/bin/env bash
# bench/scaleout_rates.sh - the per-core rates of scoring (each method),
# sample-merge sampling, training and a coordinator's row intake through
# postgres_fdw on a KDD-like table, and the scale-out model of
# docs/scale-out.md ("Throughput model") evaluated with them for 10^9 rows.
# See bench/scaleout_rates.py for what each rate is.
#
# Usage: bench/scaleout_rates.sh              full run (about 4 minutes on 2 cores)
#        QUICK=1 bench/scaleout_rates.sh      smoke run (20,000 rows, one repetition)
#        WORKER_CORES=N ...                   cores per worker in the model (default 16)
#        OUT_JSON=FILE ...                    also write the rates as JSON
#        VAE_PRIVATE_INSTALL=1 ...            build and install into a private root first
#
# Needs the extension built, postgres_fdw (postgresql-contrib, part of the
# server package) and /usr/bin/python3 with numpy.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../scripts/common.sh"
. "$here/lib.sh"
cd "$VAE_ROOT"

if [ -z "${PGHOST:-}" ]; then
	bench_enter_cluster scaleout_rates.sh "$here/scaleout_rates.sh"
fi
BENCH_TMP=$(mktemp -d /tmp/vae-bench-scaleout.XXXXXX)
export BENCH_TMP
trap 'rm -rf "$BENCH_TMP"' EXIT
start=$SECONDS
/usr/bin/python3 "$here/scaleout_rates.py"
echo "scaleout_rates.sh: total run time $((SECONDS - start)) s"
