#!/usr/bin/env bash
# Full test pipeline (what `make test` runs after `make deps`):
#   1. build the extension and install it: system-wide (sudo when not root),
#      or with VAE_PRIVATE_INSTALL=1 into a temporary private copy of the
#      server installation (no root, no clash with other installs; see
#      make_private_root in scripts/common.sh);
#   2. build and run the sanitized unit tests (scripts/run-unit.sh);
#   3. run pg_regress (`make installcheck`) in a throwaway cluster
#      (scripts/with-cluster.sh), which is stopped even on failure;
#   4. run the integration tests, test/integration/*.sh (the GPU worker,
#      upgrades, the model fixture), then any extra suite scripts given as
#      arguments (scripts/test-package.sh with TEST_PACKAGE=1); each prints
#      "# N passed, N failed[, N skipped]" as its last line, like the unit
#      programs, and starts whatever cluster or daemon it needs;
#   5. print a summary whose LAST line is "N passed, N failed[, N skipped]":
#      every unit assertion (from each program's "# N passed, N failed" line,
#      a crashed/unbuilt program counting as 1 failed) plus every pg_regress
#      test counted as one (a build/install failure counts as 1 failed, and
#      regress tests that could not run count as failed).
# Exits 1 if anything failed.
#
# REGRESS_TIMEOUT (seconds, default 3000) bounds the pg_regress run.
set -uo pipefail
. "$(dirname "$0")/common.sh"
cd "$VAE_ROOT"

MAKE="${MAKE:-make} --no-print-directory"
# Parallel sub-makes, unless an outer `make -jN` already shares its jobserver.
case " ${MAKEFLAGS:-}" in
*jobserver* | *" -j"*) PAR= ;;
*) PAR="-j$(nproc 2>/dev/null || echo 2)" ;;
esac
mkdir -p build

section() { printf '\n==== %s ====\n' "$*"; }
trap remove_private_root EXIT

infra_f=0
infra_notes=()

# ---- 1. build + install --------------------------------------------------
section "build"
build_ok=1
if ! $MAKE $PAR all; then
	build_ok=0
	infra_f=$((infra_f + 1))
	infra_notes+=("extension build failed")
fi
if [ $build_ok -eq 1 ]; then
	section "install"
	if ! install_ext; then
		build_ok=0
		infra_f=$((infra_f + 1))
		infra_notes+=("extension install failed")
	fi
fi

# ---- 2. unit tests -------------------------------------------------------
section "unit tests (ASan+UBSan)"
# -k: a test that fails to compile is reported by run-unit.sh as "not built"
# while the others still run.
$MAKE -k $PAR unit-build || echo "(some unit tests failed to build)"
scripts/run-unit.sh
read -r unit_p unit_f <build/unit/summary || { unit_p=0; unit_f=1; }

# ---- 3. pg_regress -------------------------------------------------------
section "regression tests (pg_regress)"
shopt -s nullglob
sqls=(sql/*.sql)
shopt -u nullglob
n_sql=${#sqls[@]}
reg_p=0
reg_f=0
rm -rf results/ regression.diffs regression.out
if [ $build_ok -eq 0 ]; then
	echo "skipped: extension not built/installed"
	reg_f=$n_sql
elif [ "$n_sql" -eq 0 ]; then
	echo "no sql/*.sql tests"
else
	reg_log=build/regress.log
	scripts/with-cluster.sh timeout -k 30 "${REGRESS_TIMEOUT:-3000}" \
		$MAKE installcheck 2>&1 | tee "$reg_log"
	reg_rc=${PIPESTATUS[0]}
	read -r reg_p reg_f <<<"$(regress_counts "$reg_log" "$n_sql")"
	if [ "$reg_rc" -ne 0 ] && [ "$reg_f" -eq 0 ]; then
		reg_f=1
		infra_notes+=("pg_regress exited with status $reg_rc")
	fi
	if [ -s regression.diffs ]; then
		section "regression.diffs (first 200 lines)"
		head -n 200 regression.diffs
	fi
fi

# ---- 4. integration tests and extra suites -------------------------------
# test/integration/*.sh, then the scripts named on the command line (e.g.
# scripts/test-package.sh for `make test TEST_PACKAGE=1`); all print
# "# N passed, N failed[, N skipped]" last.
section "integration tests"
int_p=0
int_f=0
int_s=0
shopt -s nullglob
for t in test/integration/*.sh "$@"; do
	name=$(basename "$t" .sh)
	log=build/integration-$name.log
	[ "${t#test/integration/}" = "$t" ] && section "$t"
	if [ $build_ok -eq 0 ]; then
		echo "$name: skipped (extension not built)" | tee "$log"
		int_f=$((int_f + 1))
		continue
	fi
	timeout -k 30 "${INTEGRATION_TIMEOUT:-900}" bash "$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	if ! counts=$(suite_counts "$log" "$rc"); then
		echo "$name: no summary line (exit status $rc)"
		int_f=$((int_f + 1))
		continue
	fi
	read -r p f s <<<"$counts"
	int_p=$((int_p + p))
	int_f=$((int_f + f))
	int_s=$((int_s + s))
done
shopt -u nullglob

# ---- 5. summary ----------------------------------------------------------
total_p=$((unit_p + reg_p + int_p))
total_f=$((unit_f + reg_f + int_f + infra_f))
section "summary"
echo "unit tests:        $unit_p passed, $unit_f failed (assertions)"
echo "regression tests:  $reg_p passed, $reg_f failed"
echo "integration tests: $int_p passed, $int_f failed, $int_s skipped"
for n in "${infra_notes[@]}"; do
	echo "problem:           $n"
done
if [ "$int_s" -gt 0 ]; then
	echo "$total_p passed, $total_f failed, $int_s skipped"
else
	echo "$total_p passed, $total_f failed"
fi
[ "$total_f" -eq 0 ]
