/* fuzz_unlock: libFuzzer target: unlock tokens, parsed alone and checked against a trust store holding one key. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signing/trust.h"
#include "signing/unlock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The seed corpus's token key (scripts/fuzz-corpus), so signatures get as far as the check. */
static const char key_b64[] = "RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTK0YyZBBjN7l";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sig_trust t;
	static int ready;
	struct sig_unlock u;
	struct fw_err err;

	if (!ready) {
		sig_trust_init(&t);
		const char *k = getenv("FUZZ_UNLOCK_KEY");
		(void)sig_trust_add_base64(&t, k != NULL ? k : key_b64, &err);
		ready = 1;
	}
	if (sig_unlock_parse((const char *)data, size, NULL, &u, &err) == 0) {
		if (memchr(u.device, '\0', sizeof(u.device)) == NULL)
			abort();
		(void)sig_unlock_check(&u, "dev-1", 1700000000, &err);
	}
	(void)sig_unlock_parse((const char *)data, size, &t, &u, &err);
	return 0;
}
