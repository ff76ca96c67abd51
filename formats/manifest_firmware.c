/* manifest_firmware: firmware manifests: images, generation, rollback index, transition. */
#include "manifest.h"
#include "manifest_int.h"

#include "base/fw_limits.h"

#include <stdio.h>
#include <string.h>


static const char *const firmware_keys[] = {
	"format", "format_version", "type", "version", "description", "created",
	"products", "image_generation", "rollback_index", "requires_tpm",
	"transition", "images", "sbom", NULL,
};
static const char *const transition_keys[] = { "bridge_from", "bridge_down", NULL };
static const char *const image_keys[] = {
	"target", "product", "file", "size", "chunk_size", "digest", "compression", NULL,
};

/* Validation. */

static int check_payload_name(const char *path, const char *s, struct fw_err *err)
{
	size_t len, slen = strlen(FW_CHUNKS_SUFFIX);

	if (fw_mf_check_name(path, s, err) < 0)
		return -1;
	/* "X.chunks" is the container entry holding payload X's chunk digests. */
	len = strlen(s);
	if (len >= slen && strcmp(s + len - slen, FW_CHUNKS_SUFFIX) == 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"%s\" must not end in \"%s\" (\"%s\")", path,
			FW_CHUNKS_SUFFIX, s);
	return 0;
}

int fw_mf_validate_firmware(const struct fw_manifest *m, struct fw_err *err)
{
	char path[PATH_MAX_LEN];
	size_t i, j;

	if (fw_mf_check_products(m, err) < 0)
		return -1;
	if (m->name[0] != '\0' || m->min_fw[0] != '\0' || m->max_fw[0] != '\0' ||
	    m->persistent_allowed != 0 || m->n_files != 0 || m->hooks[FW_HOOK_ACTIVATE][0] != '\0' ||
	    m->hooks[FW_HOOK_DEACTIVATE][0] != '\0')
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: a firmware manifest has no name, firmware range, "
			"persistent_allowed, files or hooks");

	if (fw_mf_check_range("image_generation", m->image_generation, 1,
			FW_GENERATION_MAX, err) < 0 ||
	    fw_mf_check_range("rollback_index", m->rollback_index, 0,
			FW_JSON_INT_MAX, err) < 0)
		return -1;
	if (m->requires_tpm != 0 && m->requires_tpm != 1)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"requires_tpm\" must be true or false");
	if (m->bridge_from[0] != '\0' &&
	    fw_mf_check_version("transition.bridge_from", m->bridge_from, NULL, err) < 0)
		return -1;
	if (m->bridge_down[0] != '\0' &&
	    fw_mf_check_version("transition.bridge_down", m->bridge_down, NULL, err) < 0)
		return -1;

	if (m->n_images == 0 || m->n_images > FW_MAX_PAYLOADS)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"images\" must list 1 to %d images", FW_MAX_PAYLOADS);
	/* Format version 1 carries each image and its payload in one "images" entry. */
	if (m->n_payloads != m->n_images)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: a firmware manifest needs one payload per image "
			"(%zu images, %zu payloads)", m->n_images, m->n_payloads);

	for (i = 0; i < m->n_images; i++) {
		const struct fw_image *im = &m->images[i];
		const struct fw_payload *p = &m->payloads[i];

		if (im->payload != i)
			return fw_err_set(err, FW_EXIT_REJECTED,
				"manifest: images[%zu] must use payload %zu, not %zu", i, i,
				im->payload);
		snprintf(path, sizeof(path), "images[%zu].target", i);
		if (fw_target_name(im->target) == NULL)
			return fw_err_set(err, FW_EXIT_REJECTED,
				"manifest: \"%s\" must be \"pri\", \"sec\" or \"boot\"", path);

		snprintf(path, sizeof(path), "images[%zu].product", i);
		if (fw_mf_check_name(path, im->product, err) < 0)
			return -1;
		for (j = 0; j < m->n_products; j++)
			if (strcmp(im->product, m->products[j]) == 0)
				break;
		if (j == m->n_products)
			return fw_err_set(err, FW_EXIT_REJECTED,
				"manifest: \"%s\" is \"%s\", which is not in \"products\"", path,
				im->product);

		snprintf(path, sizeof(path), "images[%zu].file", i);
		if (check_payload_name(path, p->name, err) < 0)
			return -1;
		if (fw_mf_check_payload_size("images", i, p, err) < 0)
			return -1;

		for (j = 0; j < i; j++) {
			if (strcmp(p->name, m->payloads[j].name) == 0)
				return fw_err_set(err, FW_EXIT_REJECTED,
					"manifest: \"images[%zu].file\" repeats \"%s\" "
					"of images[%zu]", i, p->name, j);
			/* A slot takes one image; two would make the install order decide. */
			if (im->target == m->images[j].target &&
			    strcmp(im->product, m->images[j].product) == 0)
				return fw_err_set(err, FW_EXIT_REJECTED,
					"manifest: images[%zu] and images[%zu] both have "
					"\"product\" \"%s\" and \"target\" \"%s\"", j, i,
					im->product, fw_target_name(im->target));
		}
	}
	return 0;
}

/* Parsing. */

static int parse_transition(const json_t *root, struct fw_manifest *m, struct fw_err *err)
{
	json_t *t, *v;

	t = json_object_get(root, "transition");
	if (t == NULL)
		return 0;
	if (!json_is_object(t))
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"transition\" must be an object");
	if (fw_mf_check_keys(t, transition_keys, "transition.", err) < 0)
		return -1;

	v = json_object_get(t, "bridge_from");
	if (v != NULL &&
	    fw_mf_parse_version_field(v, "transition.bridge_from", m->bridge_from, err) < 0)
		return -1;
	v = json_object_get(t, "bridge_down");
	if (v != NULL &&
	    fw_mf_parse_version_field(v, "transition.bridge_down", m->bridge_down, err) < 0)
		return -1;
	return 0;
}

static int parse_image(const json_t *obj, size_t i, struct fw_manifest *m,
	struct fw_err *err)
{
	struct fw_image *im = &m->images[i];
	struct fw_payload *p = &m->payloads[i];
	char prefix[32], path[PATH_MAX_LEN];
	json_t *v;
	const char *s = NULL;

	snprintf(prefix, sizeof(prefix), "images[%zu].", i);
	if (!json_is_object(obj))
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"images[%zu]\" must be an object", i);
	if (fw_mf_check_keys(obj, image_keys, prefix, err) < 0)
		return -1;

	snprintf(path, sizeof(path), "%starget", prefix);
	if (fw_mf_need(obj, prefix, "target", &v, err) < 0 ||
	    fw_mf_get_string(v, path, &s, err) < 0)
		return -1;
	if (fw_target_parse(s, &im->target) < 0)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"%s\" must be \"pri\", \"sec\" or \"boot\"", path);

	snprintf(path, sizeof(path), "%sproduct", prefix);
	if (fw_mf_need(obj, prefix, "product", &v, err) < 0 ||
	    fw_mf_get_string(v, path, &s, err) < 0 || fw_mf_check_name(path, s, err) < 0)
		return -1;
	fw_mf_copy_name(im->product, s);
	im->payload = i;

	snprintf(path, sizeof(path), "%sfile", prefix);
	if (fw_mf_need(obj, prefix, "file", &v, err) < 0 ||
	    fw_mf_get_string(v, path, &s, err) < 0 || check_payload_name(path, s, err) < 0)
		return -1;
	fw_mf_copy_name(p->name, s);

	return fw_mf_parse_payload(obj, prefix, p, err);
}

/* The other type's keys are refused before this, by the caller. */
int fw_mf_parse_firmware(const json_t *root, struct fw_manifest *m, struct fw_err *err)
{
	json_t *v, *arr;
	uint64_t n;
	size_t i;

	if (fw_mf_check_keys(root, firmware_keys, "", err) < 0 ||
	    fw_mf_parse_common(root, m, err) < 0)
		return -1;

	if (fw_mf_need(root, "", "image_generation", &v, err) < 0 ||
	    fw_mf_get_uint(v, "image_generation", 1, FW_GENERATION_MAX, &n, err) < 0)
		return -1;
	m->image_generation = (uint32_t)n;

	if (fw_mf_need(root, "", "rollback_index", &v, err) < 0 ||
	    fw_mf_get_uint(v, "rollback_index", 0, FW_JSON_INT_MAX, &m->rollback_index,
			err) < 0)
		return -1;

	if (fw_mf_need(root, "", "requires_tpm", &v, err) < 0)
		return -1;
	if (!json_is_boolean(v))
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"requires_tpm\" must be true or false");
	m->requires_tpm = json_is_true(v);

	if (parse_transition(root, m, err) < 0)
		return -1;

	if (fw_mf_need(root, "", "images", &arr, err) < 0)
		return -1;
	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > FW_MAX_PAYLOADS)
		return fw_err_set(err, FW_EXIT_REJECTED,
			"manifest: \"images\" must be an array of 1 to %d objects",
			FW_MAX_PAYLOADS);
	json_array_foreach(arr, i, v) {
		if (parse_image(v, i, m, err) < 0)
			return -1;
	}
	m->n_images = m->n_payloads = json_array_size(arr);
	return 0;
}

/* Emission. */

static json_t *image_to_json(const struct fw_manifest *m, size_t i)
{
	const struct fw_image *im = &m->images[i];
	const struct fw_payload *p = &m->payloads[im->payload];
	json_t *o;
	int bad = 0;

	o = json_object();
	if (o == NULL)
		goto out;
	bad |= json_object_set_new(o, "target", json_string(fw_target_name(im->target)));
	bad |= json_object_set_new(o, "product",
		fw_mf_field_string(im->product, sizeof(im->product)));
	bad |= json_object_set_new(o, "file", fw_mf_field_string(p->name, sizeof(p->name)));
	bad |= fw_mf_payload_to_json(p, o);
	if (bad) {
		json_decref(o);
		o = NULL;
	}
out:
	return o;
}

int fw_mf_firmware_to_json(const struct fw_manifest *m, json_t *root)
{
	json_t *arr, *t;
	size_t i;
	int bad = 0;

	bad |= json_object_set_new(root, "image_generation",
		json_integer(m->image_generation));
	bad |= json_object_set_new(root, "rollback_index",
		json_integer((json_int_t)m->rollback_index));
	bad |= json_object_set_new(root, "requires_tpm", json_boolean(m->requires_tpm));
	if (bad || fw_mf_products_to_json(m, root) < 0)
		return -1;

	/* Absent rather than empty: a package without a transition says nothing about it. */
	if (m->bridge_from[0] != '\0' || m->bridge_down[0] != '\0') {
		t = json_object();
		bad = json_object_set_new(root, "transition", t);
		if (!bad && m->bridge_from[0] != '\0')
			bad = json_object_set_new(t, "bridge_from",
				fw_mf_field_string(m->bridge_from, sizeof(m->bridge_from)));
		if (!bad && m->bridge_down[0] != '\0')
			bad = json_object_set_new(t, "bridge_down",
				fw_mf_field_string(m->bridge_down, sizeof(m->bridge_down)));
		if (bad)
			return -1;
	}

	arr = json_array();
	bad = json_object_set_new(root, "images", arr);
	for (i = 0; !bad && i < m->n_images && i < FW_MAX_PAYLOADS; i++) {
		/* The payload index comes from the caller: keep it inside the array. */
		if (m->images[i].payload >= FW_MAX_PAYLOADS)
			bad = -1;
		else
			bad = json_array_append_new(arr, image_to_json(m, i));
	}
	return bad ? -1 : 0;
}
