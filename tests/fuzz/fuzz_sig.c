/* fuzz_sig: libFuzzer target: minisign signature and public key parsing. */
#include <stdint.h>
#include <stdlib.h>

#include "signing/minisign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sig_signature sig;
	struct sig_pubkey pub;
	struct fw_err err;

	sig_signature_parse((const char *)data, size, &sig, &err);
	sig_pubkey_parse((const char *)data, size, &pub, &err);
	return 0;
}
