#!/usr/bin/env bash
# What `make demo` runs after `make deps`: build, install (system-wide, sudo
# when not root; or VAE_PRIVATE_INSTALL=1 for a private temporary install),
# then run demo/demo.sql in a throwaway cluster.
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
scripts/with-cluster.sh psql -X -v ON_ERROR_STOP=1 -f demo/demo.sql
