#!/usr/bin/env bash
# What `make demo` runs after `make deps`: build, install (sudo when not
# root), then run demo/demo.sql in a throwaway cluster.
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$VAE_ROOT"
MAKE=${MAKE:-make}

$MAKE -j"$(nproc 2>/dev/null || echo 2)" all
as_root $MAKE install PG_CONFIG="$(find_pg_config)"
scripts/with-cluster.sh psql -X -v ON_ERROR_STOP=1 -f demo/demo.sql
