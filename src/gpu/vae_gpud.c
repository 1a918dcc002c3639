/*
 * vae_gpud.c - the vae GPU worker daemon: command line, start-up checks,
 * backend selection.
 *
 * The daemon is a separate process so that a GPU fault or a driver hang
 * cannot take the database down with it, and so one CUDA context serves
 * every backend.  Start-up refuses anything that would expose training to
 * other users: a Unix socket directory that others can open, a TCP listener
 * without a secret, a secret or key file others can read, and plain TCP
 * (rows and models in the clear) on anything but a loopback address, and
 * there only with --insecure-loopback.
 */
#include "vgp_daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#ifdef VGP_HAVE_CUDA
#include "vgp_cuda.h"
#endif

#define DEFAULT_MAX_REQUEST (UINT64_C(2) << 30)
/*
 * The whole request, from connect to its last byte: an hour carries a
 * DEFAULT_MAX_REQUEST upload at 0.6 MB/s (about 5 Mbit/s) on average, so a
 * slow link still fits, while a client that trickles its bytes cannot hold
 * a connection and a queue place for longer than that.
 */
#define DEFAULT_REQUEST_TIMEOUT 3600
#define MAX_SECRET_LEN 4096

/* the --help text */
static void
Usage(FILE *f)
{
	fprintf(f,
			"vae_gpud - training worker for the vae PostgreSQL extension\n"
			"\n"
			"Usage: vae_gpud --socket PATH [options]\n"
			"       vae_gpud --listen HOST:PORT --secret-file FILE --tls-cert FILE --tls-key FILE [options]\n"
			"       vae_gpud --listen 127.0.0.1:PORT --secret-file FILE --insecure-loopback [options]\n"
			"\n"
			"  --socket PATH            serve on a Unix socket; its directory must be\n"
			"                           owned by this user and closed to others (0700);\n"
			"                           it is created 0700 when missing\n"
			"  --listen HOST:PORT       serve on TCP too (needs a secret, and TLS or\n"
			"                           --insecure-loopback; port 0 = any)\n"
			"  --secret-file FILE       the TCP shared secret (file must be mode 0600 or\n"
			"                           stricter); or set VAE_GPUD_SECRET\n"
			"  --tls-cert FILE          TLS (1.2 or later) on TCP: the certificate chain (PEM)\n"
			"  --tls-key FILE           ... and its private key (PEM, mode 0600 or stricter)\n"
			"  --insecure-loopback      plain TCP without TLS, allowed on a loopback\n"
			"                           address (127.0.0.0/8, ::1) only\n"
			"  --backend cpu|cuda|auto  where to train (default auto: cuda if built in\n"
			"                           and a device is present, else cpu)\n"
			"  --device N               CUDA device ordinal (default 0)\n"
			"  --max-request-bytes N    largest TRAIN request (default 2147483648)\n"
			"  --max-queue N            jobs that may wait behind the running one (default 4)\n"
			"  --max-queued-bytes N     row bytes that may wait in total (default: no limit)\n"
			"  --max-connections N      open connections (default 64)\n"
			"  --idle-timeout S         seconds a client may stay silent before its\n"
			"                           request is complete (default 30)\n"
			"  --request-timeout S      seconds a client has from connecting to the end\n"
			"                           of its request (default 3600); not the job's time\n"
			"  --log-file FILE          log here instead of stderr\n"
			"  --help, --version\n"
#ifdef VGP_HAVE_CUDA
			"\nThis build includes the CUDA backend.\n"
#else
			"\nThis build has no CUDA backend (nvcc was not found when it was built).\n"
#endif
		);
}

/* print "vae_gpud: <fmt with arg>" to stderr and exit 1 (start-up refusals) */
static void
Die(const char *fmt, const char *arg)
{
	fprintf(stderr, "vae_gpud: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(1);
}

/* an option that takes a value: where the value goes (one of three) */
typedef struct ValueOption
{
	const char *name;
	const char **text;			/* a string */
	int		   *number;			/* a number in lo..hi */
	uint64_t   *size;			/* a number in lo..hi */
	uint64_t	lo,
				hi;
} ValueOption;

/* a decimal number in lo..hi, or Die naming the option */
static uint64_t
ParseSize(const char *s, const char *opt, uint64_t lo, uint64_t hi)
{
	char	   *end;
	unsigned long long v;

	errno = 0;
	if (s[0] == '-')
		Die("invalid value for --%s", opt);
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		Die("invalid value for --%s", opt);
	return (uint64_t) v;
}

/* store an option's value where its ValueOption says */
static void
SetOption(const ValueOption *o, const char *value)
{
	if (o->text)
		*o->text = value;
	else if (o->number)
		*o->number = (int) ParseSize(value, o->name, o->lo, o->hi);
	else
		*o->size = ParseSize(value, o->name, o->lo, o->hi);
}

/*
 * The directory's mode is the access control of the Unix socket (a
 * socket's own mode is not honoured everywhere), so refuse one that anyone
 * else could enter.
 */
static void
CheckSocketDir(const char *socket_path)
{
	char		copy[PATH_MAX];
	char	   *dir;
	struct stat st;

	if (strlen(socket_path) >= sizeof(copy))
		Die("socket path too long: %s", socket_path);
	strcpy(copy, socket_path);
	dir = dirname(copy);
	if (lstat(dir, &st) < 0)
	{
		if (errno != ENOENT || mkdir(dir, 0700) < 0 || lstat(dir, &st) < 0)
			Die("cannot create the socket directory \"%s\"", dir);
	}
	if (!S_ISDIR(st.st_mode))
		Die("\"%s\" is not a directory", dir);
	if (st.st_uid != geteuid())
		Die("socket directory \"%s\" is owned by another user", dir);
	if (st.st_mode & 077)
	{
		fprintf(stderr, "vae_gpud: socket directory \"%s\" is accessible by other users "
				"(mode %04o); it must be 0700\n", dir, (unsigned) (st.st_mode & 07777));
		exit(1);
	}
}

/* remove a socket file left by a daemon that died; refuse if one is alive */
static void
RemoveStaleSocket(const char *path)
{
	struct stat st;
	struct sockaddr_un sa;
	int			fd;

	if (lstat(path, &st) < 0)
		return;
	if (!S_ISSOCK(st.st_mode))
		Die("\"%s\" exists and is not a socket", path);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		Die("socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0)
		Die("another vae_gpud is already serving on \"%s\"", path);
	if (fd >= 0)
		close(fd);
	if (unlink(path) < 0)
		Die("cannot remove the stale socket \"%s\"", path);
}

/*
 * The TCP secret: --secret-file (a regular file closed to group and others)
 * or VAE_GPUD_SECRET, without trailing newlines, into cfg.  Nothing when
 * neither is given.
 */
static void
ReadSecret(const char *path, VgpConfig *cfg)
{
	const char *env = getenv("VAE_GPUD_SECRET");
	uint8_t    *buf;
	size_t		n;

	buf = malloc(MAX_SECRET_LEN + 1);
	if (buf == NULL)
		Die("%s", "out of memory");
	if (path)
	{
		struct stat st;
		int			fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t		r;

		if (fd < 0 || fstat(fd, &st) < 0)
			Die("cannot open the secret file \"%s\"", path);
		if (!S_ISREG(st.st_mode))
			Die("secret file \"%s\" is not a regular file", path);
		if (st.st_mode & 077)
			Die("secret file \"%s\" is accessible by other users; chmod 600 it", path);
		n = 0;
		while ((r = read(fd, buf + n, MAX_SECRET_LEN + 1 - n)) > 0)
			n += (size_t) r;
		close(fd);
		if (r < 0)
			Die("cannot read the secret file \"%s\"", path);
		if (n > MAX_SECRET_LEN)
			Die("secret file \"%s\" is too long", path);
	}
	else if (env)
	{
		n = strlen(env);
		if (n > MAX_SECRET_LEN)
			Die("%s", "VAE_GPUD_SECRET is too long");
		memcpy(buf, env, n);
	}
	else
	{
		free(buf);
		return;
	}
	/* a trailing newline from `echo secret > file` is not part of it */
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n == 0)
		Die("%s", "the secret is empty");
	cfg->secret = buf;
	cfg->secret_len = n;
}

/*
 * TLS and plain TCP: a listener needs --tls-cert and --tls-key (the key file
 * closed to group and others) or --insecure-loopback; vgp_serve() checks
 * that a plain listener's address is a loopback one.
 */
static void
SetupTls(const char *cert, const char *key, VgpConfig *cfg)
{
	char		msg[VC_ERRMSG_LEN];
	struct stat st;

	if ((cert == NULL) != (key == NULL))
		Die("%s", "--tls-cert and --tls-key go together");
	if (cert && cfg->listen_addr == NULL)
		Die("%s", "--tls-cert and --tls-key need --listen (TLS is for TCP; the Unix socket does not use it)");
	if (cert && cfg->insecure_loopback)
		Die("%s", "--insecure-loopback serves plain TCP: leave it out with --tls-cert");
	if (cfg->listen_addr && cert == NULL && !cfg->insecure_loopback)
		Die("%s", "--listen without TLS would send rows and models in the clear: give "
			"--tls-cert FILE and --tls-key FILE, or, for a listener on a loopback "
			"address only, --insecure-loopback");
	if (cert == NULL)
		return;
	if (stat(key, &st) == 0 && (st.st_mode & 077))
		Die("TLS key file \"%s\" is accessible by other users; chmod 600 it", key);
	cfg->tls = vgp_tls_server_ctx(cert, key, msg);
	if (cfg->tls == NULL)
		Die("%s", msg);
}

/* pick and prepare the engine; exits with a clear message when it cannot */
static void
SetupBackend(const char *backend, VgpConfig *cfg, VcEngine *engine)
{
	int			want_cuda = strcmp(backend, "cuda") == 0;

	if (!want_cuda && strcmp(backend, "cpu") != 0 && strcmp(backend, "auto") != 0)
		Die("unknown backend \"%s\" (cpu, cuda or auto)", backend);
	if (strcmp(backend, "cpu") != 0)
	{
#ifdef VGP_HAVE_CUDA
		char		msg[VC_ERRMSG_LEN] = "";
		int			n = vgp_cuda_device_count(msg);

		if (n > 0 && cfg->device < n &&
			vgp_engine_cuda_init(engine, cfg->device, msg) == VC_OK)
		{
			cfg->backend = VC_DEVICE_GPU;
			return;
		}
		if (n > 0 && cfg->device >= n)
			snprintf(msg, sizeof(msg), "device %d does not exist (%d found)", cfg->device, n);
		if (want_cuda)
			Die("the CUDA backend cannot be used: %s", msg[0] ? msg : "no device");
		vgp_log("no usable CUDA device (%s); training on the CPU", msg);
#else
		if (want_cuda)
			Die("%s", "this vae_gpud was built without the CUDA backend (nvcc was not "
				"found at build time); use --backend cpu");
#endif
	}
	vc_engine_cpu_init(engine);
	cfg->backend = VC_DEVICE_CPU;
}

/*
 * Parse the command line, refuse unsafe set-ups, pick the backend, then
 * serve until SIGTERM or SIGINT.
 */
int
main(int argc, char **argv)
{
	VgpConfig	cfg;
	VcEngine	engine;
	const char *secret_file = NULL;
	const char *backend = "auto";
	const char *log_file = NULL;
	const char *tls_cert = NULL;
	const char *tls_key = NULL;
	const ValueOption values[] = {
		{"socket", .text = &cfg.socket_path},
		{"listen", .text = &cfg.listen_addr},
		{"secret-file", .text = &secret_file},
		{"backend", .text = &backend},
		{"log-file", .text = &log_file},
		{"tls-cert", .text = &tls_cert},
		{"tls-key", .text = &tls_key},
		{"device", .number = &cfg.device, .lo = 0, .hi = 1024},
		{"max-request-bytes", .size = &cfg.max_request_bytes, .lo = VGP_TRAIN_HEADER_SIZE,
		.hi = INT64_MAX},
		{"max-queue", .number = &cfg.max_queue, .lo = 1, .hi = 100000},
		{"max-queued-bytes", .size = &cfg.max_queued_bytes, .lo = 0, .hi = INT64_MAX},
		{"max-connections", .number = &cfg.max_connections, .lo = 1, .hi = 100000},
		{"idle-timeout", .number = &cfg.idle_timeout, .lo = 1, .hi = 86400},
		{"request-timeout", .number = &cfg.request_timeout, .lo = 1, .hi = 7 * 86400},
	};
	enum
	{
		N_VALUES = sizeof(values) / sizeof(values[0]),
		VALUE_BASE = 256		/* getopt_long's answer for values[i] */
	};
	struct option longopts[N_VALUES + 4];
	int			ch,
				i,
				rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.max_request_bytes = DEFAULT_MAX_REQUEST;
	cfg.max_queue = 4;
	cfg.idle_timeout = 30;
	cfg.request_timeout = DEFAULT_REQUEST_TIMEOUT;
	cfg.max_connections = 64;
	for (i = 0; i < N_VALUES; i++)
		longopts[i] = (struct option) {values[i].name, required_argument, NULL, VALUE_BASE + i};
	longopts[i++] = (struct option) {"help", no_argument, NULL, 'h'};
	longopts[i++] = (struct option) {"version", no_argument, NULL, 'V'};
	longopts[i++] = (struct option) {"insecure-loopback", no_argument, NULL, 'L'};
	longopts[i] = (struct option) {NULL, 0, NULL, 0};
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1)
	{
		if (ch >= VALUE_BASE && ch < VALUE_BASE + N_VALUES)
		{
			SetOption(&values[ch - VALUE_BASE], optarg);
			continue;
		}
		switch (ch)
		{
			case 'L':
				cfg.insecure_loopback = 1;
				break;
			case 'h':
				Usage(stdout);
				return 0;
			case 'V':
				printf("vae_gpud %s (protocol %d, %s)\n", VGP_GPUD_VERSION, VGP_VERSION,
#ifdef VGP_HAVE_CUDA
					   "cuda backend"
#else
					   "no cuda backend"
#endif
					);
				return 0;
			default:
				Usage(stderr);
				return 2;
		}
	}
	if (optind < argc)
		Die("unexpected argument \"%s\" (see --help)", argv[optind]);
	if (cfg.socket_path == NULL && cfg.listen_addr == NULL)
		Die("%s", "nothing to serve on: give --socket PATH and/or --listen HOST:PORT");
	if (log_file && vgp_log_open(log_file) < 0)
		Die("cannot open the log file \"%s\"", log_file);
	if (cfg.listen_addr)
	{
		ReadSecret(secret_file, &cfg);
		if (cfg.secret == NULL)
			Die("%s", "--listen needs a shared secret: --secret-file FILE or VAE_GPUD_SECRET");
	}
	else if (secret_file)
		ReadSecret(secret_file, &cfg);	/* still checked, though unused */
	SetupTls(tls_cert, tls_key, &cfg);
	if (cfg.socket_path)
	{
		CheckSocketDir(cfg.socket_path);
		RemoveStaleSocket(cfg.socket_path);
	}
	SetupBackend(backend, &cfg, &engine);
	rc = vgp_serve(&cfg, &engine);
#ifdef VGP_HAVE_CUDA
	if (cfg.backend == VC_DEVICE_GPU)
		vgp_engine_cuda_destroy(&engine);	/* the context and cuBLAS handle */
#endif
	if (cfg.secret)
	{
		memset(cfg.secret, 0, cfg.secret_len);
		free(cfg.secret);
	}
	SSL_CTX_free(cfg.tls);
	return rc;
}
