/* dev_curl: libcurl, loaded (dlopen) the first time a network source is used. */
#ifndef DEV_CURL_H
#define DEV_CURL_H

#include <curl/curl.h>

#include "base/fw_err.h"

/*
 * The libcurl functions dev_transport calls. fwctl does not link libcurl:
 * a command that reads a local file or only looks at the device (status,
 * boot, an upgrade from a medium) carries none of its thirty libraries,
 * which cost about 3.5 MiB of resident memory and 7 ms of start-up, and a
 * device built without libcurl still installs from files.
 */
struct dev_curl {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *easy);
	CURLcode (*easy_setopt)(CURL *easy, CURLoption option, ...);
	CURLcode (*easy_getinfo)(CURL *easy, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode code);
	CURLcode (*easy_pause)(CURL *easy, int bitmask);
	CURLHcode (*easy_header)(CURL *easy, const char *name, size_t index, unsigned int origin, int request,
				 struct curl_header **hout);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_add_handle)(CURLM *multi, CURL *easy);
	CURLMcode (*multi_remove_handle)(CURLM *multi, CURL *easy);
	CURLMcode (*multi_perform)(CURLM *multi, int *running);
	CURLMcode (*multi_poll)(CURLM *multi, struct curl_waitfd extra_fds[], unsigned int extra_nfds, int timeout_ms,
				int *ret);
	CURLMsg *(*multi_info_read)(CURLM *multi, int *msgs_in_queue);
	CURLMcode (*multi_cleanup)(CURLM *multi);
	const char *(*multi_strerror)(CURLMcode code);
	/* the URL API: a source's parts go in as they are and curl encodes them (no URL written by hand) */
	CURLU *(*url)(void);
	void (*url_cleanup)(CURLU *handle);
	CURLUcode (*url_set)(CURLU *handle, CURLUPart what, const char *part, unsigned int flags);
	CURLUcode (*url_get)(const CURLU *handle, CURLUPart what, char **part, unsigned int flags);
	void (*free)(void *p);
};

/*
 * libcurl's functions, loaded once (thread-safe) from libcurl.so.4 and
 * started (curl_global_init); NULL with err set (FW_EXIT_IO) when it cannot
 * be loaded or started.
 */
const struct dev_curl *dev_curl(struct fw_err *err);

#endif
