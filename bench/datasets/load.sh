#!/usr/bin/env bash
# bench/datasets/load.sh - load exported data sets into PostgreSQL as ordinary
# typed tables, plus their prepared array views.
#
#   bench/datasets/load.sh DATADIR NAME...
#
# For each NAME, DATADIR/NAME.cols ("column<TAB>SQL type" lines, written by
# mlbench.R or sklearn_sets.py) gives the table's columns; the table NAME is
# (re)created with those types (id the primary key) and DATADIR/NAME.csv is
# copied in with COPY (FORMAT csv, HEADER): empty fields become NULL.  Then
# detect_prepare (prepare.sql, defined here) creates the view NAME_prepared
# (id, class, features real[]).  Connects with psql's usual environment
# (PGHOST, PGPORT, PGDATABASE, ...).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] || { echo "usage: $0 DATADIR NAME..." >&2; exit 2; }
datadir=$1
shift
PSQL=(psql -X -q -v ON_ERROR_STOP=1)

"${PSQL[@]}" -f "$here/prepare.sql"
for name in "$@"; do
	cols=$datadir/$name.cols
	csv=$datadir/$name.csv
	[ -r "$cols" ] && [ -r "$csv" ] || { echo "load: missing $cols or $csv" >&2; exit 2; }
	# "name<TAB>type" lines -> "name type, ..." (id becomes the primary key)
	ddl=$(awk -F'\t' '{ printf "%s%s %s%s", (NR > 1 ? ", " : ""), $1, $2, ($1 == "id" ? " PRIMARY KEY" : "") }' "$cols")
	nf=$("${PSQL[@]}" -At \
		-c "SET client_min_messages = warning" \
		-c "DROP TABLE IF EXISTS $name CASCADE" \
		-c "CREATE TABLE $name ($ddl)" \
		-c "\\copy $name FROM '$csv' WITH (FORMAT csv, HEADER true)" \
		-c "SELECT detect_prepare('$name')")
	echo "  $name: $("${PSQL[@]}" -At -c "SELECT count(*) FROM $name") rows, $(($(wc -l <"$cols") - 2)) columns, $nf prepared features"
done
