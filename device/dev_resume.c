/* dev_resume: ROOT/upgrade.resume as JSON: written durably, read with every field checked, never trusted beyond a hint. */
#include "dev_resume.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "base/escape.h"
#include "base/isotime.h"
#include "base/outfile.h"
#include "base/sha256.h"
#include "device/dev_file.h"

#define DIGEST_HEX (2 * FW_DIGEST_LEN)

static const char *const requests[] = { "all", "pri", "sec", "boot", "golden" };

static json_t *image_to_json(const struct dev_resume_image *im)
{
	char hex[DIGEST_HEX + 1];
	json_t *o;

	fw_hex(im->digest, FW_DIGEST_LEN, hex);
	o = json_pack("{s:s, s:I, s:I, s:I, s:s}", "slot", dev_slot_name(im->slot), "offset", (json_int_t)im->offset,
		      "size", (json_int_t)im->size, "kept", (json_int_t)im->kept, "digest", hex);
	if (o != NULL && im->compressed &&
	    json_object_set_new(o, "compressed", json_pack("{s:I, s:I}", "frame_at", (json_int_t)im->frame_at, "skip",
							   (json_int_t)im->skip)) < 0) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

int dev_resume_save(const struct dev_root *r, const struct dev_resume *res, struct fw_err *err)
{
	char hex[DIGEST_HEX + 1];
	json_t *doc, *images = json_array();

	for (unsigned i = 0; images != NULL && i < res->n; i++)
		if (json_array_append_new(images, image_to_json(&res->image[i])) < 0) {
			json_decref(images);
			images = NULL;
		}
	fw_hex(res->manifest_sha256, FW_DIGEST_LEN, hex);
	doc = images == NULL ? NULL :
	      json_pack("{s:s, s:s, s:{s:s, s:I, s:I}, s:s, s:I, s:o}", "source", res->source, "request", res->request,
			"server", "etag", res->id.etag, "mtime", (json_int_t)res->id.mtime, "size", (json_int_t)res->id.size,
			"manifest_sha256", hex, "started", (json_int_t)res->started, "images", images);
	return dev_json_save(dev_root_file(r, DEV_RESUME_FILE), doc, err);
}

/* ROOT/upgrade.resume.SLOT: the magic, the chunk size (4 bytes, little-endian), then the chunk list. */
#define CHUNKS_MAGIC "FWRESCH1"
#define CHUNKS_HEAD (sizeof(CHUNKS_MAGIC) - 1 + 4)

static char *chunks_path(const struct dev_root *r, int slot)
{
	char name[64];

	snprintf(name, sizeof(name), "%s.%s", DEV_RESUME_FILE, dev_slot_name(slot));
	return dev_root_file(r, name);
}

void dev_resume_clear(const struct dev_root *r)
{
	char *path = dev_root_file(r, DEV_RESUME_FILE);

	if (path != NULL)
		unlink(path);
	free(path);
	for (int t = 0; t < DEV_SLOT_COUNT; t++) {
		if ((path = chunks_path(r, t)) != NULL)
			unlink(path);
		free(path);
	}
}

int dev_resume_save_chunks(const struct dev_root *r, int slot, uint32_t chunk_size, const uint8_t *list, size_t len,
			   struct fw_err *err)
{
	char *path = chunks_path(r, slot);
	uint8_t *buf = malloc(CHUNKS_HEAD + len);
	int rc = -1;

	if (path == NULL || buf == NULL) {
		fw_err_set(err, FW_EXIT_IO, "out of memory");
	} else {
		memcpy(buf, CHUNKS_MAGIC, CHUNKS_HEAD - 4);
		for (int i = 0; i < 4; i++)
			buf[CHUNKS_HEAD - 4 + i] = (uint8_t)(chunk_size >> (8 * i));
		memcpy(buf + CHUNKS_HEAD, list, len);
		rc = outfile_write_file(path, buf, CHUNKS_HEAD + len, 0600, OUTFILE_FORCE | OUTFILE_DURABLE, err);
	}
	free(buf);
	free(path);
	return rc;
}

/* The saved chunk list of slot, checked against the image's signed digest; NULL when absent or not the image's. */
static uint8_t *load_chunks(const struct dev_root *r, const struct dev_resume_image *im, uint32_t *chunk_size,
			    uint64_t *nchunks)
{
	char *path = chunks_path(r, im->slot);
	int fd = path == NULL ? -1 : open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf = NULL, md[FW_DIGEST_LEN];
	size_t len;

	free(path);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || st.st_size < (off_t)CHUNKS_HEAD || st.st_size > (off_t)(CHUNKS_HEAD + (64u << 20)) ||
	    (buf = malloc((size_t)st.st_size)) == NULL ||
	    pread(fd, buf, (size_t)st.st_size, 0) != st.st_size || memcmp(buf, CHUNKS_MAGIC, CHUNKS_HEAD - 4) != 0)
		goto bad;
	len = (size_t)st.st_size - CHUNKS_HEAD;
	*chunk_size = 0;
	for (int i = 3; i >= 0; i--)
		*chunk_size = *chunk_size << 8 | buf[CHUNKS_HEAD - 4 + i];
	*nchunks = len / FW_DIGEST_LEN;
	fw_sha256(buf + CHUNKS_HEAD, len, md);
	/* A chunk size no package has (fwpkg-pkg(5)) is refused before it sizes a buffer (fuzz_resume: malloc of 3 GiB). */
	if (*chunk_size < FW_CHUNK_MIN || *chunk_size > FW_CHUNK_MAX || (*chunk_size & (*chunk_size - 1)) != 0 ||
	    len % FW_DIGEST_LEN != 0 || memcmp(md, im->digest, FW_DIGEST_LEN) != 0 ||
	    *nchunks != im->size / *chunk_size + (im->size % *chunk_size != 0))
		goto bad;
	close(fd);
	memmove(buf, buf + CHUNKS_HEAD, len);
	return buf;
bad:
	free(buf);
	close(fd);
	return NULL;
}

uint64_t dev_resume_extend(const struct dev_root *r, struct dev_resume_image *im)
{
	uint32_t cs;
	uint64_t n = 0, k, from = im->kept;
	/* A compressed image continues where a frame begins, and only the record knows where that is in the payload. */
	uint8_t *list = im->kept < im->size && !im->compressed ? load_chunks(r, im, &cs, &n) : NULL;
	uint8_t *chunk = list == NULL ? NULL : malloc(cs);
	int fd = chunk == NULL ? -1 : open(r->slot_path[im->slot], O_RDONLY | O_CLOEXEC);

	/* From the last whole chunk the record vouches for, while the slot's bytes match the list. */
	for (k = fd < 0 ? n : im->kept / cs; fd >= 0 && k < n; k++) {
		size_t len = k == n - 1 && im->size % cs ? (size_t)(im->size % cs) : cs;
		uint8_t md[FW_DIGEST_LEN];

		if (pread(fd, chunk, len, (off_t)(k * cs)) != (ssize_t)len)
			break;
		fw_sha256(chunk, len, md);
		if (memcmp(md, list + k * FW_DIGEST_LEN, FW_DIGEST_LEN) != 0)
			break;
		if (k * cs + len > im->kept)
			im->kept = k * cs + len;
	}
	if (fd >= 0)
		close(fd);
	free(chunk);
	free(list);
	return im->kept - from;
}

json_t *dev_resume_status(const struct dev_root *r, const struct dev_record rec[DEV_SLOT_COUNT])
{
	struct dev_resume res;
	struct fw_err ignored;
	uint64_t kept = 0;
	char when[32];

	if (dev_resume_load(r, &res, &ignored) != 1)
		return NULL;
	for (unsigned i = 0; i < res.n; i++) {
		const struct dev_resume_image *im = &res.image[i];
		const struct dev_record *c = &rec[im->slot];
		int whole = c->valid && c->size == im->size && memcmp(c->digest, im->digest, FW_DIGEST_LEN) == 0;

		kept += whole ? im->size : im->kept;
	}
	fw_time_iso(res.started, when);
	return json_pack("{s:o, s:s, s:I, s:s}", "source", fw_json_text(res.source), "request", res.request, "kept",
			 (json_int_t)kept, "started", when);
}

struct dev_resume_image *dev_resume_image(struct dev_resume *res, int slot)
{
	for (unsigned i = 0; i < res->n; i++)
		if (res->image[i].slot == slot)
			return &res->image[i];
	if (res->n == DEV_SLOT_COUNT)
		return NULL;
	memset(&res->image[res->n], 0, sizeof(res->image[res->n]));
	res->image[res->n].slot = slot;
	return &res->image[res->n++];
}

static int get_int(const json_t *o, const char *key, long long min, long long *out)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < min)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

static int get_text(const json_t *o, const char *key, char *out, size_t outsz)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || strlen(json_string_value(v)) >= outsz)
		return -1;
	snprintf(out, outsz, "%s", json_string_value(v));
	return 0;
}

static int get_digest(const json_t *o, const char *key, uint8_t out[FW_DIGEST_LEN])
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || strlen(json_string_value(v)) != DIGEST_HEX)
		return -1;
	return fw_unhex(json_string_value(v), out, FW_DIGEST_LEN);
}

static int image_from_json(const json_t *o, struct dev_resume *res)
{
	struct dev_resume_image *im;
	const json_t *z = json_object_get(o, "compressed");
	char name[16];
	long long offset, size, kept, frame_at = 0, skip = 0;
	int slot = -1;

	if (!json_is_object(o) || get_text(o, "slot", name, sizeof(name)) < 0)
		return -1;
	for (int s = 0; s < DEV_SLOT_COUNT; s++)
		if (strcmp(name, dev_slot_name(s)) == 0)
			slot = s;
	for (unsigned i = 0; i < res->n; i++)
		if (res->image[i].slot == slot)
			return -1;   /* one entry per slot */
	if (slot < 0 || (im = dev_resume_image(res, slot)) == NULL ||
	    get_int(o, "offset", 1, &offset) < 0 || get_int(o, "size", 0, &size) < 0 || get_int(o, "kept", 0, &kept) < 0 ||
	    kept > size || get_digest(o, "digest", im->digest) < 0 ||
	    (z != NULL && (!json_is_object(z) || get_int(z, "frame_at", 0, &frame_at) < 0 ||
			   get_int(z, "skip", 0, &skip) < 0 || skip > frame_at)))
		return -1;
	/* One entry per payload: the bytes a resume checks for a payload are read from the slot of the entry
	 * naming it, and the bytes it does not write again are those of the slot it writes; two entries for
	 * one payload could make them two slots, and leave the second one's kept bytes unchecked. */
	for (unsigned i = 0; i + 1 < res->n; i++)
		if (res->image[i].offset == (uint64_t)offset)
			return -1;
	im->compressed = z != NULL;
	im->frame_at = (uint64_t)frame_at;
	im->skip = (uint64_t)skip;
	im->offset = (uint64_t)offset;
	im->size = (uint64_t)size;
	im->kept = (uint64_t)kept;
	return 0;
}

int dev_resume_load(const struct dev_root *r, struct dev_resume *out, struct fw_err *err)
{
	char *path = dev_root_file(r, DEV_RESUME_FILE);
	json_t *doc = NULL;
	const json_t *server, *images;
	long long mtime, size, started;
	int missing = 0, rc = -1, known = 0;

	memset(out, 0, sizeof(*out));
	if (path == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	if ((doc = dev_json_read(path, &missing, err)) == NULL) {
		rc = missing ? 0 : -1;
		goto out;
	}
	server = json_object_get(doc, "server");
	images = json_object_get(doc, "images");
	if (get_text(doc, "source", out->source, sizeof(out->source)) < 0 || out->source[0] == '\0' ||
	    get_text(doc, "request", out->request, sizeof(out->request)) < 0 ||
	    !json_is_object(server) || get_text(server, "etag", out->id.etag, sizeof(out->id.etag)) < 0 ||
	    get_int(server, "mtime", -1, &mtime) < 0 || get_int(server, "size", -1, &size) < 0 ||
	    get_digest(doc, "manifest_sha256", out->manifest_sha256) < 0 || get_int(doc, "started", 0, &started) < 0 ||
	    !json_is_array(images) || json_array_size(images) > DEV_SLOT_COUNT) {
		fw_err_set(err, FW_EXIT_IO, "%s: a field is missing or out of range", path);
		goto out;
	}
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		known |= strcmp(out->request, requests[i]) == 0;
	if (!known) {
		fw_err_set(err, FW_EXIT_IO, "%s: unknown request \"%s\"", path, out->request);
		goto out;
	}
	out->id.mtime = mtime;
	out->id.size = size;
	out->started = started;
	for (size_t i = 0; i < json_array_size(images); i++)
		if (image_from_json(json_array_get(images, i), out) < 0) {
			fw_err_set(err, FW_EXIT_IO, "%s: image %zu: a field is missing, duplicated or out of range", path, i + 1);
			goto out;
		}
	rc = 1;
out:
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	json_decref(doc);
	free(path);
	return rc;
}

int dev_resume_whole(const struct dev_resume_image *im, const struct dev_record *rec, int inherited)
{
	return (im->kept == im->size || inherited) && rec->valid && rec->size == im->size &&
	       memcmp(rec->digest, im->digest, FW_DIGEST_LEN) == 0;
}

static int same_server_file(const struct dev_transport_id *a, const struct dev_transport_id *b)
{
	return strcmp(a->etag, b->etag) == 0 && a->mtime == b->mtime && a->size == b->size;
}

int dev_resume_may(int found, const struct dev_resume *old, const char *source, const char *request, int hook,
		   enum dev_proto proto, const struct dev_transport_id *id, char *why, size_t n)
{
	why[0] = '\0';
	if (found <= 0)
		return 0;
	if (strcmp(old->source, source) != 0 || strcmp(old->request, request) != 0)
		snprintf(why, n, "it was 'upgrade %s %s'", old->request, old->source);
	else if (hook)
		snprintf(why, n, "an unpack hook is set, and its output cannot be continued in the middle");
	else if (proto == DEV_PROTO_TFTP)
		snprintf(why, n, "TFTP cannot start in the middle of a file: the package is read whole");
	else if (!same_server_file(&old->id, id))
		snprintf(why, n, "the file changed on the server since: starting over from byte 0");
	return why[0] == '\0';
}

uint64_t dev_resume_first_byte(int found, const struct dev_resume *old, const char *source, const char *request,
			       int hook, const struct dev_record rec[DEV_SLOT_COUNT])
{
	uint64_t first = 0;

	if (found != 1 || hook || strcmp(old->source, source) != 0 || strcmp(old->request, request) != 0)
		return 0;
	for (unsigned i = 0; i < old->n; i++) {
		const struct dev_record *r = &rec[old->image[i].slot];
		/* A compressed image's first kept byte of the package is its first skipped one. */
		int used = old->image[i].compressed ? old->image[i].skip > 0 :
			   old->image[i].kept > 0 || (r->valid && memcmp(r->digest, old->image[i].digest, FW_DIGEST_LEN) == 0);

		if (used && (first == 0 || old->image[i].offset < first))
			first = old->image[i].offset;
	}
	return first;
}
