#!/usr/bin/env bash
# What `make deb` runs: build the Debian package postgresql-15-vae the way
# apt.postgresql.org builds extensions (debian/, pg_buildext), from a copy of
# the tree in build/deb/vae-VERSION, so that the build's `make clean` never
# touches the working tree.  The .deb files land in build/deb/; the last line
# printed is the path of postgresql-15-vae_VERSION_ARCH.deb.
#
# Installs the build dependencies first when missing (printing what and why;
# VAE_NO_DEPS=1 skips that).  Checks that debian/changelog's version is
# vae.control's default_version, so a release bumps both.
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$VAE_ROOT"

BUILD_DEPS=(debhelper dpkg-dev build-essential postgresql-server-dev-all
	libopenblas-dev libssl-dev)
if [ "${VAE_NO_DEPS:-0}" != 1 ]; then
	scripts/install-deps.sh --why "make deb" "${BUILD_DEPS[@]}"
fi

ext_version=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" vae.control)
deb_version=$(dpkg-parsechangelog -S Version)
if [ "${deb_version%%-*}" != "$ext_version" ]; then
	echo "error: debian/changelog is at $deb_version but vae.control's default_version is $ext_version" >&2
	exit 1
fi

out=build/deb
src=$out/vae-$deb_version
rm -rf "$out"
mkdir -p "$src"
# the tracked and untracked-but-not-ignored files (no build outputs)
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf - | tar -xf - -C "$src"
else
	tar --exclude=./build -cf - . | tar -xf - -C "$src"
fi

(cd "$src" && dpkg-buildpackage -us -uc -b)

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=$out/postgresql-15-vae_${deb_version}_${arch}.deb
[ -f "$deb" ] || { echo "error: $deb was not built" >&2; exit 1; }
echo "built:"
ls -l "$out"/*.deb
echo "$deb"
