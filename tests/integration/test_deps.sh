#!/bin/sh
# The dependency step of `make check`/`make demo`: quiet and fast when all is
# installed; as a non-root user with something missing, the exact apt-get line.
set -u
cd "$(dirname "$0")/../.."
n=0 bad=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); bad=$((bad + 1)); echo "not ok $n - $1"; }

start=$(date +%s%N)
out=$(sh scripts/deps.sh 2>&1)
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ $rc -eq 0 ] && [ -z "$out" ] && ok "all installed: exits 0 and prints nothing" ||
	not_ok "all installed: exits 0 and prints nothing (rc=$rc: $out)"
[ $ms -lt 1000 ] && ok "all installed: check takes ${ms} ms (< 1 s)" ||
	not_ok "all installed: check takes ${ms} ms (>= 1 s)"

if command -v setpriv >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	out=$(VIMON_DEPS_PKGS="make vimon-no-such-package" \
		setpriv --reuid=65534 --regid=65534 --clear-groups sh scripts/deps.sh 2>&1)
	rc=$?
	[ $rc -ne 0 ] && ok "non-root with a missing package fails" ||
		not_ok "non-root with a missing package fails (rc=$rc)"
	echo "$out" | grep -qx '  apt-get update && apt-get install -y --no-install-recommends vimon-no-such-package' &&
		ok "non-root: prints the exact apt-get line for what is missing (only that)" ||
		not_ok "non-root: prints the exact apt-get line ($out)"
else
	ok "# SKIP non-root case needs root and setpriv"
fi
echo "1..$n"
[ $bad -eq 0 ]
