/* sha256: SHA-256 for the chunk pipeline and the reader, through OpenSSL's direct interface. */
#ifndef FW_SHA256_H
#define FW_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/sha.h>

/*
 * Why not EVP: EVP_Digest and EVP_MD_fetch start OpenSSL 3's provider
 * machinery (the configuration file, the default provider's algorithm
 * tables), which on the device costs 2 MiB of resident memory and a lookup
 * per call, for the one algorithm the format uses. SHA256_Init and friends
 * run the same assembly (SHA-NI, AVX2) without it. They are deprecated in
 * OpenSSL 3.0 but kept in every 3.x; sha256.c is the one file that calls
 * them, so moving to another implementation is a change here alone.
 */
struct fw_sha256 {
	SHA256_CTX ctx;
};

void fw_sha256_init(struct fw_sha256 *h);
void fw_sha256_update(struct fw_sha256 *h, const void *buf, size_t len);
void fw_sha256_final(struct fw_sha256 *h, uint8_t out[32]);

/* The SHA-256 of buf in one call (a buffer of zeros costs a comparison, not a hash: see sha256.c). */
void fw_sha256(const void *buf, size_t len, uint8_t out[32]);

#endif
