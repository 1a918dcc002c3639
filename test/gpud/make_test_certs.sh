#!/usr/bin/env bash
# make_test_certs.sh DIR - certificates for the TLS tests of vae_gpud
# (test/integration/gpud.sh, gpu_worker.sh), made with openssl in DIR:
#
#   ca.crt, ca.key        a test CA
#   srv.crt, srv.key      a server certificate signed by it for IP 127.0.0.1
#                         and DNS localhost (the key mode 0600)
#   other.crt, other.key  an unrelated CA, which must not be trusted
#   elsewhere.crt, .key   signed by the test CA for DNS elsewhere.invalid
#                         only: right CA, wrong host (the key mode 0600)
#
# EC P-256 keys, valid for two days.  Prints openssl's chatter; exits
# non-zero when any step fails.
set -euo pipefail
d=$1
mkdir -p "$d"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -days 2 -subj "/CN=vae test CA" -keyout "$d/ca.key" -out "$d/ca.crt"
openssl req -x509 "${ec[@]}" -days 2 -subj "/CN=vae other CA" -keyout "$d/other.key" -out "$d/other.crt"
openssl req "${ec[@]}" -subj "/CN=localhost" -keyout "$d/srv.key" -out "$d/srv.csr"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$d/srv.ext"
openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
	-days 2 -extfile "$d/srv.ext" -out "$d/srv.crt"
openssl req "${ec[@]}" -subj "/CN=elsewhere.invalid" -keyout "$d/elsewhere.key" \
	-out "$d/elsewhere.csr"
printf 'subjectAltName=DNS:elsewhere.invalid\n' >"$d/elsewhere.ext"
openssl x509 -req -in "$d/elsewhere.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
	-days 2 -extfile "$d/elsewhere.ext" -out "$d/elsewhere.crt"
chmod 600 "$d/srv.key" "$d/elsewhere.key"
chmod 644 "$d/ca.crt" "$d/other.crt" "$d/srv.crt" "$d/elsewhere.crt"
