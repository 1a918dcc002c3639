#!/usr/bin/env bash
# What `make test-package` runs (and `make test TEST_PACKAGE=1` as its last
# suite): the Debian package, end to end, as a user gets it.
#
#   1. build it (scripts/build-deb.sh: dpkg-buildpackage in build/deb/);
#   2. check it ships vae.so, vae.control, every vae--*.sql, vae_gpud in the
#      server's bindir and the docs;
#   3. install it with `apt-get install ./build/deb/postgresql-15-vae_*.deb`
#      (system-wide; as root, or through sudo);
#   4. run the pg_regress suite (sql/, expected/) and the upgrade and fixture
#      tests against the packaged files in throwaway clusters (the package
#      is built without -march=native, so the fixture is compared to its
#      tolerance rather than bit for bit);
#   5. remove the package, and put back a source install (`make install`)
#      that was there before, so that the system is left as it was.
#
# Prints TAP-like lines; the last one is "# N passed, N failed, N skipped".
# Takes a few minutes (most of it the package build).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/test/integration/lib/tap.sh"
cd "$root"
MAKE="${MAKE:-make} --no-print-directory"
# the packaged files, not a private install
unset VAE_PGROOT VAE_PRIVATE_INSTALL
mkdir -p build
pkg=postgresql-15-vae
pgc=/usr/lib/postgresql/15/bin/pg_config
apt_opts=(-y -q -o DPkg::Lock::Timeout=300)

# ---- 1. build ------------------------------------------------------------
t0=$(date +%s)
scripts/build-deb.sh >build/package-build.log 2>&1
rc=$?
deb=$(tail -n 1 build/package-build.log)
if [ $rc -eq 0 ] && [ -f "$deb" ]; then
	ok "make deb builds $deb ($(($(date +%s) - t0)) s)"
else
	tail -n 40 build/package-build.log | sed 's/^/#   /'
	not_ok "make deb builds the package (build/package-build.log)"
	finish
fi

# ---- 2. contents ---------------------------------------------------------
dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|' >build/package-files.txt
has() { grep -qxE "$1" build/package-files.txt; }
check "ships vae.so in $($pgc --pkglibdir)" has "$($pgc --pkglibdir)/vae\.so"
sqls_ok=0
for f in vae.control vae--*.sql; do
	has "$($pgc --sharedir)/extension/${f//./\\.}" || sqls_ok=1
done
check "ships vae.control and every vae--*.sql ($(ls vae--*.sql | tr '\n' ' '))" [ $sqls_ok -eq 0 ]
check "ships vae_gpud in the server's bindir ($($pgc --bindir))" has "$($pgc --bindir)/vae_gpud"
docs_ok=0
for f in README.md CHANGELOG.md docs/*.md; do
	has "/usr/share/doc/$pkg/$(basename "${f//./\\.}")(\.gz)?" || docs_ok=1
done
check "ships README.md, CHANGELOG.md and docs/*.md in /usr/share/doc/$pkg" [ $docs_ok -eq 0 ]
depends=$(dpkg-deb -f "$deb" Depends)
check "depends on postgresql-15 and a BLAS ($depends)" \
	eval '[[ "$depends" == *postgresql-15* && "$depends" == *blas* ]]'

# ---- 3. install ----------------------------------------------------------
# a source install (make install) that the package will replace, to restore
had_source_install=0
ctl=$($pgc --sharedir)/extension/vae.control
if [ -f "$ctl" ] && ! dpkg -S "$ctl" >/dev/null 2>&1; then
	had_source_install=1
fi
if as_root env DEBIAN_FRONTEND=noninteractive apt-get install "${apt_opts[@]}" \
	"./$deb" >build/package-install.log 2>&1; then
	ok "apt-get install ./$deb"
else
	tail -n 20 build/package-install.log | sed 's/^/#   /'
	not_ok "apt-get install ./$deb"
	finish
fi
quiet() { "$@" >/dev/null 2>&1; }
check "dpkg says $pkg owns vae.so" quiet dpkg -S "$($pgc --pkglibdir)/vae.so"
check "the packaged vae_gpud runs: $($($pgc --bindir)/vae_gpud --version 2>&1 | head -n 1)" \
	quiet "$($pgc --bindir)/vae_gpud" --version

# ---- 4. the suites against the packaged files ------------------------------
shopt -s nullglob
sqls=(sql/*.sql)
shopt -u nullglob
rm -rf results/ regression.diffs regression.out
scripts/with-cluster.sh $MAKE installcheck >build/package-regress.log 2>&1
reg_rc=$?
read -r reg_p reg_f <<<"$(regress_counts build/package-regress.log ${#sqls[@]})"
[ "$reg_rc" -ne 0 ] && [ "$reg_f" -eq 0 ] && reg_f=1
grep -E '\.\.\. +(ok|FAILED|failed)' build/package-regress.log | sed -E 's/^ *(test )?/# pg_regress: /'
for ((i = 0; i < reg_p; i++)); do ok "pg_regress against the package: test $((i + 1)) of ${#sqls[@]} passed"; done
for ((i = 0; i < reg_f; i++)); do not_ok "pg_regress against the package: a test failed (regression.diffs)"; done
[ -s regression.diffs ] && head -n 40 regression.diffs | sed 's/^/#   /'

# the portable build is OPTFLAGS= (debian/rules): the fixture's key says so
for t in upgrade fixture; do
	OPTFLAGS= bash test/integration/$t.sh >build/package-$t.log 2>&1
	rc=$?
	if counts=$(suite_counts build/package-$t.log $rc); then
		read -r p f s <<<"$counts"
		[ "$f" -eq 0 ] || grep '^not ok\|^#' build/package-$t.log | sed 's/^/#   /'
		check "test/integration/$t.sh against the package: $p passed, $f failed, $s skipped" [ "$f" -eq 0 ]
	else
		not_ok "test/integration/$t.sh against the package: no summary line (exit status $rc)"
	fi
done

# another `make install` on this machine while the suites ran would have
# tested its files, not the package's
changed=$(dpkg --verify "$pkg" 2>&1)
[ -z "$changed" ] || echo "$changed" | sed 's/^/#   /'
check "the packaged files were not replaced while the suites ran (dpkg --verify)" \
	[ -z "$changed" ]

# ---- 5. remove -------------------------------------------------------------
if as_root env DEBIAN_FRONTEND=noninteractive apt-get remove "${apt_opts[@]}" --purge \
	"$pkg" >build/package-remove.log 2>&1; then
	ok "apt-get remove $pkg"
else
	tail -n 20 build/package-remove.log | sed 's/^/#   /'
	not_ok "apt-get remove $pkg"
fi
check "no packaged file is left behind" eval \
	'! grep -E "/(vae\.so|vae\.control|vae--.*\.sql|vae_gpud)$" build/package-files.txt | xargs -r ls -d 2>/dev/null | grep -q .'
# Reinstall the tree's build system-wide (what `make test` had installed).
reinstall_source() {
	as_root $MAKE install PG_CONFIG="$pgc" >build/package-reinstall.log 2>&1
}
if [ $had_source_install -eq 1 ]; then
	check "the source install (make install) that was there before is back" reinstall_source
fi

finish
