/* cmd_config: fwctl config — show the boot configuration's settings, or change one. */
#include <stdio.h>
#include <string.h>

#include "base/escape.h"
#include "base/msg.h"
#include "device/cmd.h"
#include "device/dev_root.h"
#include "device/dev_transport.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: fwctl [--root DIR] config [SETTING VALUE]\n"
		   "Without arguments, show the settings; with a setting and a value, change it:\n"
		   "  unpack-hook PATH|none   the security-unpack hook (an absolute path to an executable)\n"
		   "  hook-timeout SECONDS    how long the hook may run (1 to 86400)\n"
		   "  trial-boots N           boots a new system image gets to be marked good (1 to %d)\n"
		   "  ca-file PATH|none       https: the CA certificates (PEM) servers are verified against\n"
		   "  low-speed-limit BYTES   network: slower than this ... (0 to %d bytes/s; 0: no limit)\n"
		   "  low-speed-time SECONDS  ... for this long fails the attempt (1 to %d)\n"
		   "  net-retries N           network: attempts in a row without progress before netError (0 to 100)\n"
		   "  transfer-timeout SECONDS  network: any one transfer ends with netError after this long\n"
		   "                          in all (1 to %d; default %ld)\n"
		   "  ssh-known-hosts PATH|none  scp, sftp: the servers' host keys (OpenSSH known_hosts format);\n"
		   "                          none: scp and sftp are refused\n"
		   "  ssh-key PATH|none       scp, sftp: a private key to log in with (besides the password)\n",
		DEV_TRIAL_BOOTS_MAX, DEV_LOW_SPEED_MAX, DEV_NET_SETTING_MAX, DEV_TRANSFER_TIMEOUT_MAX,
		DEV_TRANSPORT_TIMEOUT);
}

static void show(const struct dev_config *c)
{
	char shown[1024];

	printf("%-14s %s\n", "unpack-hook", c->unpack_hook ? fw_escape(c->unpack_hook, shown, sizeof(shown)) : "none");
	printf("%-14s %u\n", "hook-timeout", c->hook_timeout);
	printf("%-14s %u\n", "trial-boots", c->trial_boots);
	printf("%-14s %s\n", "ca-file", c->ca_file ? fw_escape(c->ca_file, shown, sizeof(shown)) : "none");
	printf("%-14s %u\n", "low-speed-limit", c->low_speed_limit);
	printf("%-14s %u\n", "low-speed-time", c->low_speed_time);
	printf("%-14s %u\n", "net-retries", c->net_retries);
	printf("%-14s %u\n", "transfer-timeout", c->transfer_timeout);
	printf("%-14s %s\n", "ssh-known-hosts",
	       c->ssh_known_hosts ? fw_escape(c->ssh_known_hosts, shown, sizeof(shown)) : "none");
	printf("%-14s %s\n", "ssh-key", c->ssh_key ? fw_escape(c->ssh_key, shown, sizeof(shown)) : "none");
}

static int change(struct dev_config *c, const char *key, const char *value, struct fw_err *err)
{
	uint64_t n;

	if (strcmp(key, "unpack-hook") == 0)
		return dev_config_set_hook(c, strcmp(value, "none") == 0 ? NULL : value, err);
	if (strcmp(key, "hook-timeout") == 0) {
		if (msg_parse_u64(value, 86400, &n) < 0 || n == 0)
			return fw_err_set(err, FW_EXIT_USAGE, "hook-timeout %s: expected 1 to 86400 seconds", value);
		c->hook_timeout = (unsigned)n;
		return 0;
	}
	if (strcmp(key, "trial-boots") == 0) {
		if (msg_parse_u64(value, DEV_TRIAL_BOOTS_MAX, &n) < 0 || n == 0)
			return fw_err_set(err, FW_EXIT_USAGE, "trial-boots %s: expected 1 to %d", value,
					  DEV_TRIAL_BOOTS_MAX);
		c->trial_boots = (unsigned)n;
		return 0;
	}
	if (strcmp(key, "ca-file") == 0)
		return dev_config_set_ca_file(c, strcmp(value, "none") == 0 ? NULL : value, err);
	if (strcmp(key, "low-speed-limit") == 0) {
		if (msg_parse_u64(value, DEV_LOW_SPEED_MAX, &n) < 0)
			return fw_err_set(err, FW_EXIT_USAGE, "low-speed-limit %s: expected 0 to %d bytes/s", value,
					  DEV_LOW_SPEED_MAX);
		c->low_speed_limit = (unsigned)n;
		return 0;
	}
	if (strcmp(key, "low-speed-time") == 0) {
		if (msg_parse_u64(value, DEV_NET_SETTING_MAX, &n) < 0 || n == 0)
			return fw_err_set(err, FW_EXIT_USAGE, "low-speed-time %s: expected 1 to %d seconds", value,
					  DEV_NET_SETTING_MAX);
		c->low_speed_time = (unsigned)n;
		return 0;
	}
	if (strcmp(key, "net-retries") == 0) {
		if (msg_parse_u64(value, 100, &n) < 0)
			return fw_err_set(err, FW_EXIT_USAGE, "net-retries %s: expected 0 to 100", value);
		c->net_retries = (unsigned)n;
		return 0;
	}
	if (strcmp(key, "transfer-timeout") == 0) {
		if (msg_parse_u64(value, DEV_TRANSFER_TIMEOUT_MAX, &n) < 0 || n == 0)
			return fw_err_set(err, FW_EXIT_USAGE, "transfer-timeout %s: expected 1 to %d seconds", value,
					  DEV_TRANSFER_TIMEOUT_MAX);
		c->transfer_timeout = (unsigned)n;
		return 0;
	}
	if (strcmp(key, "ssh-known-hosts") == 0)
		return dev_config_set_file(&c->ssh_known_hosts, "known_hosts file", strcmp(value, "none") == 0 ? NULL : value,
					   err);
	if (strcmp(key, "ssh-key") == 0)
		return dev_config_set_file(&c->ssh_key, "ssh key", strcmp(value, "none") == 0 ? NULL : value, err);
	return fw_err_set(err, FW_EXIT_USAGE, "\"%s\": the settings are unpack-hook, hook-timeout, trial-boots, ca-file, "
			  "low-speed-limit, low-speed-time, net-retries, transfer-timeout, ssh-known-hosts and ssh-key", key);
}

int cmd_config(const char *root, int argc, char **argv)
{
	struct dev_root r;
	struct fw_err err = { 0 };
	int rc = FW_EXIT_OK;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return FW_EXIT_OK;
	}
	if (argc != 1 && argc != 3) {
		usage(stderr);
		return FW_EXIT_USAGE;
	}
	if (dev_root_open(&r, root, argc == 3, &err) < 0)
		return msg_fail("config", NULL, &err);
	if (argc == 1) {
		show(&r.cfg);
	} else if (change(&r.cfg, argv[1], argv[2], &err) < 0 || dev_config_save(&r, &err) < 0) {
		rc = msg_fail("config", NULL, &err);
	} else {
		msg_note("config: %s set", argv[1]);
	}
	dev_root_close(&r);
	return rc;
}
