#!/bin/sh
# test_fleet: a small fleet (scripts/fleet, 20 devices on four start versions) follows a bridge path through a
# proxy cutting 10% of the connections, while a re-signed catalog moves every release halfway through.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

N=20
"$PY" "$E2E/../../scripts/fleet" "$B" $N --size-mb 2 --cut 10 --json fleet.json >fleet.txt 2>&1 || {
	cat fleet.txt >&2
	fail "the fleet did not all update along its path"
}
cat fleet.txt
"$PY" - fleet.json $N <<'PYEOF' || fail "fleet figures: $(cat fleet.json)"
import json, sys
f, n = json.load(open(sys.argv[1])), int(sys.argv[2])
assert f["devices"] == n and f["updated"] == n and f["not_updated"] == 0, f
assert f["unbootable"] == 0, f
assert sorted(f["starts"]) == ["1.0.0", "1.0.5", "1.1.0", "2.0.0"], f        # several start versions
# every device took its path: 1.1.0 by the 10 below it, 2.0.0 by 15, 2.1.0 by all; never 1.0.5 or 1.0.0;
# 2.1.0 as the delta by the 15 that installed 2.0.0 (on the base), whole by the 5 that started on 2.0.0 (off it)
size = f["package_bytes"]
assert size["2.1.0-from-2.0.0"] * 4 < size["2.1.0"], f
need = 10 * size["1.1.0"] + 15 * size["2.0.0"] + 15 * size["2.1.0-from-2.0.0"] + 5 * size["2.1.0"]
assert f["bytes_needed"] == need, f
by = f["bytes_served_by_release"]
assert "1.0.0" not in by and "1.0.5" not in by, f                           # no dead end, nothing refused fetched
assert by["2.1.0-from-2.0.0"] >= 15 * size["2.1.0-from-2.0.0"] and by["1.1.0"] >= 10 * size["1.1.0"], f
assert 5 * size["2.1.0"] <= by["2.1.0"] < 6 * size["2.1.0"], f               # only the devices off the base
assert f["bytes_served"] <= 1.05 * need, f                                   # resumes and the refusal cost little
assert f["refused_once"] == n and f["refusals_repeated"] == 0, f             # another product's: one refusal each
assert f["connections_cut"] > 0, f                                           # the proxy did cut (seeded)
PYEOF
ok "fleet of $N: all along their bridge path to 2.1.0 across a catalog moving its URLs, none unbootable, one refusal each, the delta of 2.1.0 by those on its base and the full package by those off it, bytes served within 1.05 x what each had to install"
