/*
 * fuzz_format.c - libFuzzer target for vc_model_deserialize().
 *
 * Build and run (clang with libFuzzer):
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
 *	   -Isrc/core test/unit/fuzz_format.c src/core/vc_rng.c src/core/vc_model.c
 *	   src/core/vc_format.c src/core/vc_schema.c src/core/vc_schema_format.c
 *	   src/core/vc_options.c src/core/vc_crc32c.c -lm -o fuzz_format
 *	./fuzz_format -max_total_time=60 corpus/
 * A seed corpus of valid models comes from "test_format corpus/": four
 * array models (format version 1) and two row models (version 2, with a
 * column schema of every kind), so the fuzzer starts inside both readers.
 *
 * Each input is tried twice: as given, and with its CRC-32C trailer
 * recomputed.  Random bytes almost never carry a valid checksum, so without
 * the second pass the fuzzer would only ever exercise the checksum check and
 * never the field validation behind it.
 *
 * Properties checked (abort() on violation, so libFuzzer reports a crash):
 *	- the result is VC_OK or VC_EFORMAT (VC_ENOMEM only if malloc failed);
 *	- on failure *out is NULL and errmsg holds a terminated, non-empty message;
 *	- on success the model re-serializes to exactly the input bytes.
 * The sanitizers take care of out-of-bounds reads, leaks and overflow.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vc.h"
#include "vc_crc32c.h"

/* one deserialization; abort() when a property listed in the header comment fails */
static void
Check(const uint8_t *data, size_t size)
{
	VcModel    *m = (VcModel *) &m;	/* poison: must become NULL on failure */
	char		err[VC_ERRMSG_LEN];
	VcStatus	st;

	memset(err, 'x', sizeof(err));
	st = vc_model_deserialize(data, size, &m, err);
	if (st != VC_OK)
	{
		if ((st != VC_EFORMAT && st != VC_ENOMEM) || m != NULL ||
			memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
			abort();
		return;
	}
	if (m == NULL || vc_model_serialized_size(m) != size)
		abort();
	{
		uint8_t    *again = malloc(size);

		if (again == NULL)
			abort();
		vc_model_serialize(m, again);
		if (memcmp(again, data, size) != 0)
			abort();
		if (vc_model_bytes_crc(again, size) != vc_crc32c(0, again, size - 4))
			abort();
		free(again);
	}
	vc_model_free(m);
}

/* libFuzzer's entry: the input as given, then with its CRC-32C trailer recomputed */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t    *copy;

	Check(data, size);

	if (size >= 4)
	{
		uint32_t	crc;

		copy = malloc(size);
		if (copy == NULL)
			return 0;
		memcpy(copy, data, size);
		crc = vc_crc32c(0, copy, size - 4);
		copy[size - 4] = (uint8_t) crc;
		copy[size - 3] = (uint8_t) (crc >> 8);
		copy[size - 2] = (uint8_t) (crc >> 16);
		copy[size - 1] = (uint8_t) (crc >> 24);
		Check(copy, size);
		free(copy);
	}
	return 0;
}
