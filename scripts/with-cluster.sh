#!/usr/bin/env bash
# with-cluster.sh CMD [ARG...]
#
# Start a throwaway PostgreSQL cluster in a fresh temp directory, run CMD with
# PGHOST (socket dir), PGPORT, PGUSER=postgres, PGDATABASE=postgres exported
# and the server's bin directory first in PATH, then stop the cluster and
# remove the directory (also on failure or on INT/TERM/HUP).  Exits with
# CMD's exit status.
#
# VAE_KEEP_CLUSTER_LOG=FILE copies the server log to FILE before removal.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

[ $# -ge 1 ] || { echo "usage: $0 CMD [ARG...]" >&2; exit 2; }

bindir=$(pg_bindir) || exit 1
# Under /tmp (not $TMPDIR): short socket path, traversable by `postgres`.
dir=$(mktemp -d /tmp/vae-pg.XXXXXX) || exit 1

cleanup() {
	"$here/pgcluster.sh" stop "$dir" || true
	if [ -n "${VAE_KEEP_CLUSTER_LOG:-}" ] && [ -f "$dir/postgres.log" ]; then
		cp "$dir/postgres.log" "$VAE_KEEP_CLUSTER_LOG" || true
	fi
	rm -rf "$dir"
}
child=
# On a signal: pass it on to CMD, wait for it, then exit (EXIT trap cleans up).
on_signal() {
	[ -n "$child" ] && kill -"$1" "$child" 2>/dev/null && wait "$child"
	exit "$2"
}
trap cleanup EXIT
trap 'on_signal HUP 129' HUP
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM

"$here/pgcluster.sh" start "$dir" >/dev/null || exit 1
. "$dir/env"
export PATH="$bindir:$PATH"
export VAE_CLUSTER_DIR="$dir"

# CMD runs in the background (keeping our stdin) so that a signal sent to this
# script is handled at once instead of after CMD finishes.
"$@" <&0 &
child=$!
wait "$child"
rc=$?
child=
exit $rc
