/* cmd_status: fwctl status — the device at a glance, as a table or as one JSON document. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/escape.h"
#include "device/cmd.h"
#include "device/dev_board.h"
#include "device/dev_boot.h"
#include "device/dev_file.h"
#include "device/dev_lock.h"
#include "device/dev_resume.h"
#include "device/dev_pkgstore.h"
#include "device/dev_policy.h"
#include "device/dev_root.h"
#include "device/dev_settings.h"
#include "device/dev_slot.h"
#include "device/dev_smart.h"
#include "device/dev_source.h"
#include "device/dev_state.h"
#include "device/dev_unlock.h"
#include "device/dev_upgrade.h"
#include "base/msg.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: fwctl [--root DIR] status [--json]\n"
		   "Show the product, each slot's record, what booted, and the last upgrade.\n");
}

/* The unlock token as status shows it: null when none, else its device, expiry and whether it counts now. */
static json_t *unlock_json(const struct dev_root *r)
{
	struct sig_unlock u;
	struct fw_err why = { 0 };
	enum dev_unlock_status s = dev_unlock_status(r, &u, &why);
	char when[FW_ISOTIME_LEN];

	if (s == DEV_UNLOCK_NONE)
		return json_null();
	return json_pack("{s:b, s:s, s:s, s:s, s:o}", "valid", s == DEV_UNLOCK_VALID, "device", u.device,
			 "expires", fw_time_iso(u.expires, when), "signed_by", u.keyid,
			 "problem", fw_json_text(s == DEV_UNLOCK_VALID ? "" : why.msg));
}

static void print_unlock(const struct dev_root *r)
{
	struct sig_unlock u;
	struct fw_err why = { 0 };
	char when[32], shown[600];

	switch (dev_unlock_status(r, &u, &why)) {
	case DEV_UNLOCK_NONE:
		printf("%-16s %s\n", "unlock token", "none");
		break;
	case DEV_UNLOCK_VALID:
		fw_time_iso(u.expires, when);
		printf("%-16s valid until %s (signed by %s)\n", "unlock token", when, u.keyid);
		break;
	default:
		printf("%-16s not valid: %s\n", "unlock token", fw_escape_msg(why.msg, shown, sizeof(shown)));
		break;
	}
}

/* The smart state and the clock status reads it at (FWCTL_NOW for tests); 0 with a fresh state when unreadable. */
static int64_t smart_load(const struct dev_root *r, struct dev_smart_state *sm, const struct dev_state *st,
			  int *trial)
{
	struct fw_err ignore;
	struct dev_record rec;
	int64_t now;

	if (dev_smart_load(r, sm, &ignore) < 0)
		dev_smart_state_init(sm);
	if (dev_smart_now(&now, &ignore) < 0)
		now = (int64_t)time(NULL);
	*trial = 0;
	if (st->booted != DEV_BOOTED_NONE) {
		dev_record_load(r, st->booted, &rec);
		*trial = rec.valid && rec.trial;
	}
	return now;
}

/* The local patch version (004's "Patch version"): the installed .wmopkg of that name, "-" none. */
static const char *local_patch(const struct dev_root *r, const char *name, char out[FW_VERSION_MAX_LEN + 1])
{
	struct dev_pkg_list *l = calloc(1, sizeof(*l));
	struct dev_pkg *p;
	struct fw_err err;

	snprintf(out, FW_VERSION_MAX_LEN + 1, "-");
	if (l != NULL && dev_pkgs_load(r, l, &err) == 0 && (p = dev_pkgs_find(l, name)) != NULL)
		snprintf(out, FW_VERSION_MAX_LEN + 1, "%s", p->version);
	if (l != NULL)
		dev_pkgs_free(l);
	free(l);
	return out;
}

static void print_smart(const struct dev_root *r, const struct dev_state *st)
{
	const struct dev_smart_config *c = &r->cfg.smart;
	struct dev_smart_state sm;
	struct dev_smart_plan p;
	char server[sizeof(c->server)], shown[1100], when[FW_ISOTIME_LEN], a[FW_ISOTIME_LEN], b[FW_ISOTIME_LEN];
	char patch_local[FW_VERSION_MAX_LEN + 1];
	int trial;
	int64_t now = smart_load(r, &sm, st, &trial);

	if (!c->enabled && c->server[0] == '\0') {
		printf("%-16s %s\n", "smart upgrade", "off");
		return;
	}
	/* The server's password is the device's to use, not the status's to show. */
	snprintf(server, sizeof(server), "%s", c->server);
	dev_source_hide_password(server);
	printf("%-16s %s: %s, every %lld s\n", "smart upgrade", c->enabled ? "on" : "off",
	       fw_escape(server, shown, sizeof(shown)), (long long)c->interval);
	if (c->window_start >= 0)
		printf("%-16s %02d:%02d-%02d:%02d UTC\n", "  downloads", c->window_start / 60, c->window_start % 60,
		       c->window_end / 60, c->window_end % 60);
	if (c->install_at >= 0)
		printf("%-16s %02d:%02d UTC\n", "  install at", c->install_at / 60, c->install_at % 60);
	if (sm.check_time != 0) {
		printf("%-16s %s: %s%s%s\n", "  last check", fw_time_iso(sm.check_time, when),
		       dev_check_result_name(sm.check_result), sm.available[0] ? ", available " : "", sm.available);
		if (sm.check_message[0])
			printf("%-16s %s\n", "    why", fw_escape_msg(sm.check_message, shown, sizeof(shown)));
	}
	if (sm.available[0] && sm.description[0])
		printf("%-16s %s\n", "  description", fw_escape_msg(sm.description, shown, sizeof(shown)));
	if (sm.has_patch)
		printf("%-16s %s %s, %llu bytes (installed: %s)\n", "  patch", sm.patch_name, sm.patch_version,
		       (unsigned long long)sm.patch_length, local_patch(r, sm.patch_name, patch_local));
	if (sm.sched_download != 0)
		printf("%-16s download at %s%s, reboot at %s%s\n", "  schedule", fw_time_iso(sm.sched_download, when),
		       sm.sched_dl_done ? (sm.sched_dl_failed ? " (failed)" : " (done)") : "",
		       sm.sched_reboot ? fw_time_iso(sm.sched_reboot, a) : "- (fwctl smart install)",
		       sm.sched_reboot_result[0] ? (strcmp(sm.sched_reboot_result, "succeeded") == 0 ? " (done)" : " (failed)")
						 : "");
	if (sm.has_serial)
		printf("%-16s serial %llu, expires %s\n", "  catalog", (unsigned long long)sm.serial,
		       fw_time_iso(sm.expires, when));
	if (sm.has_step)
		printf("%-16s %s: %llu of %llu bytes%s, %.1f MiB/s%s%s\n", "  download", sm.step.version,
		       (unsigned long long)sm.dl_bytes, (unsigned long long)sm.step.length,
		       sm.dl_complete ? " (complete)" : "", (double)sm.dl_speed / 1048576.0, sm.dl_result[0] ? ", last: " : "",
		       sm.dl_result);
	if (sm.has_step && sm.step.delta)
		printf("%-16s against %s: %llu bytes instead of the full package's %llu (%llu saved)\n", "  delta",
		       sm.step.base_version, (unsigned long long)sm.step.length, (unsigned long long)sm.step.full_length,
		       (unsigned long long)(sm.step.full_length > sm.step.length ? sm.step.full_length - sm.step.length : 0));
	else if (sm.dl_result[0])
		printf("%-16s last: %s\n", "  download", sm.dl_result);
	if (sm.dl_message[0])
		printf("%-16s %s\n", "    why", fw_escape_msg(sm.dl_message, shown, sizeof(shown)));
	dev_smart_plan(c, &sm, now, trial, 0, &p);
	printf("%-16s check %s, download %s, install %s\n", "  scheduled", p.next_check >= 0 ? fw_time_iso(p.next_check, when) : "-",
	       p.next_download >= 0 ? fw_time_iso(p.next_download, a) : "-",
	       p.next_install >= 0 ? fw_time_iso(p.next_install, b) : "-");
	if (sm.install_time != 0)
		printf("%-16s %s: %s %s\n", "  last install", fw_time_iso(sm.install_time, when), sm.install_version,
		       sm.install_result);
}

/*
 * status --json's "smart": dev_smart's view of the state, with the settings as
 * config.json holds them, but for the server's password: the device's to use,
 * never the status's to show (fwctl(8)).
 */
static json_t *smart_json(const struct dev_root *r, const struct dev_smart_state *sm, int64_t now, int trial)
{
	json_t *o = dev_smart_status_json(&r->cfg.smart, sm, now, trial);
	struct dev_config shown = r->cfg;
	char local[FW_VERSION_MAX_LEN + 1];

	dev_source_hide_password(shown.smart.server);
	if (o != NULL && (json_object_set_new(o, "config", dev_settings_smart_json(&shown)) < 0 ||
			  (sm->has_patch && json_object_set_new(json_object_get(o, "patch"), "installed",
							       json_string(local_patch(r, sm->patch_name, local))) < 0))) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/*
 * The device keeps a source as it shows it (dev_source's "shown", escaped
 * once where it enters); JSON carries the text itself (fw_json_text's rule,
 * fwctl(8)), so its display escapes are undone here. 0, or -1 out of memory.
 */
static int source_as_text(json_t *obj)
{
	json_t *v = json_object_get(obj, "source");

	return json_is_string(v) ? json_object_set_new(obj, "source", fw_json_text_unescaped(json_string_value(v))) : 0;
}

/*
 * What a network upgrade's progress file says, when a fwctl still runs it;
 * NULL (and *left the file's document, when asked) when none does: killed,
 * or a power cut before boot. Then it is no download, but an interrupted one.
 */
static json_t *download_running(const struct dev_root *r, int running, json_t **left)
{
	json_t *p = dev_progress_load(r);

	if (left != NULL)
		*left = NULL;
	if (p == NULL || running)
		return p;
	if (left != NULL)
		*left = p;
	else
		json_decref(p);
	return NULL;
}

static int print_json(const struct dev_root *r, const struct dev_record rec[DEV_SLOT_COUNT],
		      const struct dev_record *run, const struct dev_state *st, int running)
{
	json_t *doc = json_object(), *slots = json_object(), *media = json_object(), *last;
	/* While an upgrade fetches its package: source, bytes, total, speed (dev_progress_load). */
	json_t *download = download_running(r, running, NULL);
	const char *booted = st->booted == DEV_BOOTED_NONE ? "none" : dev_slot_name(st->booted);
	int bad = doc == NULL || slots == NULL || media == NULL, trial;
	/* Where a failed trial, or a running image marked bad, goes back to (null: nothing good to go to). */
	int back = st->booted == DEV_BOOTED_NONE ? -1 : dev_boot_fallback(rec, st->rollback_index, 1u << st->booted);
	struct dev_smart_state sm;
	int64_t now = smart_load(r, &sm, st, &trial);

	/* What a network upgrade cut by a power loss left for the same upgrade to resume from. */
	json_t *resume = dev_resume_status(r, rec);

	if (doc != NULL)
		bad |= source_as_text(download) < 0 || source_as_text(resume) < 0 ||
		       json_object_set_new(doc, "download", download ? download : json_null()) < 0 ||
		       json_object_set_new(doc, "resume", resume ? resume : json_null()) < 0;
	else {
		json_decref(download);
		json_decref(resume);
	}
	for (int t = 0; !bad && t < DEV_SLOT_COUNT; t++) {
		json_t *o = dev_record_to_json(&rec[t]);
		char when[FW_ISOTIME_LEN];

		/* One convention for times in JSON (fwctl(8)): the record's seconds as ISO 8601. */
		if (o != NULL && rec[t].valid)
			bad = json_object_set_new(o, "installed", json_string(fw_time_iso(rec[t].installed, when))) < 0 ||
			      json_object_del(o, "installed_time") < 0;
		bad = bad || o == NULL || json_object_set_new(o, "path", fw_json_text(r->slot_path[t])) < 0 ||
		      json_object_set_new(slots, dev_slot_name(t), o) < 0;
	}
	for (size_t i = 0; !bad && i < r->cfg.n_media; i++)
		bad = json_object_set_new(media, r->cfg.media[i].label, fw_json_text(r->cfg.media[i].dir)) < 0;
	last = dev_last_upgrade_to_json(&st->last);
	if (!bad)
		bad = last == NULL || source_as_text(last) < 0 ||
		      json_object_set_new(doc, "product", json_string(r->cfg.product)) < 0 ||
		      json_object_set_new(doc, "tpm", json_boolean(r->cfg.tpm)) < 0 ||
		      json_object_set_new(doc, "allow_untrusted", json_boolean(r->cfg.allow_untrusted)) < 0 ||
		      json_object_set_new(doc, "root", fw_json_text(r->dir)) < 0 ||
		      json_object_set(doc, "media", media) < 0 || json_object_set(doc, "slots", slots) < 0 ||
		      json_object_set_new(doc, "booted", json_string(booted)) < 0 ||
		      json_object_set_new(doc, "boot_note", fw_json_text(st->boot_note)) < 0 ||
		      json_object_set_new(doc, "trial_boots", json_integer(st->trial_boots)) < 0 ||
		      json_object_set_new(doc, "trial_budget", json_integer(r->cfg.trial_boots)) < 0 ||
		      json_object_set_new(doc, "rollback_to", back >= 0 ? json_string(dev_slot_name(back)) : json_null()) < 0 ||
		      json_object_set_new(doc, "golden_next", json_boolean(st->golden_next)) < 0 ||
		      json_object_set_new(doc, "booted_version", json_string(st->booted_version)) < 0 ||
		      json_object_set_new(doc, "booted_generation", json_integer(st->booted_generation)) < 0 ||
		      json_object_set_new(doc, "version", run ? json_string(run->version) : json_null()) < 0 ||
		      json_object_set_new(doc, "generation", run ? json_integer(run->generation) : json_null()) < 0 ||
		      json_object_set_new(doc, "rollback_index", json_integer((json_int_t)st->rollback_index)) < 0 ||
		      json_object_set(doc, "last_upgrade", last) < 0 ||
		      json_object_set_new(doc, "secure_boot", json_boolean(r->cfg.secure_boot)) < 0 ||
		      json_object_set_new(doc, "device_id", json_string(r->cfg.device_id)) < 0 ||
		      json_object_set_new(doc, "unlock_token", unlock_json(r)) < 0 ||
		      json_object_set_new(doc, "smart", smart_json(r, &sm, now, trial)) < 0;
	json_decref(last);
	json_decref(slots);
	json_decref(media);
	if (bad) {
		json_decref(doc);
		msg_error("status", NULL, "out of memory");
		return msg_json_failure(r->dir, FW_EXIT_IO, "out of memory");
	}
	if (msg_print_json(doc) < 0) {
		msg_error("status", NULL, "cannot write to stdout");
		return FW_EXIT_IO;
	}
	return FW_EXIT_OK;
}

/* What the next boots do with a running image on trial, or one marked bad: the image they go back to, if any. */
static void print_next_boot(const struct dev_root *r, const struct dev_record rec[DEV_SLOT_COUNT],
			    const struct dev_state *st)
{
	int to = dev_boot_fallback(rec, st->rollback_index, 1u << st->booted);
	unsigned spent = st->trial_boots, budget = r->cfg.trial_boots;
	char back[64];

	if (to >= 0)
		snprintf(back, sizeof(back), "%s %s", dev_slot_name(to), rec[to].version);
	if (!rec[st->booted].valid) {
		printf("%-16s %s%s\n", "  next boot", to >= 0 ? back : "no good system image",
		       st->booted == DEV_SLOT_GOLDEN ? "" : " (the running image is marked bad)");
	} else if (to >= 0) {
		printf("%-16s boot %u of %u without mark-good; %s rolls back to %s\n", "  on trial", spent, budget,
		       spent < budget ? "the boot after the last" : "the next boot", back);
	} else {
		printf("%-16s boot %u of %u without mark-good; no good system to roll back to: it %s booting on trial "
		       "until mark-good\n", "  on trial", spent, budget, spent < budget ? "will keep" : "keeps");
	}
}

static void print_table(const struct dev_root *r, const struct dev_record rec[DEV_SLOT_COUNT],
			const struct dev_record *run, const struct dev_state *st, int running)
{
	char shown[600], when[32];
	json_t *download, *left;

	printf("%-16s %s\n", "product", r->cfg.product);
	printf("%-16s %s\n", "tpm", r->cfg.tpm ? "yes" : "no");
	printf("%-16s %s\n", "allow-untrusted", r->cfg.allow_untrusted ? "yes" : "no");
	printf("%-16s %s\n", "device id", r->cfg.device_id[0] ? r->cfg.device_id : "-");
	printf("%-16s %s\n", "secure boot", r->cfg.secure_boot ? "yes" : "no");
	print_unlock(r);
	if (run != NULL)
		printf("%-16s %s (generation %u)\n", "version", run->version, run->generation);
	else
		printf("%-16s %s\n", "version", "none: no valid system image");
	if (st->booted == DEV_BOOTED_NONE)
		printf("%-16s %s\n", "booted", "none");
	else
		printf("%-16s %s (%s, generation %u)\n", "booted", dev_slot_name(st->booted),
		       st->booted_version, st->booted_generation);
	if (st->boot_note[0])
		printf("%-16s %s\n", "  why", fw_escape_msg(st->boot_note, shown, sizeof(shown)));
	if (st->booted != DEV_BOOTED_NONE && (rec[st->booted].trial || !rec[st->booted].valid))
		print_next_boot(r, rec, st);
	if (st->golden_next)
		printf("%-16s %s\n", "  next boot", "the golden system just placed");
	printf("%-16s %llu\n", "rollback index", (unsigned long long)st->rollback_index);
	for (size_t i = 0; i < r->cfg.n_media; i++)
		printf("%-16s %s -> %s\n", "media", r->cfg.media[i].label, fw_escape(r->cfg.media[i].dir, shown, sizeof(shown)));
	printf("\n%-6s %-5s %-12s %-4s %12s  %-12s  %s\n", "SLOT", "VALID", "VERSION", "GEN", "SIZE", "DIGEST",
	       "INSTALLED");
	for (int t = 0; t < DEV_SLOT_COUNT; t++) {
		const struct dev_record *c = &rec[t];
		char hex[2 * FW_DIGEST_LEN + 1];

		if (!c->valid) {
			int none = t == DEV_SLOT_GOLDEN && strcmp(c->note, "no record") == 0;
			printf("%-6s %-5s %-12s %-4s %12s  %-12s  %s", dev_slot_name(t), "no", "-", "-", "-", "-",
			       none ? "none placed (fwctl golden install)" : fw_escape_msg(c->note, shown, sizeof(shown)));
			if (c->floor[0])
				printf(" (the floor stays %s)", c->floor);
			printf("\n");
			continue;
		}
		fw_hex(c->digest, FW_DIGEST_LEN, hex);
		hex[12] = '\0';
		fw_time_iso(c->installed, when);
		printf("%-6s %-5s %-12s %-4u %12llu  %-12s  %s%s\n", dev_slot_name(t), c->trial ? "trial" : "yes",
		       c->version, c->generation, (unsigned long long)c->size, hex, when,
		       t == DEV_SLOT_GOLDEN ? " (golden: read-only, the floor)" : "");
		if (c->has_sbom) {
			fw_hex(c->sbom_sha256, FW_DIGEST_LEN, hex);
			printf("%-6s   sbom sha256 %s\n", "", hex);
		}
	}
	printf("\n");
	if ((download = download_running(r, running, &left)) != NULL) {
		json_int_t done = json_integer_value(json_object_get(download, "bytes"));
		json_int_t total = json_integer_value(json_object_get(download, "total"));
		const char *from = json_string_value(json_object_get(download, "source"));

		char of[40] = "";

		if (total > 0)
			snprintf(of, sizeof(of), " of %lld", (long long)total);
		printf("%-16s %s: %lld%s bytes, %.1f MiB/s\n", "downloading",
		       fw_escape_msg(from ? from : "?", shown, sizeof(shown)), (long long)done, of,
		       (double)json_integer_value(json_object_get(download, "speed")) / 1048576.0);
		json_decref(download);
	}
	if (left != NULL) {
		json_int_t done = json_integer_value(json_object_get(left, "bytes"));
		const char *from = json_string_value(json_object_get(left, "source"));

		printf("%-16s %s: at byte %lld, and no fwctl runs it now (killed, or a power cut): run the same "
		       "upgrade again to resume\n", "interrupted", fw_escape_msg(from ? from : "?", shown, sizeof(shown)),
		       (long long)done);
		json_decref(left);
	}
	if ((download = dev_resume_status(r, rec)) != NULL) {
		printf("%-16s upgrade %s %s: %lld bytes in the slots (run it again to resume)\n", "resumable",
		       json_string_value(json_object_get(download, "request")),
		       fw_escape_msg(json_string_value(json_object_get(download, "source")), shown, sizeof(shown)),
		       (long long)json_integer_value(json_object_get(download, "kept")));
		json_decref(download);
	}
	print_smart(r, st);
	if (st->last.result == DEV_RESULT_NONE) {
		printf("%-16s %s\n", "last upgrade", "none");
		return;
	}
	fw_time_iso(st->last.time, when);
	printf("%-16s %s\n", "last upgrade", when);
	printf("%-16s %s %s\n", "  command", st->last.target, fw_escape_msg(st->last.source, shown, sizeof(shown)));
	printf("%-16s %s\n", "  package", st->last.version[0] ? st->last.version : "-");
	printf("%-16s %s\n", "  result", dev_result_name(st->last.result));
	if (dev_cancel_name(st->last.cancel) != NULL)
		printf("%-16s %s\n", "  cancellation", dev_cancel_name(st->last.cancel));
	if (st->last.message[0])
		printf("%-16s %s\n", "  message", fw_escape_msg(st->last.message, shown, sizeof(shown)));
	if (st->last.hook_stderr[0])
		printf("%-16s %s\n", "  hook stderr", fw_escape(st->last.hook_stderr, shown, sizeof(shown)));
	if (st->last.installed || st->last.not_installed) {
		char set[32];
		dev_targets_text(st->last.installed, set, sizeof(set));
		printf("%-16s %s\n", "  installed", set);
		dev_targets_text(st->last.not_installed, set, sizeof(set));
		printf("%-16s %s\n", "  not installed", set);
	}
}

/* Was --json among the words, wherever a bad one stopped the parsing? Its failure is a JSON document too. */
static int json_asked(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0)
			return 1;
	return 0;
}

/*
 * status --json's failure document, naming the file that made status fail:
 * ROOT/NAME, or the root directory when it is no device root (no ROOT/NAME
 * to name). Returns code.
 */
static int failure(const char *root, const char *name, int code, const char *msg)
{
	char *path = NULL;
	int rc;

	if (asprintf(&path, "%s/%s", root, name) < 0)
		path = NULL;
	rc = msg_json_failure(path != NULL && access(path, F_OK) == 0 ? path : root, code, msg);
	free(path);
	return rc;
}

int cmd_status(const struct cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dev_root r;
	struct dev_record rec[DEV_SLOT_COUNT];
	const struct dev_record *run;
	struct dev_smart_state *sm = NULL;
	struct dev_state st;
	struct fw_err err = { 0 };
	int c, json = 0, rc, running;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': usage(stdout); return FW_EXIT_OK;
		default:
			msg_error("status", NULL, "unknown option or missing argument: %s", argv[optind - 1]);
			usage(stderr);
			return json_asked(argc, argv) ? msg_json_failure(NULL, FW_EXIT_USAGE, "unknown option or missing argument")
						      : FW_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		msg_error("status", NULL, "\"%s\": status takes no operand", argv[optind]);
		usage(stderr);
		return json ? msg_json_failure(NULL, FW_EXIT_USAGE, "status takes no operand") : FW_EXIT_USAGE;
	}
	/* No lock: every file is replaced atomically, so a reader sees each one whole. */
	if (dev_root_open(&r, env->root, env->lock, &err) < 0) {
		rc = msg_fail("status", NULL, &err);
		return json ? failure(env->root, DEV_CONFIG_FILE, rc, err.msg) : rc;
	}
	if (dev_state_load(&r, &st, &err) < 0) {
		rc = msg_fail("status", NULL, &err);
		if (json)
			failure(r.dir, DEV_STATE_FILE, rc, err.msg);
		goto out;
	}
	/* Does a fwctl run what the files say is under way? (Cannot tell: as if one did.) */
	running = dev_lock_held(r.dir) != 0;
	if (!running && st.last.result == DEV_RESULT_IN_PROGRESS) {
		/* Read again after the look at the lock: an upgrade that ended meanwhile has replaced it. */
		if (dev_state_load(&r, &st, &err) < 0) {
			rc = msg_fail("status", NULL, &err);
			if (json)
				failure(r.dir, DEV_STATE_FILE, rc, err.msg);
			goto out;
		}
		/* Nobody runs it: cut short, as the next boot will record it. */
		if (st.last.result == DEV_RESULT_IN_PROGRESS) {
			st.last.result = DEV_RESULT_ABNORMAL_RESET;
			snprintf(st.last.message, sizeof(st.last.message), "interrupted: no fwctl runs it now (killed, or a "
				 "power cut): run the same upgrade again");
		}
	}
	/* A damaged smart state is said, not shown as a fresh one (a damaged record shows as not valid, naming its file). */
	if ((sm = malloc(sizeof(*sm))) == NULL || dev_smart_load(&r, sm, &err) < 0) {
		if (sm == NULL)
			fw_err_set(&err, FW_EXIT_IO, "out of memory");
		rc = msg_fail("status", NULL, &err);
		if (json)
			failure(r.dir, DEV_SMART_FILE, rc, err.msg);
		goto out;
	}
	for (int t = 0; t < DEV_SLOT_COUNT; t++)
		dev_record_load(&r, t, &rec[t]);
	/* What runs now: the rule the upgrade, the check and the packages judge by (dev_running). */
	if (dev_running_now(&r, &rec[FW_TARGET_PRI], &rec[FW_TARGET_SEC], &run, NULL, &err) < 0) {
		rc = msg_fail("status", NULL, &err);
		if (json)
			msg_json_failure(dev_board_cmdline_path(), rc, err.msg);
		goto out;
	}
	if (json) {
		rc = print_json(&r, rec, run, &st, running);
	} else {
		print_table(&r, rec, run, &st, running);
		rc = fflush(stdout) == 0 ? FW_EXIT_OK : FW_EXIT_IO;
	}
out:
	free(sm);
	dev_root_close(&r);
	return rc;
}
