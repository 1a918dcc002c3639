# bench/lib.sh - what the SQL benchmarks over public data sets share
# (sourced by bench/detect.sh and bench/tables.sh, after scripts/common.sh).

# bench_ensure_packages NAME PACKAGE...: install the Debian packages a
# benchmark needs when one is missing, saying which (apt-get, as root).
bench_ensure_packages() {
	local name=$1 missing=() p
	shift
	for p in "$@"; do
		[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "$name: installing ${missing[*]} (apt-get, as root)"
	as_root apt-get update
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

# bench_enter_cluster NAME SCRIPT ARGS...: without PGHOST, run SCRIPT again
# through scripts/with-cluster.sh (a throwaway cluster) and exit with its
# status, first building and installing the extension into a private root
# (removed at exit) when VAE_PRIVATE_INSTALL=1.  With PGHOST set it returns
# and the calling script goes on against that server.
bench_enter_cluster() {
	local name=$1 script=$2
	shift 2
	[ -n "${PGHOST:-}" ] && return 0
	if [ "${VAE_PRIVATE_INSTALL:-0}" = 1 ] && [ -z "${VAE_PGROOT:-}" ]; then
		MAKE="${MAKE:-make} --no-print-directory"
		cd "$VAE_ROOT"
		$MAKE >/dev/null
		trap remove_private_root EXIT
		install_ext >/dev/null		# sets and exports VAE_PGROOT
		echo "$name: private install root $VAE_PGROOT"
		"$VAE_ROOT/scripts/with-cluster.sh" "$script" "$@"
		exit $?
	fi
	exec "$VAE_ROOT/scripts/with-cluster.sh" "$script" "$@"
}

# bench_fresh_db NAME DB: drop and re-create DB, connect to it (PGDATABASE)
# and create the extension; exits 2 when the extension is not installed.
bench_fresh_db() {
	local name=$1 db=$2
	echo "[$(date +%H:%M:%S)] fresh database $db on ${PGHOST}:${PGPORT:-5432}"
	PGDATABASE=postgres psql -X -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
		-c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
	export PGDATABASE=$db
	bench_create_extension "$name"
}

# bench_create_extension NAME: CREATE EXTENSION vae in PGDATABASE, or exit 2
# saying how to install it; prints the version.
bench_create_extension() {
	if ! psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION vae"; then
		echo "$1: CREATE EXTENSION vae failed - build and install the extension first" \
			"(make && make install, or VAE_PRIVATE_INSTALL=1)" >&2
		exit 2
	fi
	echo "vae extension version $(psql -X -At -c "SELECT extversion FROM pg_extension WHERE extname = 'vae'")"
}
