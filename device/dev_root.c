/* dev_root: open a device root (lock, config.json), resolve its slots, load its trust store. */
#include "dev_root.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/escape.h"
#include "device/dev_file.h"
#include "device/dev_transport.h"
#include "device/dev_lock.h"
#include "device/dev_settings.h"

const char *dev_slot_name(int slot)
{
	return slot == DEV_SLOT_GOLDEN ? "golden" : fw_target_name((enum fw_target)slot);
}

int dev_slot_parse(const char *name, int *slot)
{
	enum fw_target t;

	if (name == NULL)
		return -1;
	if (strcmp(name, "golden") == 0) {
		*slot = DEV_SLOT_GOLDEN;
		return 0;
	}
	if (fw_target_parse(name, &t) < 0)
		return -1;
	*slot = (int)t;
	return 0;
}

const char *dev_root_choose(const char *opt)
{
	const char *env = getenv("FWCTL_ROOT");

	if (opt != NULL)
		return opt;
	if (env != NULL && env[0] != '\0')
		return env;
	return DEV_DEFAULT_ROOT;
}

char *dev_root_file(const struct dev_root *r, const char *rel)
{
	return dev_path_join(r->dir, rel);
}

void dev_config_free(struct dev_config *c)
{
	for (size_t i = 0; i < c->n_media; i++)
		free(c->media[i].dir);
	for (int t = 0; t < DEV_SLOT_COUNT; t++)
		free(c->slot[t]);
	free(c->unpack_hook);
	free(c->ca_file);
	free(c->ssh_known_hosts);
	free(c->ssh_key);
	dev_board_free(&c->board);   /* board */
	memset(c, 0, sizeof(*c));
}

int dev_config_path_check(const char *what, const char *path, struct fw_err *err)
{
	char shown[600];

	if (fw_utf8_valid(path))
		return 0;
	return fw_err_set(err, FW_EXIT_USAGE, "%s %s: not a UTF-8 path: the configuration (JSON) can only name "
			  "UTF-8 paths; rename it", what, fw_escape(path, shown, sizeof(shown)));
}

int dev_config_add_media(struct dev_config *c, const char *label, const char *dir, struct fw_err *err)
{
	if (!fw_name_valid(label))
		return fw_err_set(err, FW_EXIT_USAGE, "media label \"%s\": use letters, digits, '.', '_', '+', '-'",
				  label);
	if (dir == NULL || dir[0] == '\0')
		return fw_err_set(err, FW_EXIT_USAGE, "media label %s: no directory", label);
	if (dev_config_path_check("media directory", dir, err) < 0)
		return -1;
	for (size_t i = 0; i < c->n_media; i++)
		if (strcmp(c->media[i].label, label) == 0)
			return fw_err_set(err, FW_EXIT_USAGE, "media label %s given twice", label);
	if (c->n_media == DEV_MEDIA_MAX)
		return fw_err_set(err, FW_EXIT_USAGE, "at most %d media labels", DEV_MEDIA_MAX);
	if ((c->media[c->n_media].dir = strdup(dir)) == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	snprintf(c->media[c->n_media].label, sizeof(c->media[0].label), "%s", label);
	c->n_media++;
	return 0;
}

void dev_root_net_opts(const struct dev_root *r, struct dev_transport_opts *o)
{
	dev_transport_opts_init(o);
	o->ca_file = r->cfg.ca_file;
	o->low_speed_limit = r->cfg.low_speed_limit;
	o->low_speed_time = r->cfg.low_speed_time;
	o->retries = r->cfg.net_retries;
	o->timeout = (long)r->cfg.transfer_timeout;
	o->ssh_known_hosts = r->cfg.ssh_known_hosts;
	o->ssh_key = r->cfg.ssh_key;
}

void dev_config_defaults(struct dev_config *c)
{
	dev_settings_defaults(c);
}

int dev_config_save(const struct dev_root *r, struct fw_err *err)
{
	return dev_json_save(dev_root_file(r, DEV_CONFIG_FILE), dev_config_to_json(&r->cfg), err);
}

json_t *dev_config_to_json(const struct dev_config *c)
{
	json_t *doc = json_object(), *slots = json_object();
	int bad = doc == NULL || slots == NULL;

	for (int t = 0; !bad && t < DEV_SLOT_COUNT; t++)
		bad = json_object_set_new(slots, dev_slot_name(t), json_string(c->slot[t])) < 0;
	if (!bad)
		bad = json_object_set_new(doc, "format", json_string(DEV_CONFIG_FORMAT)) < 0 ||
		      json_object_set_new(doc, "format_version", json_integer(1)) < 0 ||
		      json_object_set_new(doc, "product", json_string(c->product)) < 0 ||
		      json_object_set_new(doc, "tpm", json_boolean(c->tpm)) < 0 ||
		      json_object_set_new(doc, "secure_boot", json_boolean(c->secure_boot)) < 0 ||
		      json_object_set_new(doc, "device_id", json_string(c->device_id)) < 0 ||
		      dev_settings_to_json(c, doc) < 0 ||
		      json_object_set_new(doc, "board", dev_board_to_json(&c->board)) < 0 ||   /* board */
		      json_object_set(doc, "slots", slots) < 0;
	json_decref(slots);
	if (bad) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

int dev_config_from_json(const json_t *doc, struct dev_config *c, struct fw_err *err)
{
	const json_t *v, *slots;

	memset(c, 0, sizeof(*c));
	v = json_object_get(doc, "format");
	if (!json_is_string(v) || strcmp(json_string_value(v), DEV_CONFIG_FORMAT) != 0)
		return fw_err_set(err, FW_EXIT_IO, "not a fwctl device configuration (format is not \"%s\")",
				  DEV_CONFIG_FORMAT);
	v = json_object_get(doc, "format_version");
	if (!json_is_integer(v) || json_integer_value(v) != 1)
		return fw_err_set(err, FW_EXIT_IO, "format_version: only 1 is known");
	v = json_object_get(doc, "product");
	if (!json_is_string(v) || !fw_name_valid(json_string_value(v)))
		return fw_err_set(err, FW_EXIT_IO, "product: missing or not a valid product id");
	snprintf(c->product, sizeof(c->product), "%s", json_string_value(v));
	c->tpm = json_is_true(json_object_get(doc, "tpm"));
	c->secure_boot = json_is_true(json_object_get(doc, "secure_boot"));
	v = json_object_get(doc, "device_id");
	if (v != NULL && (!json_is_string(v) || !fw_name_valid(json_string_value(v))))
		return fw_err_set(err, FW_EXIT_IO, "device_id: not a valid device id");
	snprintf(c->device_id, sizeof(c->device_id), "%s", v ? json_string_value(v) : "");
	/* The settings of the table (allow-untrusted and the media labels too); an older root lacks some: their defaults. */
	if (dev_settings_from_json(doc, c, err) < 0 ||
	    dev_board_from_json(json_object_get(doc, "board"), &c->board, err) < 0) {   /* board */
		dev_config_free(c);
		return -1;
	}
	slots = json_object_get(doc, "slots");
	for (int t = 0; t < DEV_SLOT_COUNT; t++) {
		const char *name = dev_slot_name(t);
		v = json_object_get(slots, name);
		/* A root made before the golden slot existed: it goes to its default place. */
		if (t == DEV_SLOT_GOLDEN && v == NULL) {
			if ((c->slot[t] = strdup(DEV_SLOT_DIR "/golden")) == NULL) {
				dev_config_free(c);
				return fw_err_set(err, FW_EXIT_IO, "out of memory");
			}
			continue;
		}
		if (!json_is_string(v) || json_string_value(v)[0] == '\0') {
			dev_config_free(c);
			return fw_err_set(err, FW_EXIT_IO, "slots.%s: missing", name);
		}
		if ((c->slot[t] = strdup(json_string_value(v))) == NULL) {
			dev_config_free(c);
			return fw_err_set(err, FW_EXIT_IO, "out of memory");
		}
	}
	return 0;
}

int dev_root_resolve(struct dev_root *r, struct fw_err *err)
{
	for (int t = 0; t < DEV_SLOT_COUNT; t++) {
		free(r->slot_path[t]);
		r->slot_path[t] = r->cfg.slot[t][0] == '/' ? strdup(r->cfg.slot[t])
							   : dev_root_file(r, r->cfg.slot[t]);
		if (r->slot_path[t] == NULL)
			return fw_err_set(err, FW_EXIT_IO, "out of memory");
	}
	return 0;
}

int dev_root_open(struct dev_root *r, const char *dir, int lock, struct fw_err *err)
{
	char *path = NULL;
	json_t *doc = NULL;
	int missing = 0, rc = -1;

	memset(r, 0, sizeof(*r));
	r->lock_fd = -1;
	if ((r->dir = strdup(dir)) == NULL || (path = dev_root_file(r, DEV_CONFIG_FILE)) == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
		goto out;
	}
	if (access(path, F_OK) < 0) {
		fw_err_set(err, FW_EXIT_USAGE, "%s: not a device root (no %s): create one with 'fwctl --root %s init'",
			   dir, DEV_CONFIG_FILE, dir);
		goto out;
	}
	if (lock && dev_lock_take(dir, &r->lock_fd, err) < 0)
		goto out;
	if ((doc = dev_json_read(path, &missing, err)) == NULL)
		goto out;
	if (dev_config_from_json(doc, &r->cfg, err) < 0) {
		fw_err_wrap(err, "%s", path);
		goto out;
	}
	if (dev_root_resolve(r, err) < 0)
		goto out;
	rc = 0;
out:
	json_decref(doc);
	free(path);
	if (rc < 0)
		dev_root_close(r);
	return rc;
}

void dev_root_close(struct dev_root *r)
{
	dev_lock_release(r->lock_fd);
	for (int t = 0; t < DEV_SLOT_COUNT; t++)
		free(r->slot_path[t]);
	dev_config_free(&r->cfg);
	free(r->dir);
	memset(r, 0, sizeof(*r));
	r->lock_fd = -1;
}

int dev_root_trust(const struct dev_root *r, struct sig_trust *t, struct fw_err *err)
{
	char *dir = dev_root_file(r, DEV_TRUST_DIR);
	int rc;

	if (dir == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	sig_trust_init(t);
	rc = sig_trust_add_dir(t, dir, err);
	if (rc < 0)
		fw_err_wrap(err, "trust store");
	free(dir);
	return rc;
}

const char *dev_root_media(const struct dev_root *r, const char *label, struct fw_err *err)
{
	for (size_t i = 0; i < r->cfg.n_media; i++)
		if (strcmp(r->cfg.media[i].label, label) == 0)
			return r->cfg.media[i].dir;
	fw_err_set(err, FW_EXIT_USAGE, "no medium labelled \"%s\" on this device (fwctl config media LABEL=DIR adds one)",
		   label);
	return NULL;
}
