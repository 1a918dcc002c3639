/*
 * vgp_tls.h - TLS on the GPU worker's TCP path (OpenSSL's libssl), shared by
 * vae_gpud (server), vae.so (client) and the test client.
 *
 * The certificate authenticates the server: the client verifies the chain
 * against a CA file it is given and the host name or IP address it dialled
 * against the certificate.  The shared-secret HMAC challenge
 * (vgp_protocol.h) still runs inside the TLS session and authenticates the
 * client.  TLS 1.2 is the oldest version either side accepts.
 *
 * Plain TCP is only for loopback addresses (vgp_addr_is_loopback): the
 * daemon refuses to listen on anything else without a certificate, and the
 * backend refuses to dial anything else without a CA file.
 *
 * Both sides drive the sessions over nonblocking sockets: a call that
 * returns SSL_ERROR_WANT_READ / SSL_ERROR_WANT_WRITE is repeated with the
 * same arguments once the socket is readable / writable.
 */
#ifndef VGP_TLS_H
#define VGP_TLS_H

#include <sys/socket.h>

#include <openssl/ssl.h>

/* 1 when sa is a loopback address: 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104 */
int			vgp_addr_is_loopback(const struct sockaddr *sa);

/*
 * A client context: TLS 1.2 or later, the server's certificate verified
 * against ca_file.  NULL with a message in errmsg (VC_ERRMSG_LEN bytes).
 */
SSL_CTX    *vgp_tls_client_ctx(const char *ca_file, char *errmsg);

/*
 * A server context: TLS 1.2 or later, the certificate chain in cert_file and
 * its private key in key_file.  NULL with a message in errmsg.
 */
SSL_CTX    *vgp_tls_server_ctx(const char *cert_file, const char *key_file, char *errmsg);

/*
 * A client session on the connected socket fd, which must present a
 * certificate for host: a DNS name (also sent as SNI) or an IP address
 * literal.  NULL with a message in errmsg.
 */
SSL		   *vgp_tls_client_new(SSL_CTX *ctx, int fd, const char *host, char *errmsg);

/*
 * Why the call on ssl that returned ret failed: "<what>: <reason>", with the
 * certificate verification error when there is one, into errmsg.  Empties
 * the thread's OpenSSL error queue.
 */
void		vgp_tls_describe(SSL *ssl, int ret, const char *what, char *errmsg);

#endif							/* VGP_TLS_H */
