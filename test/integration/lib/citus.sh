# test/integration/lib/citus.sh (sourced after lib/tap.sh): a throwaway Citus
# cluster, one coordinator and N workers on loopback, for the scale-out tests.
#
#   citus_available          true when citus.so is in the server's pkglibdir
#                            (scripts/install-citus.sh installs it; `make
#                            test` runs that first); tests skip otherwise
#   citus_start [N] [EXTS]   it_install, then start a coordinator and N
#                            workers (default 2), each its own cluster under
#                            $it_work (coord, w1, w2, ...) listening on
#                            localhost with shared_preload_libraries=citus;
#                            CREATE EXTENSION citus and then each of EXTS
#                            (default "vae"; e.g. "vae pg_cron") on every
#                            node; register the workers with citus_add_node.
#                            Reports and finishes on failure.  The EXIT trap
#                            stops every node and removes $it_work.
#   psql_coord ARGS...       psql on the coordinator (psql_c's flags)
#   psql_worker I ARGS...    psql on worker I (1-based)
#   citus_env NODE           the env file of NODE (coord, w1, ...), for
#                            `(. "$(citus_env coord)" && psql ...)`
#   citus_port NODE          its TCP port on localhost
#   citus_stop               stop every node now (the trap also does)
#
# Set CITUS_CONF to add postgresql.conf lines to every node.  Telemetry is
# off (nodes have no network beyond loopback).

citus_nodes=()

citus_available() {
	local pgc
	pgc=$(find_pg_config) || return 1
	[ -e "${VAE_PGROOT:-}$("$pgc" --pkglibdir)/citus.so" ]
}

citus_env() { echo "$it_work/$1/env"; }
citus_port() { (. "$it_work/$1/env" && echo "$PGPORT"); }

# psql_node NODE ARGS...: psql on NODE with psql_c's flags
psql_node() {
	local node=$1
	shift
	(. "$it_work/$node/env" && "$bindir/psql" -X -q -At -v ON_ERROR_STOP=1 "$@")
}
psql_coord() { psql_node coord "$@"; }
psql_worker() {
	local i=$1
	shift
	psql_node "w$i" "$@"
}

citus_stop() {
	local node
	for node in "${citus_nodes[@]}"; do
		"$root/scripts/pgcluster.sh" stop "$it_work/$node" >/dev/null 2>&1 || true
	done
	citus_nodes=()
}

citus_cleanup() {
	citus_stop
	it_cleanup
}

citus_start() {
	local nw=${1:-2} exts=${2:-vae} node i e
	it_work=$(mktemp -d /tmp/vae-citus.XXXXXX) || { not_ok "make a work directory"; finish; }
	chmod 755 "$it_work"
	trap citus_cleanup EXIT
	it_install
	local nodes=(coord)
	for ((i = 1; i <= nw; i++)); do nodes+=("w$i"); done
	# Started one after the other: each listens on TCP before the next
	# picks its port, so pgcluster.sh's free-port search sees it.
	for node in "${nodes[@]}"; do
		citus_nodes+=("$node")
		PGCLUSTER_CONF="listen_addresses = 'localhost'
shared_preload_libraries = 'citus'
citus.enable_statistics_collection = off
max_connections = 200
${CITUS_CONF:-}" "$root/scripts/pgcluster.sh" start "$it_work/$node" >/dev/null ||
			{ not_ok "start Citus node $node"; finish; }
		psql_node "$node" -c "CREATE EXTENSION citus" >/dev/null ||
			{ not_ok "CREATE EXTENSION citus on $node"; finish; }
		for e in $exts; do
			psql_node "$node" -c "CREATE EXTENSION $e" >/dev/null ||
				{ not_ok "CREATE EXTENSION $e on $node"; finish; }
		done
	done
	psql_coord -c "SELECT citus_set_coordinator_host('localhost', $(citus_port coord))" >/dev/null ||
		{ not_ok "citus_set_coordinator_host"; finish; }
	for ((i = 1; i <= nw; i++)); do
		psql_coord -c "SELECT citus_add_node('localhost', $(citus_port "w$i"))" >/dev/null ||
			{ not_ok "citus_add_node w$i"; finish; }
	done
}
