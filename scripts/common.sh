# Shared helpers for the scripts in this directory (sourced, not executed).

# Repository root (the directory above scripts/).
VAE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Run a command as root: directly when we are root, else through sudo.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "error: need root for: $*  (not root and no sudo)" >&2
		return 1
	fi
}

# Locate pg_config the way the Makefile does: $PG_CONFIG, else pg_config on
# PATH (Debian's wrapper: the newest server-dev installed), else the
# PostgreSQL 15 one.
find_pg_config() {
	if [ -n "${PG_CONFIG:-}" ] && command -v "$PG_CONFIG" >/dev/null 2>&1; then
		command -v "$PG_CONFIG"
	elif command -v pg_config >/dev/null 2>&1; then
		command -v pg_config
	elif [ -x /usr/lib/postgresql/15/bin/pg_config ]; then
		echo /usr/lib/postgresql/15/bin/pg_config
	else
		echo "error: pg_config not found (run 'make deps')" >&2
		return 1
	fi
}

# Server binaries (initdb, pg_ctl, psql, ...) of that installation; inside
# the private root when VAE_PGROOT is set (see make_private_root).
pg_bindir() {
	local pgc d
	pgc=$(find_pg_config) || return 1
	d=$("$pgc" --bindir)
	# The private root's own pg_config (first on PATH under with-cluster.sh)
	# already answers inside the root: prefixing it again gave a path that
	# does not exist, and pgcluster.sh stop then SIGKILLed the postmaster.
	if [ -n "${VAE_PGROOT:-}" ] && [ "${d#"$VAE_PGROOT"/}" != "$d" ]; then
		echo "$d"
	else
		echo "${VAE_PGROOT:-}$d"
	fi
}

# Private install root, for VAE_PRIVATE_INSTALL=1: a fresh /tmp directory
# holding a copy (hard links where allowed) of the server's bin, lib and share
# directories at their usual paths.  PostgreSQL finds its lib and share
# directories relative to its binary, so a server started from there loads
# the extension installed with `make install DESTDIR=ROOT`, without root and
# without touching the system installation (no clash with anyone else's
# install on a shared machine).  Prints the root; the caller removes it.
make_private_root() {
	local pgc root d pkglibdir sharedir
	pgc=$(find_pg_config) || return 1
	pkglibdir=$("$pgc" --pkglibdir)
	sharedir=$("$pgc" --sharedir)
	root=$(mktemp -d /tmp/vae-pgroot.XXXXXX) || return 1
	chmod 755 "$root"
	for d in "$("$pgc" --bindir)" "$pkglibdir" "$sharedir"; do
		[ -e "$root$d" ] && continue
		mkdir -p "$root$(dirname "$d")"
		if ! cp -al "$d" "$root$d" 2>/dev/null; then
			rm -rf "${root:?}$d"
			cp -a "$d" "$root$d" || return 1
		fi
	done
	# Never write through a hard link into the system's copy of our files.
	rm -f "$root$pkglibdir/vae.so" "$root$sharedir/extension/vae.control" \
		"$root$("$pgc" --bindir)/vae_gpud" \
		"$root$sharedir"/extension/vae--*.sql
	echo "$root"
}

# EXIT-trap helper: remove the private root made by install_ext, if any.
remove_private_root() {
	if [ -n "${VAE_PGROOT:-}" ] && [ -d "$VAE_PGROOT" ]; then
		rm -rf "$VAE_PGROOT"
	fi
	return 0
}

# Install the built extension: into a private root (VAE_PRIVATE_INSTALL=1;
# exports VAE_PGROOT, which pgcluster.sh/with-cluster.sh then use), else
# system-wide with `make install` (through sudo when not root).
# Uses $MAKE.  The caller removes $VAE_PGROOT when done.
install_ext() {
	if [ "${VAE_PRIVATE_INSTALL:-0}" = 1 ]; then
		VAE_PGROOT=$(make_private_root) || return 1
		export VAE_PGROOT
		echo "(private install root: $VAE_PGROOT)"
		$MAKE install DESTDIR="$VAE_PGROOT"
	else
		as_root $MAKE install PG_CONFIG="$(find_pg_config)"
	fi
}

# regress_counts LOG N_SQL: print "PASSED FAILED" for a pg_regress run whose
# output is in LOG and that should have run N_SQL tests; a test that did not
# run counts as failed.  pg_regress lines: "test NAME ... ok",
# "     NAME ... FAILED", "... failed (ignored)", with timings after.
regress_counts() {
	local p f
	p=$(grep -cE '\.\.\. +ok( |$)' "$1" || true)
	f=$(grep -cE '\.\.\. +(FAILED|failed)( |$)' "$1" || true)
	[ $(($2 - p - f)) -gt 0 ] && f=$(($2 - p))
	echo "$p $f"
}

# suite_counts LOG RC: print "PASSED FAILED SKIPPED" from the last
# "# N passed, N failed[, N skipped]" line of a test script's output in LOG
# (exit status RC; non-zero with 0 failed counts 1 failed); no such line
# prints nothing and returns 1.
suite_counts() {
	local line p f s
	line=$(grep -E '^# [0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$1" | tail -n 1)
	[ -n "$line" ] || return 1
	read -r p f s <<<"$(echo "$line" | sed -E 's/^# ([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?$/\1 \2 \4/')"
	[ "$2" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	echo "$p $f ${s:-0}"
}
