#!/usr/bin/env bash
# Throwaway PostgreSQL cluster.
#
#   pgcluster.sh start DIR   initdb DIR/data (if needed) and start it, with its
#                            unix socket in DIR, no TCP, fsync off.  Writes
#                            DIR/env (PGHOST/PGPORT/PGUSER/PGDATABASE exports)
#                            and prints the same lines on stdout, so
#                            `eval "$(pgcluster.sh start DIR)"` works.
#                            VAE_CLUSTER_CONF: more postgresql.conf lines.
#   pgcluster.sh stop DIR    stop it (fast, then immediate, then SIGKILL to
#                            its postmaster).  Does not remove DIR.
#
# PGCLUSTER_CONF (optional): extra postgresql.conf lines appended after the
# defaults above, so they win (e.g. "listen_addresses = 'localhost'" and
# "shared_preload_libraries = 'citus'" for the Citus nodes of
# test/integration/lib/citus.sh, which connect to each other over TCP).
#
# As root the cluster belongs to, and runs as, the `postgres` OS user (DIR is
# chowned to it); otherwise it runs as the current user.  The database
# superuser is always named `postgres` and local connections are trusted.
set -euo pipefail
. "$(dirname "$0")/common.sh"

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$2
BINDIR=$(pg_bindir)

# Run a server command as the cluster's owner, from a directory it can read.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && "$@")
	fi
}

log_tail() {
	[ -f "$dir/postgres.log" ] && tail -n 50 "$dir/postgres.log" >&2 || true
}

start() {
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [ "$(id -u)" -eq 0 ]; then
		if ! id postgres >/dev/null 2>&1; then
			useradd --system --user-group --no-create-home \
				--home-dir /var/lib/postgresql --shell /bin/bash postgres
		fi
		chown postgres: "$dir"
	fi
	chmod 755 "$dir"

	if [ ! -f "$dir/data/PG_VERSION" ]; then
		if ! as_owner "$BINDIR/initdb" -D "$dir/data" -U postgres \
			--auth=trust -E UTF8 --locale=C --no-sync \
			>"$dir/initdb.log" 2>&1; then
			echo "pgcluster: initdb failed:" >&2
			cat "$dir/initdb.log" >&2
			exit 1
		fi
	fi

	# Pick a port: the socket lives in our private directory and TCP is off,
	# so clashes are unlikely anyway; still skip ports someone listens on.
	local port=54320
	if command -v ss >/dev/null 2>&1; then
		while [ -n "$(ss -Htln "sport = :$port" 2>/dev/null)" ] ||
			[ -e "/tmp/.s.PGSQL.$port" ] ||
			[ -e "/var/run/postgresql/.s.PGSQL.$port" ]; do
			port=$((port + 1))
		done
	fi

	cat >>"$dir/data/postgresql.conf" <<CONF

# --- throwaway test cluster (scripts/pgcluster.sh) ---
listen_addresses = ''
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
lc_messages = 'C'
${PGCLUSTER_CONF:-}
CONF
	# extra settings of the caller (e.g. scripts/demo.sh preloads pg_cron)
	if [ -n "${VAE_CLUSTER_CONF:-}" ]; then
		printf '%s\n' "$VAE_CLUSTER_CONF" >>"$dir/data/postgresql.conf"
	fi

	if ! as_owner "$BINDIR/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" \
		-w -t 120 start >"$dir/pg_ctl.log" 2>&1; then
		echo "pgcluster: server failed to start:" >&2
		cat "$dir/pg_ctl.log" >&2
		log_tail
		exit 1
	fi

	cat >"$dir/env" <<ENV
export PGHOST='$dir'
export PGPORT=$port
export PGUSER=postgres
export PGDATABASE=postgres
ENV
	chmod 644 "$dir/env"
	cat "$dir/env"
}

stop() {
	[ -d "$dir/data" ] || return 0
	local pidfile="$dir/data/postmaster.pid"
	[ -f "$pidfile" ] || return 0
	local pid
	pid=$(head -n 1 "$pidfile" 2>/dev/null || true)
	if as_owner "$BINDIR/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop \
		>/dev/null 2>&1; then
		return 0
	fi
	if as_owner "$BINDIR/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop \
		>/dev/null 2>&1; then
		return 0
	fi
	# Last resort: the postmaster we started (its children exit with it).
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		echo "pgcluster: killing postmaster $pid" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
}

case "$cmd" in
start) start ;;
stop) stop ;;
*) usage ;;
esac
