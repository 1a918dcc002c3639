/*
 * vgp_protocol.h - the wire protocol between the vae extension (client) and
 * vae_gpud (server).  Plain C99; no postgres.h, so the daemon, the backend
 * and the unit tests share one implementation (vgp_protocol.c).
 *
 * "vgp" stands for "vae GPU protocol": the prefix of everything defined here
 * (vgp_ functions, Vgp types, VGP_ constants), which the daemon's own code
 * in src/gpu/ shares.  src/protocol/ is the one folder both vae.so and
 * vae_gpud build from; neither side includes the other's files.
 *
 * Every integer is little-endian and fixed-width; floats are IEEE-754
 * binary32/binary64 little-endian.  Nothing is sent as a C struct: each
 * field is encoded and decoded explicitly, and every decoder validates.
 *
 * A message is a frame: a 16-byte header then `length` payload bytes.
 *
 *   u32 magic     VGP_MAGIC
 *   u16 type      VgpMsgType
 *   u16 version   VGP_VERSION
 *   u64 length    payload bytes (at most the receiver's limit)
 *
 * One connection carries one job:
 *
 *   server -> HELLO    u32 flags (VGP_HELLO_AUTH), u8 nonce[32], u32 backend
 *                      (VcDevice the daemon trains on), u64 max_request_bytes
 *   client -> AUTH     u8 mac[32] = HMAC-SHA256(secret, nonce || "vae_gpud v1")
 *                      (only when the HELLO asked for it; the server answers
 *                      ERROR and closes on a wrong mac, OK (empty payload)
 *                      otherwise)
 *   client -> TRAIN    VgpTrainHeader (VGP_TRAIN_HEADER_SIZE bytes), then
 *                      n_rows * dim float32 row-major raw (unnormalized) rows
 *   server -> PROGRESS (zero or more, only when options.verbose)
 *                      u32 epoch, f64 train_loss, f64 val_loss, f64 elapsed
 *   server -> RESULT   u32 device, u64 model_len, model bytes (exactly the
 *                      vc_model_serialize() format), u32 epochs, then epochs
 *                      x (f64 train_loss, f64 val_loss) -- the history
 *          or ERROR    u32 status (VcStatus), u32 msg_len, msg bytes (not
 *                      NUL-terminated, at most VC_ERRMSG_LEN - 1)
 *
 * The client cancels a job by closing the connection; the server notices
 * between minibatches and drops the job.  A server that cannot take the job
 * (queue full, request too large) answers ERROR right after the TRAIN header
 * and closes.
 *
 * The server recomputes every row's hash with the training seed
 * (vc_hash_row), so the rows may arrive in any order: the model depends only
 * on their multiset, the options and the seed, exactly as on the CPU path.
 */
#ifndef VGP_PROTOCOL_H
#define VGP_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "vc.h"

#define VGP_MAGIC			0x50475641u	/* "AVGP" little-endian */
#define VGP_VERSION			1
#define VGP_FRAME_HEADER_SIZE 16
#define VGP_NONCE_LEN		32
#define VGP_MAC_LEN			32
#define VGP_AUTH_CONTEXT	"vae_gpud v1"
#define VGP_HELLO_AUTH		0x1u

/* payload limits of the small messages (the TRAIN limit is configurable) */
#define VGP_MAX_SMALL_PAYLOAD 4096

typedef enum VgpMsgType
{
	VGP_MSG_HELLO = 1,
	VGP_MSG_AUTH = 2,
	VGP_MSG_OK = 3,
	VGP_MSG_TRAIN = 4,
	VGP_MSG_PROGRESS = 5,
	VGP_MSG_RESULT = 6,
	VGP_MSG_ERROR = 7
} VgpMsgType;

typedef struct VgpFrameHeader
{
	uint32_t	magic;
	uint16_t	type;
	uint16_t	version;
	uint64_t	length;
} VgpFrameHeader;

typedef struct VgpHello
{
	uint32_t	flags;
	uint8_t		nonce[VGP_NONCE_LEN];
	uint32_t	backend;		/* VcDevice */
	uint64_t	max_request_bytes;
} VgpHello;

/*
 * TRAIN header: the options exactly as the user gave them (VcOptions with
 * "not given" markers; the server resolves them from n_rows and dim the
 * same way the backend would), then the shape of the rows that follow.
 *
 * Encoded as (offset, type, field), 136 bytes:
 *     0 i32 n_hidden (-1 = choose, else 0..VC_MAX_HIDDEN)
 *     4 i32 hidden[8] (first n_hidden: 1..VC_MAX_WIDTH; the rest are
 *           ignored and decode as 0)
 *    36 i32 latent_dim      40 i32 likelihood   44 i32 activation
 *    48 i32 normalize       52 i32 epochs       56 i32 batch_size
 *    60 f64 learning_rate   68 f64 beta         76 f64 weight_decay
 *    84 u64 seed            92 f64 validation_fraction
 *   100 i32 patience       104 i64 max_rows    112 i32 mc_samples
 *   116 i32 verbose (0/1)  120 i32 device      124 u32 dim
 *   128 u64 n_rows
 * Bytes 0..123 are the options block of the option table (vc_options.h),
 * the same block the model header carries at byte 12.  Each option is
 * "not given" (-1, for doubles too) or within its table
 * range, checked by vc_options_check, as the SQL options and the model
 * reader are.
 */
typedef struct VgpTrainHeader
{
	VcOptions	opt;
	uint32_t	dim;
	uint64_t	n_rows;
} VgpTrainHeader;

/* encoded size of VgpTrainHeader (see vgp_encode_train_header) */
#define VGP_TRAIN_HEADER_SIZE 136
#define VGP_OFF_DIM			124 /* right after the options block */
#define VGP_OFF_N_ROWS		128

/* encoded payload sizes of the fixed-size messages */
#define VGP_HELLO_SIZE		48
#define VGP_AUTH_SIZE		VGP_MAC_LEN
#define VGP_PROGRESS_SIZE	28
#define VGP_ERROR_MAX_SIZE	(8 + VC_ERRMSG_LEN - 1)

typedef struct VgpProgress
{
	uint32_t	epoch;
	double		train_loss;
	double		val_loss;
	double		elapsed;
} VgpProgress;

/* ---- frame header ---- */
void		vgp_encode_frame_header(uint8_t *buf, uint16_t type, uint64_t length);
/*
 * Validates magic, version, a known type and length <= limit (the limit
 * for TRAIN is the caller's max request; for the others
 * VGP_MAX_SMALL_PAYLOAD, except RESULT, whose limit the caller gives).
 * Returns VC_OK or VC_EFORMAT / VC_ELIMIT with a message.
 */
VcStatus	vgp_decode_frame_header(const uint8_t *buf, uint64_t limit,
									VgpFrameHeader *out, char *errmsg);

/* ---- payloads; encoders return the bytes written, decoders validate ---- */
size_t		vgp_encode_hello(uint8_t *buf, const VgpHello *h);
VcStatus	vgp_decode_hello(const uint8_t *buf, size_t len, VgpHello *out, char *errmsg);

size_t		vgp_encode_train_header(uint8_t *buf, const VgpTrainHeader *h);
/*
 * Checks the shape (1 <= dim <= VC_MAX_INPUT_DIM, VC_MIN_ROWS <= n_rows,
 * no overflow of n_rows * dim * 4) and every option against its documented
 * range (vc_options_resolve does the rest on the server).
 */
VcStatus	vgp_decode_train_header(const uint8_t *buf, size_t len,
									VgpTrainHeader *out, char *errmsg);

size_t		vgp_encode_progress(uint8_t *buf, const VgpProgress *p);
VcStatus	vgp_decode_progress(const uint8_t *buf, size_t len, VgpProgress *out,
								char *errmsg);

/* ERROR: encodes at most VC_ERRMSG_LEN - 1 bytes of msg */
size_t		vgp_encode_error(uint8_t *buf, VcStatus status, const char *msg);
/* msg_out has VC_ERRMSG_LEN bytes and comes back NUL-terminated */
VcStatus	vgp_decode_error(const uint8_t *buf, size_t len, VcStatus *status,
							 char *msg_out, char *errmsg);

/*
 * RESULT is large (the model); the encoder writes the fixed prefix
 * (device, model_len) and the suffix (history) separately so the server can
 * send the model bytes without copying them.
 */
#define VGP_RESULT_PREFIX_SIZE 12
void		vgp_encode_result_prefix(uint8_t *buf, uint32_t device, uint64_t model_len);
size_t		vgp_result_history_size(uint32_t epochs);
void		vgp_encode_result_history(uint8_t *buf, uint32_t epochs,
									  const double *train_loss, const double *val_loss);
/*
 * Splits a received RESULT payload: *model points into buf; the history is
 * validated (epochs agrees with the length).
 */
VcStatus	vgp_decode_result(const uint8_t *buf, size_t len, uint32_t *device,
							  const uint8_t **model, uint64_t *model_len,
							  uint32_t *epochs, char *errmsg);
/*
 * The history of a RESULT payload that vgp_decode_result accepted: fills
 * train_loss[epochs] and val_loss[epochs] (either may be NULL).  Rejects a
 * non-finite train loss or a val loss that is infinite (NaN means "no
 * validation set").
 */
VcStatus	vgp_decode_result_history(const uint8_t *buf, size_t len,
									  double *train_loss, double *val_loss,
									  char *errmsg);

/* ---- authentication (OpenSSL's libcrypto) ---- */
/* mac = HMAC-SHA256(key, data); 0 on success, -1 when libcrypto failed */
int			vgp_hmac_sha256(const uint8_t *key, size_t key_len, const void *data,
							size_t len, uint8_t mac[VGP_MAC_LEN]);
/* mac = HMAC-SHA256(secret, nonce || VGP_AUTH_CONTEXT); 0 on success, -1 on failure */
int			vgp_auth_mac(const uint8_t *secret, size_t secret_len,
						 const uint8_t nonce[VGP_NONCE_LEN], uint8_t mac[VGP_MAC_LEN]);
/* constant-time comparison (CRYPTO_memcmp); 1 when equal */
int			vgp_mac_equal(const uint8_t a[VGP_MAC_LEN], const uint8_t b[VGP_MAC_LEN]);

#endif							/* VGP_PROTOCOL_H */
