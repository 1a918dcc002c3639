# mk/deb.mk - the Debian package (included by the Makefile).
#
#   make deb           build build/deb/postgresql-15-vae_<version>_<arch>.deb
#                      with dpkg-buildpackage -us -uc -b from a copy of the
#                      tree (scripts/build-deb.sh; debian/ has the rules)
#   make test-package  build it, install it with apt-get, run the pg_regress
#                      suite against the packaged files in a throwaway
#                      cluster, remove it (scripts/test-package.sh)
#
# Both install the build dependencies when missing (visibly; VAE_NO_DEPS=1
# skips that).  The package is built with OPTFLAGS= (no -march=native) so
# that it runs on any machine of its architecture; see debian/rules.

.PHONY: deb test-package

deb:
	scripts/build-deb.sh

test-package:
	scripts/test-package.sh
