# test/integration/lib/tap.sh (sourced by integration tests): TAP-like
# result lines and a throwaway cluster of their own.
#
# The test sets root (the repository root) before sourcing; it then calls
# it_cluster_start, psql_c ..., check/ok/not_ok/skip, and finish, which
# prints the "# N passed, N failed, N skipped" line scripts/run-tests.sh
# counts.  Run alone, VAE_PRIVATE_INSTALL=1 installs the built extension
# into a private root first (as scripts/run-tests.sh does for the suite).

. "$root/scripts/common.sh"

n=0
n_pass=0
n_fail=0
n_skip=0
ok() { n=$((n + 1)); n_pass=$((n_pass + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); n_fail=$((n_fail + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); n_skip=$((n_skip + 1)); echo "ok $n - $1 # SKIP $2"; }

# check DESC CMD...: ok when CMD succeeds
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# Print the summary line and exit (1 if anything failed).
finish() {
	echo "# $n_pass passed, $n_fail failed, $n_skip skipped"
	[ "$n_fail" -eq 0 ]
	exit $?
}

# Stop the cluster, remove the work directory and the private root if this
# test made it (one inherited from scripts/run-tests.sh serves the next).
it_cleanup() {
	[ -n "${it_work:-}" ] || return 0
	"$root/scripts/pgcluster.sh" stop "$it_work/c" >/dev/null 2>&1 || true
	[ "${it_own_root:-0}" = 1 ] && remove_private_root
	rm -rf "$it_work"
}

# With VAE_PRIVATE_INSTALL=1 and no private root inherited, install the
# built extension into one (it_own_root=1: the test removes it at exit);
# then set bindir, the server's binaries.  Reports and finishes on failure.
it_install() {
	if [ -z "${VAE_PGROOT:-}" ] && [ "${VAE_PRIVATE_INSTALL:-0}" = 1 ]; then
		MAKE="${MAKE:-make} --no-print-directory"
		it_own_root=1
		install_ext >/dev/null || { not_ok "private install"; finish; }
	fi
	bindir=$(pg_bindir) || { not_ok "find the server"; finish; }
}

# Make a work directory (it_work), it_install, and start a throwaway
# cluster in it.  Reports and finishes on failure.
it_cluster_start() {
	it_work=$(mktemp -d /tmp/vae-it.XXXXXX) || { not_ok "make a work directory"; finish; }
	chmod 755 "$it_work"
	trap it_cleanup EXIT
	it_install
	"$root/scripts/pgcluster.sh" start "$it_work/c" >/dev/null ||
		{ not_ok "start a throwaway cluster"; finish; }
}

# psql_c [-d DB] ARGS...: psql against the cluster: no psqlrc, quiet, stop on
# the first error, unaligned output without headers.
psql_c() {
	(. "$it_work/c/env" && "$bindir/psql" -X -q -At -v ON_ERROR_STOP=1 "$@")
}
