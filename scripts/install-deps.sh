#!/usr/bin/env bash
# Install whatever is missing of the system packages this project needs.
#
#   install-deps.sh [--why WHAT] [PACKAGE...]
#
# Without PACKAGE arguments, the packages needed to build and test (below).
# A no-op (one dpkg-query) when everything is already installed; otherwise it
# says which packages it is about to install and why (WHAT: the command that
# needs them, e.g. "make test"), then runs `apt-get update` and
# `apt-get install`.  Uses sudo when not root.  `make test` and `make demo`
# call it first; VAE_NO_DEPS=1 (or calling scripts/run-tests.sh directly)
# skips it.
set -euo pipefail
. "$(dirname "$0")/common.sh"

why="make deps"
if [ "${1:-}" = --why ]; then
	why=$2
	shift 2
fi

PACKAGES=("$@")
if [ ${#PACKAGES[@]} -eq 0 ]; then
	PACKAGES=(
		postgresql-15
		postgresql-server-dev-15
		libopenblas-dev
		libssl-dev
		openssl
		build-essential
		python3
		python3-numpy
		# pg_cron: test/integration/reports.sh runs scheduled reports
		# (vae_report_create's schedule) in a real pg_cron; the extension
		# itself does not need it
		postgresql-15-cron
		# rsvg-convert: test/integration/plots.sh renders every vae_plot_*
		# picture with a real SVG renderer (librsvg)
		librsvg2-bin
	)
fi

missing=()
for p in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all present (${PACKAGES[*]})"
	exit 0
fi

echo "deps: '$why' needs these Debian packages, which are not installed:"
echo "deps:     ${missing[*]}"
echo "deps: installing them with apt-get (set VAE_NO_DEPS=1 to skip this step"
echo "deps: and install them yourself)"
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends "${missing[@]}"
