#!/usr/bin/env bash
# Build and install Citus (the distributed PostgreSQL) when the server lacks it.
#
#   install-citus.sh [--why WHAT]
#
# The scale-out tests (test/integration/citus.sh, ...) need a real Citus
# cluster, and Citus is not a Debian package: this builds v13.2.2 from the
# source tarball CITUS_TARBALL (default ../shared/citus/citus-13.2.2.tar.gz,
# relative to the project root or to the main checkout of a git worktree) and installs it system-wide with
# `make install`.  Citus is not our extension, so a system-wide install is
# fine; private installs (VAE_PRIVATE_INSTALL=1) copy the system pkglibdir and
# therefore see it too.
#
# A no-op when citus.so is already in the server's pkglibdir (so `make test`
# pays the build once per machine: about 2.5 minutes on 2 cores, plus the
# apt-get of the build dependencies on a fresh machine).  Exits 0 with a
# "citus: unavailable" line, without building, when the tarball is absent;
# the tests then skip.  Uses sudo when not root.
#
# Build dependencies (Debian), installed through install-deps.sh so it says
# what it installs and why: libcurl4-openssl-dev, liblz4-dev, libzstd-dev,
# libkrb5-dev (Citus's configure requires them), plus the server headers.
#
# PostgreSQL 15.20 exports have_createdb_privilege(), which Citus 13.2.2's
# src/include/pg_version_compat.h also defines as a static inline function;
# we rename Citus's copy with a #define before that definition (the
# documented one-line fix; harmless on older 15.x).
set -euo pipefail
. "$(dirname "$0")/common.sh"

why="scale-out tests"
if [ "${1:-}" = --why ]; then
	why=$2
	shift 2
fi

CITUS_VERSION=13.2.2
# Default: shared/citus/ next to the project root, or next to the main
# checkout when this is a git worktree.
if [ -z "${CITUS_TARBALL:-}" ]; then
	for d in "$VAE_ROOT/.." "$(git -C "$VAE_ROOT" rev-parse --path-format=absolute --git-common-dir 2>/dev/null)/../.."; do
		CITUS_TARBALL=$d/shared/citus/citus-$CITUS_VERSION.tar.gz
		[ -r "$CITUS_TARBALL" ] && break
	done
fi

pgc=$(find_pg_config)
pkglibdir=$("$pgc" --pkglibdir)
if [ -e "$pkglibdir/citus.so" ]; then
	echo "citus: installed ($pkglibdir/citus.so)"
	exit 0
fi
if [ ! -r "$CITUS_TARBALL" ]; then
	echo "citus: unavailable (no $CITUS_TARBALL); the Citus tests will skip"
	exit 0
fi

"$VAE_ROOT/scripts/install-deps.sh" --why "$why (building Citus $CITUS_VERSION)" \
	build-essential postgresql-server-dev-15 libcurl4-openssl-dev liblz4-dev \
	libzstd-dev libkrb5-dev libssl-dev libreadline-dev libxslt1-dev

echo "citus: building Citus $CITUS_VERSION from $CITUS_TARBALL for $("$pgc" --version)"
echo "citus: (once per machine, about 2.5 minutes on 2 cores)"
work=$(mktemp -d /tmp/vae-citus-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
tar -xzf "$CITUS_TARBALL" -C "$work"
src=$work/citus-$CITUS_VERSION
compat=$src/src/include/pg_version_compat.h
if ! grep -q citus_compat_have_createdb_privilege "$compat"; then
	sed -i '/^static inline bool$/{N;/\nhave_createdb_privilege(void)/s/^/#define have_createdb_privilege citus_compat_have_createdb_privilege\n/}' "$compat"
	grep -q citus_compat_have_createdb_privilege "$compat" || {
		echo "citus: could not apply the have_createdb_privilege fix to $compat" >&2
		exit 1
	}
fi
(
	cd "$src"
	./configure PG_CONFIG="$pgc" >"$work/configure.log" 2>&1 ||
		{ tail -n 30 "$work/configure.log" >&2; exit 1; }
	make -j"$(nproc 2>/dev/null || echo 2)" >"$work/make.log" 2>&1 ||
		{ grep -m 20 -B2 -A2 'error' "$work/make.log" >&2 || tail -n 30 "$work/make.log" >&2; exit 1; }
	as_root make install >"$work/install.log" 2>&1 ||
		{ tail -n 30 "$work/install.log" >&2; exit 1; }
)
echo "citus: installed into $pkglibdir"
