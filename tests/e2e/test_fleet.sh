#!/bin/sh
# test_fleet: a small fleet (scripts/fleet, 20 devices) updates itself through a proxy cutting 10% of the connections.
E2E=$(cd "$(dirname "$0")" && pwd)
. "$E2E/lib.sh"

N=20
"$PY" "$E2E/../../scripts/fleet" "$B" $N --size-mb 4 --cut 10 --json fleet.json >fleet.txt 2>&1 || {
	cat fleet.txt >&2
	fail "the fleet did not all update"
}
cat fleet.txt
"$PY" - fleet.json $N <<'PYEOF' || fail "fleet figures: $(cat fleet.json)"
import json, sys
f, n = json.load(open(sys.argv[1])), int(sys.argv[2])
assert f["devices"] == n and f["updated"] == n and f["not_updated"] == 0, f
assert f["unbootable"] == 0, f
assert f["bytes_served"] >= n * f["package_bytes"], f          # every device fetched the package whole ...
assert f["bytes_served"] <= 1.05 * n * f["package_bytes"], f   # ... and resumes cost little
assert f["connections_cut"] > 0, f                             # the proxy did cut (seeded)
PYEOF
ok "fleet of $N: all updated, none unbootable, bytes served within 1.05 x $N x the package"
