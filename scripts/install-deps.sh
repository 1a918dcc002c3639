#!/usr/bin/env bash
# Install whatever is missing of the system packages this project needs.
# A no-op (one dpkg-query) when everything is already installed; runs
# `apt-get update` only when something has to be installed.  Uses sudo when
# not root.
set -euo pipefail
. "$(dirname "$0")/common.sh"

PACKAGES=(
	postgresql-15
	postgresql-server-dev-15
	libopenblas-dev
	libssl-dev
	openssl
	build-essential
	python3
	python3-numpy
)

missing=()
for p in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all present"
	exit 0
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends "${missing[@]}"
