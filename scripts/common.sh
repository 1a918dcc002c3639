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

# Locate pg_config: $PG_CONFIG, else the PostgreSQL 15 one, else PATH.
find_pg_config() {
	if [ -n "${PG_CONFIG:-}" ] && command -v "$PG_CONFIG" >/dev/null 2>&1; then
		command -v "$PG_CONFIG"
	elif [ -x /usr/lib/postgresql/15/bin/pg_config ]; then
		echo /usr/lib/postgresql/15/bin/pg_config
	elif command -v pg_config >/dev/null 2>&1; then
		command -v pg_config
	else
		echo "error: pg_config not found (run 'make deps')" >&2
		return 1
	fi
}

# Server binaries (initdb, pg_ctl, psql, ...) of that installation.
pg_bindir() {
	local pgc
	pgc=$(find_pg_config) || return 1
	"$pgc" --bindir
}
