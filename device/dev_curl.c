/* dev_curl: resolve libcurl's functions with dlopen/dlsym, once. */
#include "dev_curl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* The soname of libcurl 7.x and 8.x (Debian's libcurl4). */
#define LIBCURL_SONAME "libcurl.so.4"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct dev_curl curl;
static const struct dev_curl *loaded;
static char why[256];

/* dlsym into a function pointer: POSIX guarantees the conversion works for dlsym's result. */
#define RESOLVE(field, symbol)                                                      \
	do {                                                                        \
		*(void **)(&curl.field) = dlsym(lib, symbol);                       \
		if (curl.field == NULL) {                                           \
			snprintf(why, sizeof(why), "%s: no %s", LIBCURL_SONAME, symbol); \
			return;                                                     \
		}                                                                   \
	} while (0)

static void load(void)
{
	/* Never closed: libcurl stays for the process's life, as if linked. */
	void *lib = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	CURLcode rc;

	if (lib == NULL) {
		snprintf(why, sizeof(why), "%s", dlerror());
		return;
	}
	RESOLVE(global_init, "curl_global_init");
	RESOLVE(easy_init, "curl_easy_init");
	RESOLVE(easy_cleanup, "curl_easy_cleanup");
	RESOLVE(easy_setopt, "curl_easy_setopt");
	RESOLVE(easy_getinfo, "curl_easy_getinfo");
	RESOLVE(easy_strerror, "curl_easy_strerror");
	RESOLVE(easy_pause, "curl_easy_pause");
	RESOLVE(easy_header, "curl_easy_header");
	RESOLVE(multi_init, "curl_multi_init");
	RESOLVE(multi_add_handle, "curl_multi_add_handle");
	RESOLVE(multi_remove_handle, "curl_multi_remove_handle");
	RESOLVE(multi_perform, "curl_multi_perform");
	RESOLVE(multi_poll, "curl_multi_poll");
	RESOLVE(multi_info_read, "curl_multi_info_read");
	RESOLVE(multi_cleanup, "curl_multi_cleanup");
	RESOLVE(multi_strerror, "curl_multi_strerror");
	RESOLVE(url, "curl_url");
	RESOLVE(url_cleanup, "curl_url_cleanup");
	RESOLVE(url_set, "curl_url_set");
	RESOLVE(url_get, "curl_url_get");
	RESOLVE(free, "curl_free");
	if ((rc = curl.global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
		snprintf(why, sizeof(why), "%s", curl.easy_strerror(rc));
		return;
	}
	loaded = &curl;
}

const struct dev_curl *dev_curl(struct fw_err *err)
{
	pthread_once(&once, load);
	if (loaded == NULL)
		fw_err_set(err, FW_EXIT_IO, "cannot load libcurl for network sources: %s", why);
	return loaded;
}
