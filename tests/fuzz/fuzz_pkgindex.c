/* fuzz_pkgindex: libFuzzer target: the package index (ROOT/packages/index.json) and the boot's findings (verified.json). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "device/dev_pkgstore.h"
#include "scratch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dev_root *r = scratch_root();
	static struct dev_pkg_list l;
	struct fw_err err;
	static const char index[] = "{\"format\":\"fwctl-packages\",\"packages\":{\"a\":{\"file\":\"a-1.wmopkg\",\"id\":\"x\"}}}";

	/* The bytes as the index, with no findings... */
	scratch_put(DEV_PACKAGE_DIR "/" DEV_PKG_VERIFIED, "", 0);
	scratch_put(DEV_PACKAGE_DIR "/" DEV_PKG_INDEX, data, size);
	if (dev_pkgs_load(r, &l, &err) == 0) {
		for (size_t i = 0; i < l.n; i++) {
			if (strchr(l.pkg[i].file, '/') != NULL || l.pkg[i].file[0] == '.' || l.pkg[i].file[0] == '\0')
				abort();
			json_decref(dev_pkg_to_json(&l.pkg[i]));
		}
		(void)dev_pkgs_find(&l, "a");
		if (l.n > 0)
			dev_pkgs_drop(&l, 0);
		dev_pkgs_free(&l);
	}
	/* ... and as the findings beside a small valid index. */
	scratch_put(DEV_PACKAGE_DIR "/" DEV_PKG_INDEX, index, sizeof(index) - 1);
	scratch_put(DEV_PACKAGE_DIR "/" DEV_PKG_VERIFIED, data, size);
	if (dev_pkgs_load(r, &l, &err) == 0) {
		for (size_t i = 0; i < l.n; i++)
			if (memchr(l.pkg[i].note, '\0', sizeof(l.pkg[i].note)) == NULL)
				abort();
		dev_pkgs_free(&l);
	}
	return 0;
}
