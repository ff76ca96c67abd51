/* cmd_download: fwctl download — fetch the release the last check named, verified as it arrives, resumable. */
#include <stdio.h>
#include <string.h>

#include "base/msg.h"
#include "device/cmd.h"
#include "device/dev_download.h"
#include "device/dev_root.h"
#include "device/dev_smart.h"

int cmd_download_run(struct dev_root *r, int64_t now, int changes_only)
{
	struct dev_download_out out;
	struct fw_err err = { 0 };

	if (dev_download(r, now, &out, &err) < 0) {
		if (out.result[0])
			printf("%s\n", out.result);
		if (out.fetched > 0 || out.resumed_from > 0)
			msg_note("download: %s: %llu bytes on disk before, %llu fetched, %u interruptions", out.version,
				 (unsigned long long)out.resumed_from, (unsigned long long)out.fetched, out.interruptions);
		return msg_fail("download", NULL, &err);
	}
	if (out.range_ignored)
		msg_note("download: %s: the server ignored the Range request (HTTP 200, not 206): the package was fetched "
			 "whole, the bytes on disk were not reused", out.version);
	if (out.changed)
		msg_note("download: %s: the file changed on the server: deleted what was fetched and downloaded it again",
			 out.version);
	if (out.already) {
		msg_note("download: %s was downloaded already", out.version);
		if (changes_only)
			return FW_EXIT_OK;
	} else {
		msg_note("download: %s: %llu bytes: %llu on disk before (verified again), %llu fetched, %u interruptions, "
			 "%.1f MiB/s", out.version, (unsigned long long)out.length, (unsigned long long)out.resumed_from,
			 (unsigned long long)out.fetched, out.interruptions, (double)out.speed / 1048576.0);
	}
	if (out.delta)
		msg_note("download: %s: a delta: %llu bytes instead of the full package's %llu (%llu saved)", out.version,
			 (unsigned long long)out.length, (unsigned long long)out.full_length,
			 (unsigned long long)(out.full_length > out.length ? out.full_length - out.length : 0));
	printf("downloaded %s\n", out.version);
	return FW_EXIT_OK;
}

/* A download by hand ends a one-shot schedule (as the field's smart-upgrade download does). */
static int unschedule(struct dev_root *r)
{
	struct dev_smart_state s;
	struct fw_err err = { 0 };

	if (dev_smart_load(r, &s, &err) < 0)
		return msg_fail("download", NULL, &err);
	if (s.sched_download == 0)
		return FW_EXIT_OK;
	dev_smart_unschedule(&s);
	if (dev_smart_save(r, &s, &err) < 0)
		return msg_fail("download", NULL, &err);
	msg_note("download: the scheduled upgrade is off (a download by hand ends it)");
	return FW_EXIT_OK;
}

int cmd_download(const struct cmd_env *env, int argc, char **argv)
{
	struct dev_root r;
	struct fw_err err = { 0 };
	int64_t now;
	int rc;

	if (cmd_no_words("download", argc, argv,
			 "usage: fwctl [--root DIR] download\nFetch the release the last check named into the device's "
			 "download area, resuming what is there; nothing of the running system changes.\n",
			 &rc))
		return rc;
	if (dev_smart_now(&now, &err) < 0)
		return msg_fail("download", NULL, &err);
	if (dev_root_open(&r, env->root, env->lock, &err) < 0)
		return msg_fail("download", NULL, &err);
	rc = unschedule(&r);
	if (rc == FW_EXIT_OK)
		rc = cmd_download_run(&r, now, 0);
	dev_root_close(&r);
	return rc;
}
