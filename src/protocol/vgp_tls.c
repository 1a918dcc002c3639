/*
 * vgp_tls.c - OpenSSL contexts and sessions for the GPU worker's TCP path
 * (the contract is in vgp_tls.h).
 *
 * Linked into vae.so as well as the daemon: no globals, nothing that prints
 * or exits; every failure comes back as NULL and a message.  The callers
 * empty the thread's OpenSSL error queue before each call (ERR_clear_error),
 * and vgp_tls_describe() empties it after a failure, so an error of ours
 * never reaches another user of OpenSSL in the same thread (in a backend:
 * the client connection's own TLS).
 */
#include "vgp_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "vc.h"

/* loopback: 127.0.0.0/8, ::1, or an IPv4-mapped 127.x address */
int
vgp_addr_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
	{
		const struct sockaddr_in *in = (const struct sockaddr_in *) sa;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6)
	{
		const struct in6_addr *a = &((const struct sockaddr_in6 *) sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
			(IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return 0;
}

/* "<what>: <reason of the oldest queued OpenSSL error>", then empty the queue */
static void
QueuedError(const char *what, char *errmsg)
{
	unsigned long e = ERR_get_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;

	snprintf(errmsg, VC_ERRMSG_LEN, "%.150s: %.100s", what, reason ? reason : "unknown TLS error");
	ERR_clear_error();
}

/*
 * The settings both sides share: TLS 1.2 or later, no renegotiation, no
 * session tickets (one job per connection: nothing to resume), and
 * SSL_write that may write part of a buffer and be retried from a moved
 * pointer, as nonblocking sends are.
 */
static SSL_CTX *
NewContext(const SSL_METHOD *method, char *errmsg)
{
	SSL_CTX    *ctx;

	ERR_clear_error();
	ctx = SSL_CTX_new(method);
	if (ctx == NULL)
	{
		QueuedError("cannot create a TLS context", errmsg);
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
	{
		QueuedError("cannot require TLS 1.2", errmsg);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_COMPRESSION
#ifdef SSL_OP_NO_RENEGOTIATION
						| SSL_OP_NO_RENEGOTIATION
#endif
		);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
					 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return ctx;
}

/* a client context that verifies the server against ca_file */
SSL_CTX *
vgp_tls_client_ctx(const char *ca_file, char *errmsg)
{
	SSL_CTX    *ctx = NewContext(TLS_client_method(), errmsg);

	if (ctx == NULL)
		return NULL;
	if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1)
	{
		char		what[VC_ERRMSG_LEN];

		snprintf(what, sizeof(what), "cannot load the CA file \"%.200s\"", ca_file);
		QueuedError(what, errmsg);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

/* a server context with the certificate chain and key */
SSL_CTX *
vgp_tls_server_ctx(const char *cert_file, const char *key_file, char *errmsg)
{
	SSL_CTX    *ctx = NewContext(TLS_server_method(), errmsg);
	char		what[VC_ERRMSG_LEN];

	if (ctx == NULL)
		return NULL;
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	/* a client cancels by closing its socket: an EOF, not a TLS error */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1)
	{
		snprintf(what, sizeof(what), "cannot load the certificate \"%.200s\"", cert_file);
		QueuedError(what, errmsg);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1)
	{
		snprintf(what, sizeof(what), "cannot load the private key \"%.200s\"", key_file);
		QueuedError(what, errmsg);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_check_private_key(ctx) != 1)
	{
		snprintf(what, sizeof(what), "the key \"%.200s\" does not match the certificate", key_file);
		QueuedError(what, errmsg);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* a client session on fd that must present a certificate for host */
SSL *
vgp_tls_client_new(SSL_CTX *ctx, int fd, const char *host, char *errmsg)
{
	SSL		   *ssl;
	unsigned char ip[sizeof(struct in6_addr)];
	int			is_ip;
	int			ok;

	ERR_clear_error();
	ssl = SSL_new(ctx);
	if (ssl == NULL)
	{
		QueuedError("cannot create a TLS session", errmsg);
		return NULL;
	}
	is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
	if (is_ip)
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1;
	else
		ok = SSL_set_tlsext_host_name(ssl, host) == 1 && SSL_set1_host(ssl, host) == 1;
	if (!ok || SSL_set_fd(ssl, fd) != 1)
	{
		QueuedError("cannot set up the TLS session", errmsg);
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_connect_state(ssl);
	return ssl;
}

/* why the call that returned ret failed, into errmsg; empties the queue */
void
vgp_tls_describe(SSL *ssl, int ret, const char *what, char *errmsg)
{
	int			err = SSL_get_error(ssl, ret);
	long		verify = SSL_get_verify_result(ssl);

	if (verify != X509_V_OK)
		snprintf(errmsg, VC_ERRMSG_LEN, "%s: certificate verify failed: %s", what,
				 X509_verify_cert_error_string(verify));
	else if (err == SSL_ERROR_SSL)
	{
		QueuedError(what, errmsg);
		return;
	}
	else if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && ret == 0))
		snprintf(errmsg, VC_ERRMSG_LEN, "%s: the peer closed the connection", what);
	else if (err == SSL_ERROR_SYSCALL)
		snprintf(errmsg, VC_ERRMSG_LEN, "%s: %s", what, strerror(errno));
	else
		snprintf(errmsg, VC_ERRMSG_LEN, "%s: TLS error %d", what, err);
	ERR_clear_error();
}
