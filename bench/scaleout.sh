#!/usr/bin/env bash
# bench/scaleout.sh - training over Citus: rows shipped to the coordinator
# and training time, rows pulled vs states vs sample-merge
# (docs/scale-out.md, README "Scale-out").
#
#   VAE_PRIVATE_INSTALL=1 bench/scaleout.sh          1M rows over 32 shards
#   ROWS=200000 SHARDS=32 K=10000 bench/scaleout.sh  another size
#   OPTIONS='{"epochs": 2}' bench/scaleout.sh         training options (default
#                                                     {"epochs": 2}: the scan and
#                                                     the shipping are what differ)
#
# Starts a throwaway Citus coordinator and 2 workers on loopback
# (test/integration/lib/citus.sh; Citus from scripts/install-citus.sh),
# distributes a table of ROWS rows (id, x, y, cat, flag) over SHARDS shards,
# keeps a local copy on the coordinator, and times, each once:
#
#   local       vae_train(t) over the local copy: the single-node reference
#   pulled      vae_train(t) over a recursively planned subquery (LIMIT): Citus
#               ships every row to the coordinator, as it did for every
#               vae_train before the aggregate state could travel
#   states      vae_train(vae_row(t)): worker partial aggregates, each shard's
#               state (all its rows, encoded) combined on the coordinator
#   sample      vae_train(vae_row(t)) with max_rows = K: each shard ships its
#               K-row sample; the coordinator trains on the K-row sample of all
#   local K     vae_train(t) with max_rows = K over the local copy
#
# Rows shipped: pulled = ROWS (bytes: Citus's EXPLAIN ANALYZE); for the states, the rows in the states the
# combine receives (its DEBUG1 lines) and their text size (what Citus sends,
# measured per shard with run_command_on_shards).  Times are wall clock of
# the whole statement on this machine; ratios are against "local".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$root/test/integration/lib/tap.sh"
. "$root/test/integration/lib/citus.sh"
cd "$root"

ROWS=${ROWS:-1000000}
SHARDS=${SHARDS:-32}
K=${K:-10000}
OPTIONS=${OPTIONS:-'{"epochs": 2}'}
opts_k=$(/usr/bin/python3 -c 'import json,sys; o=json.loads(sys.argv[1]); o["max_rows"]=int(sys.argv[2]); print(json.dumps(o))' "$OPTIONS" "$K")

citus_available || { echo "scaleout: Citus is not installed (scripts/install-citus.sh)" >&2; exit 2; }
make --no-print-directory >/dev/null || exit 2
CITUS_CONF="client_min_messages = warning" citus_start 2
echo "scaleout: Citus coordinator + 2 workers; $ROWS rows over $SHARDS shards; options $OPTIONS, K = $K"

psql_coord >/dev/null <<SQL || exit 2
SET citus.shard_count = $SHARDS;
CREATE TABLE t (id bigint, x double precision, y int, cat text, flag boolean);
SELECT create_distributed_table('t', 'id');
INSERT INTO t
SELECT g, (g % 97) * 0.25 + (g % 7), g % 13,
	CASE WHEN g % 17 = 0 THEN NULL ELSE 'c' || (g * 7 % (3 + g % 5)) END, g % 3 = 0
FROM generate_series(1, $ROWS) g;
CREATE TABLE t_local AS SELECT * FROM t;
VACUUM ANALYZE t_local;
SQL

# seconds SQL: wall-clock seconds of one statement on the coordinator
seconds() {
	local s e
	s=$(date +%s.%N)
	psql_coord -c "$1" >/dev/null || echo "scaleout: failed: $1" >&2
	e=$(date +%s.%N)
	echo "$s $e" | awk '{ printf "%.2f", $2 - $1 }'
}

# combined OPTS: "states rows" the coordinator's combine receives
combined() {
	psql_coord -c "SET client_min_messages = debug1" \
		-c "SELECT length(vae_train(vae_row(t), '$1')) FROM t" 2>&1 |
		sed -n 's/.*vae_train: combining a state of \([0-9]*\) rows.*/\1/p' |
		awk '{ n++; s += $1 } END { print n + 0, s + 0 }'
}

# state_bytes OPTS: the text size of every shard's partial state, summed
state_bytes() {
	psql_coord -c "SELECT sum(result::bigint) FROM run_command_on_shards('t',
		\$\$SELECT length(vae_sample(vae_row(s), '$1')::text) FROM %s s\$\$)"
}

t_local=$(seconds "SELECT vae_train(t, '$OPTIONS') FROM t_local t")
t_pulled=$(seconds "SELECT vae_train(s, '$OPTIONS') FROM (SELECT * FROM t LIMIT $((ROWS * 2))) s")
t_states=$(seconds "SELECT vae_train(vae_row(t), '$OPTIONS') FROM t")
t_sample=$(seconds "SELECT vae_train(vae_row(t), '$opts_k') FROM t")
t_local_k=$(seconds "SELECT vae_train(t, '$opts_k') FROM t_local t")
read -r n_states rows_states <<<"$(combined "$OPTIONS")"
read -r n_sample rows_sample <<<"$(combined "$opts_k")"
# what the pulled run received: Citus's EXPLAIN ANALYZE of the subquery
bytes_pulled=$(psql_coord -c "EXPLAIN (ANALYZE, COSTS OFF) SELECT vae_train(s, '$opts_k')
	FROM (SELECT * FROM t LIMIT $((ROWS * 2))) s" |
	sed -n 's/.*\(Intermediate Data Size\|Tuple data received from nodes\): *\(.*\)/\2/p' | head -n 1)
bytes_states=$(state_bytes "$OPTIONS")
bytes_sample=$(state_bytes "$opts_k")

printf '\n%-10s %14s %16s %10s %9s\n' run "rows shipped" "bytes shipped" "seconds" "vs local"
row() { printf '%-10s %14s %16s %10s %9s\n' "$1" "$2" "$3" "$4" "$(awk -v a="$4" -v b="$t_local" 'BEGIN { printf "%.2fx", a / b }')"; }
row local 0 0 "$t_local"
row pulled "$ROWS" "${bytes_pulled:--}" "$t_pulled"
row states "$rows_states" "$bytes_states" "$t_states"
row sample "$rows_sample" "$bytes_sample" "$t_sample"
row "local K" 0 0 "$t_local_k"
echo
echo "states: $n_states partial states combined (one per shard); sample: $n_sample states of at most $K rows"
