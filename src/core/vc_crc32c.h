/*
 * vc_crc32c.h - CRC-32C (Castagnoli), the model format's checksum
 * (vc_crc32c.c).
 */
#ifndef VC_CRC32C_H
#define VC_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C of data[0, len) continuing from crc (0 to start) */
uint32_t	vc_crc32c(uint32_t crc, const void *data, size_t len);

#endif							/* VC_CRC32C_H */
