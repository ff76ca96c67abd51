/* sha256: SHA-256 through OpenSSL's direct interface (see sha256.h for why not EVP). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "sha256.h"

#include <string.h>

void fw_sha256_init(struct fw_sha256 *h)
{
	SHA256_Init(&h->ctx);
}

void fw_sha256_update(struct fw_sha256 *h, const void *buf, size_t len)
{
	SHA256_Update(&h->ctx, buf, len);
}

void fw_sha256_final(struct fw_sha256 *h, uint8_t out[32])
{
	SHA256_Final(out, &h->ctx);
}

/* Every byte of buf is 0: the first is, and each equals the next (memcmp's vector loop, stopping at the first not). */
static int all_zero(const uint8_t *p, size_t len)
{
	return len > 0 && p[0] == 0 && memcmp(p, p + 1, len - 1) == 0;
}

/*
 * Not OpenSSL's SHA256(): in 3.x it goes through EVP_Q_digest, the machinery this file avoids.
 *
 * A buffer of zeros is recognized and its digest taken from the last one this thread hashed of that length.
 * Half the chunks of a typical ext4 image are its unused space, all zeros: reading a chunk to see that costs
 * a tenth of hashing it, and a buffer with any other byte goes to SHA-256 after a comparison that stops at
 * its first non-zero byte. The digest is SHA-256's all the same: the cached one was computed by SHA-256 of
 * zeros of the same length.
 */
void fw_sha256(const void *buf, size_t len, uint8_t out[32])
{
	static __thread size_t zero_len;
	static __thread uint8_t zero_md[32];
	struct fw_sha256 h;
	int zero = all_zero(buf, len);

	if (zero && zero_len == len) {
		memcpy(out, zero_md, sizeof(zero_md));
		return;
	}
	fw_sha256_init(&h);
	fw_sha256_update(&h, buf, len);
	fw_sha256_final(&h, out);
	if (zero) {
		memcpy(zero_md, out, sizeof(zero_md));
		zero_len = len;
	}
}
