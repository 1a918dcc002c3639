#!/usr/bin/env bash
# What `make demo` runs after `make deps`: build, install (system-wide, sudo
# when not root; or VAE_PRIVATE_INSTALL=1 for a private temporary install),
# then run demo/demo.sql in a throwaway cluster (with pg_cron when installed);
# it writes its pictures to build/demo-*.svg.
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$VAE_ROOT"
MAKE="${MAKE:-make} --no-print-directory"

case " ${MAKEFLAGS:-}" in
*jobserver* | *" -j"*) PAR= ;;
*) PAR="-j$(nproc 2>/dev/null || echo 2)" ;;
esac
$MAKE $PAR all
trap remove_private_root EXIT
install_ext
# pg_cron (postgresql-15-cron, from `make deps`) preloaded, so that the
# demo's report runs on a schedule; without it the demo calls the report
mkdir -p build
if [ -f "${VAE_PGROOT:-}$("$(find_pg_config)" --pkglibdir)/pg_cron.so" ]; then
	export VAE_CLUSTER_CONF="shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 16"
fi
scripts/with-cluster.sh psql -X -v ON_ERROR_STOP=1 -f demo/demo.sql
