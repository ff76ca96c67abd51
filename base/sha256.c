/* sha256: SHA-256 through OpenSSL's direct interface (see sha256.h for why not EVP). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "sha256.h"

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

/* Not OpenSSL's SHA256(): in 3.x it goes through EVP_Q_digest, the machinery this file avoids. */
void fw_sha256(const void *buf, size_t len, uint8_t out[32])
{
	struct fw_sha256 h;

	fw_sha256_init(&h);
	fw_sha256_update(&h, buf, len);
	fw_sha256_final(&h, out);
}
