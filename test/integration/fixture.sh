#!/usr/bin/env bash
# fixture.sh - the current build against the model fixture of
# test/fixtures/ (made by test/fixtures/make-fixture.sh from an earlier
# build): it must read those models and compute every value scores.sql
# prints exactly as recorded in model_v1.expected, and models trained now
# with the same options and rows must compute what retrained.expected
# records (the stored models' values, unless a change of the training
# arithmetic was meant and recorded there).  This catches a change of the
# model format or of the arithmetic between releases.
#
# Exact bits depend on the CPU and the BLAS build (model_v1.env): on a
# machine unlike the fixture's, the stored models are compared to a
# relative 1e-4 instead (said in the output) and the retraining check is
# skipped, since training amplifies last-bit differences.
#
# Prints TAP-like lines; the last one is "# N passed, N failed, N skipped".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/lib/tap.sh"
. "$root/test/fixtures/env.sh"
cd "$root"
fx=test/fixtures

it_cluster_start
ok "throwaway cluster started"

# values_match EXPECTED ACTUAL TOL: the same lines, where TOL > 0 lets every
# number in the value field differ by TOL * (1 + |expected|)
values_match() {
	[ "$3" = 0 ] && { cmp -s "$1" "$2"; return; }
	awk -F'|' -v tol="$3" '
		function num(s) { return s ~ /^-?[0-9.]+(e[-+]?[0-9]+)?$/ }
		NR == FNR { want[FNR] = $0; nwant = FNR; next }
		{
			if (FNR > nwant) exit 1
			split(want[FNR], w, "|")
			for (k = 1; k <= 4; k++) if (w[k] != $k) exit 1
			nw = split(w[5], a, /[{} ,]+/); nv = split($5, b, /[{} ,]+/)
			if (nw != nv) exit 1
			for (k = 1; k <= nw; k++) {
				if (num(a[k]) && num(b[k])) {
					d = a[k] - b[k]; if (d < 0) d = -d
					m = a[k] < 0 ? -a[k] : a[k]
					if (d > tol * (1 + m)) exit 1
				} else if (a[k] != b[k]) exit 1
			}
			nseen = FNR
		}
		END { exit !(nseen == nwant) }' "$1" "$2"
}

same_env=0
if fixture_env | cmp -s - $fx/model_v1.env; then
	same_env=1
	tol=0
	echo "# this machine and build are the fixture's: comparing bit for bit"
else
	tol=1e-4
	echo "# fixture made on: $(tr '\n' ';' <$fx/model_v1.env)"
	echo "# this machine:    $(fixture_env | tr '\n' ';')"
	echo "# different CPU or BLAS: stored models compared to a relative $tol"
fi

psql_c -c "CREATE EXTENSION vae" -f $fx/data.sql -f $fx/model_v1.sql &&
	ok "the fixture's models load" || { not_ok "the fixture's models load"; finish; }
psql_c -c "SELECT name FROM fx_models WHERE NOT (vae_model_info(model) ? 'format_version')" \
	>"$it_work/bad" && [ ! -s "$it_work/bad" ]
check "the current build reads every fixture model" [ $? -eq 0 ]

psql_c -f $fx/scores.sql >"$it_work/stored.out" 2>&1
if values_match $fx/model_v1.expected "$it_work/stored.out" "$tol"; then
	ok "stored models: all $(wc -l <$fx/model_v1.expected) values as recorded (scores of 3 methods, thresholds, encode, reconstruct, explain, generate, info)"
else
	not_ok "stored models: values as recorded"
	diff $fx/model_v1.expected "$it_work/stored.out" | head -n 20 | sed 's/^/#   /'
fi

# the same models trained now, by the current build: single networks, as
# the fixture's are (its options predate the option "ensemble", whose
# default for tables this small is three networks)
if [ $same_env -eq 1 ]; then
	psql_c -c "TRUNCATE fx_models" -f $fx/models.sql \
		-c "UPDATE fx_models m SET model = (SELECT vae_train(d.f, m.options || '{\"ensemble\": 1}') FROM fx_data d)" \
		-f $fx/scores.sql >"$it_work/retrained.out" 2>&1
	if values_match $fx/retrained.expected "$it_work/retrained.out" 0; then
		ok "models retrained now compute the recorded values bit for bit"
	else
		not_ok "models retrained now compute the recorded values bit for bit"
		diff $fx/retrained.expected "$it_work/retrained.out" | head -n 20 | sed 's/^/#   /'
	fi
else
	skip "models retrained now compute the recorded values" "not the fixture's CPU/BLAS"
fi

finish
