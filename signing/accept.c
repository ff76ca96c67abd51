/* accept: count distinct trusted keys against the policy; verify detached minisign and CMS signatures for it. */
#include "accept.h"

#include <stdio.h>
#include <string.h>

#include "base/escape.h"
#include "signing/cms.h"
#include "signing/minisign.h"

unsigned sig_trust_need(const struct sig_trust *t, unsigned caller_min)
{
	unsigned need = caller_min > t->min_keys ? caller_min : t->min_keys;

	return need == 0 ? 1 : need;
}

int sig_trust_decide(const struct sig_trust *t, unsigned caller_min, const uint8_t (*fprs)[SIG_FPR_LEN], size_t n,
		     unsigned *have, struct fw_err *err)
{
	unsigned need = sig_trust_need(t, caller_min), distinct = 0;

	for (size_t i = 0; i < n; i++) {
		int seen = 0;

		for (size_t j = 0; j < i && !seen; j++)
			seen = memcmp(fprs[j], fprs[i], SIG_FPR_LEN) == 0;
		distinct += !seen;
	}
	*have = distinct;
	if (distinct >= need)
		return 0;
	if (distinct == 0)
		return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED, "no signature by a trusted key");
	return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED,
			   "too few signatures by trusted keys: have %u, need %u", distinct, need);
}

/* Append text to the signers list. */
static void add_signer(char signers[SIG_SIGNERS_MAX], const char *text)
{
	size_t o = strlen(signers);

	if (o < SIG_SIGNERS_MAX)
		snprintf(signers + o, SIG_SIGNERS_MAX - o, "%s%s", o ? ", " : "", text);
}

/* The end of the minisign signature that starts at p: four lines. */
static const char *minisig_end(const char *p, const char *end)
{
	const char *line;
	size_t llen;

	for (int i = 0; i < 4; i++)
		if (sig_next_line(&p, end, &line, &llen) != 0)
			return end;
	return p;
}

static int accept_minisign(const struct sig_trust *t, const void *msg, size_t len, const char *sig, size_t sig_len,
			   const char *comment, char signers[SIG_SIGNERS_MAX], struct fw_err *err)
{
	uint8_t fprs[SIG_ACCEPT_MAX][SIG_FPR_LEN];
	const char *p = sig, *end = sig + sig_len, *next;
	char untrusted[17] = "", ids[256];
	size_t n_valid = 0, n = 0;
	unsigned have;

	do {
		struct sig_signature s;
		const struct sig_pubkey *k;
		char id[17];

		if (n == SIG_ACCEPT_MAX)
			return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED, "signature: more than %d signatures",
					   SIG_ACCEPT_MAX);
		next = minisig_end(p, end);
		if (sig_signature_parse(p, (size_t)(next - p), &s, err) < 0) {
			err->code = FW_EXIT_REJECTED;
			err->kind = FW_KIND_SIGNATURE;
			return fw_err_wrap(err, "signature");
		}
		n++;
		sig_keyid_str(s.keyid, id);
		add_signer(signers, id);
		if (comment != NULL && strcmp(s.trusted_comment, comment) != 0)
			return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED,
					   "signature by %s: its trusted comment does not match the signed text", id);
		if ((k = sig_trust_find(t, s.keyid)) == NULL) {
			if (untrusted[0] == '\0')
				memcpy(untrusted, id, sizeof(untrusted));
			continue;
		}
		if (sig_verify(k, &s, msg, len, err) < 0) {
			/* A trusted key's signature that fails means tampering: no second chances. */
			err->code = FW_EXIT_REJECTED;
			err->kind = FW_KIND_SIGNATURE;
			return fw_err_wrap(err, "signature by %s", id);
		}
		if (sig_ed25519_fpr(k->pk, fprs[n_valid]) < 0)
			return fw_err_set(err, FW_EXIT_IO, "cannot hash key %s", id);
		n_valid++;
	} while ((p = next) < end);
	if (sig_trust_decide(t, 0, (const uint8_t (*)[SIG_FPR_LEN])fprs, n_valid, &have, err) == 0)
		return 0;
	sig_trust_ids(t, ids, sizeof(ids));
	if (have == 0)
		return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED, "signed by %s, which is not trusted (trusted: %s)",
				   untrusted, ids);
	return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED,
			   "too few signatures by trusted keys: have %u, need %u (signed by %s; trusted: %s)", have,
			   sig_trust_need(t, 0), signers, ids);
}

static int accept_cms(const struct sig_trust *t, const void *msg, size_t len, const char *der, size_t der_len,
		      char signers[SIG_SIGNERS_MAX], struct fw_err *err)
{
	struct sig_cms_info info;
	struct fw_err why = { 0 };
	char subject[2 * sizeof(info.subject)], who[SIG_SIGNERS_MAX] = "";
	uint8_t fpr[1][SIG_FPR_LEN];
	unsigned have;
	int rc;

	memset(&info, 0, sizeof(info));
	rc = sig_cms_verify(der, der_len, msg, len, t, &info, &why);
	if (info.id[0] != '\0')
		snprintf(who, sizeof(who), "certificate \"%s\" (%s)", fw_escape(info.subject, subject, sizeof(subject)),
			 info.id);
	add_signer(signers, who);
	if (rc == SIG_CMS_UNTRUSTED)
		return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED, "signed by %s, which is not trusted: %s", who,
				   why.msg);
	if (rc != SIG_CMS_VALID)
		return fw_err_setk(err, FW_KIND_SIGNATURE, why.code == FW_EXIT_IO ? FW_EXIT_IO : FW_EXIT_REJECTED,
				   "signature%s%s: %s", who[0] ? " by " : "", who, why.msg);
	memcpy(fpr[0], info.key_fpr, SIG_FPR_LEN);
	if (sig_trust_decide(t, 0, (const uint8_t (*)[SIG_FPR_LEN])fpr, 1, &have, err) < 0)
		return fw_err_setk(err, FW_KIND_SIGNATURE, FW_EXIT_REJECTED,
				   "too few signatures by trusted keys: have %u, need %u (signed by %s; a CMS signature "
				   "has one signer)", have, sig_trust_need(t, 0), who);
	return 0;
}

int sig_accept_detached(const struct sig_trust *t, enum sig_kind kind, const void *msg, size_t len, const char *sig,
			size_t sig_len, const char *comment, char signers[SIG_SIGNERS_MAX], struct fw_err *err)
{
	signers[0] = '\0';
	if (kind == SIG_KIND_CMS)
		return accept_cms(t, msg, len, sig, sig_len, signers, err);
	return accept_minisign(t, msg, len, sig, sig_len, comment, signers, err);
}
