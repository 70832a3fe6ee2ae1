#!/bin/sh
# Installs every build and test dependency on Debian 12 with apt-get, once.
# When everything is present it only checks (dpkg-query, well under a second).
# `deps.sh demo` installs only what `make demo` needs: the build libraries and the Go
# toolchain with govmomi for the simulator (curl and python3 for the demo script).
set -eu

DEMO_PKGS="make gcc pkg-config libcurl4-openssl-dev libssl-dev libxml2-dev libmicrohttpd-dev libconfig-dev
libjansson-dev zlib1g-dev golang-go golang-github-vmware-govmomi-dev curl python3"
[ "${1:-}" = demo ] && VIMON_DEPS_PKGS=${VIMON_DEPS_PKGS:-$DEMO_PKGS}

PKGS=${VIMON_DEPS_PKGS:-"make gcc pkg-config libcurl4-openssl-dev libssl-dev libxml2-dev libmicrohttpd-dev libconfig-dev
libjansson-dev zlib1g-dev libcmocka-dev golang-go golang-github-vmware-govmomi-dev prometheus
clang libclang-rt-14-dev valgrind clang-format curl wrk procps openssl python3 git gzip locales
libcrypt-dev apache2-utils"}
# the package and its checks (make deb, test_package), the alerting end-to-end test
[ -n "${VIMON_DEPS_PKGS:-}" ] || PKGS="$PKGS debhelper dpkg-dev lintian mandoc systemd prometheus-alertmanager"
# vimonctl's and remediation's tests read JSON with jq; vimonctl's man page is checked with
# mandoc -T lint
[ -n "${VIMON_DEPS_PKGS:-}" ] || PKGS="$PKGS jq mandoc"
# the on-call page's browser tests (test_page.sh) and make screenshot
[ -n "${VIMON_DEPS_PKGS:-}" ] || PKGS="$PKGS chromium chromium-driver python3-selenium"
# check_vsphere in a real Nagios (test_nagios.sh)
[ -n "${VIMON_DEPS_PKGS:-}" ] || PKGS="$PKGS nagios4"

status=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' $PKGS 2>/dev/null || true)
missing=
for p in $PKGS; do
	echo "$status" | grep -q "^$p ii" || missing="$missing $p"
done
missing=$(echo $missing)
[ -z "$missing" ] && exit 0

line="apt-get install -y --no-install-recommends $missing"
if [ "$(id -u)" != 0 ]; then
	echo "vimon: missing build/test dependencies; as root run:" >&2
	echo "  apt-get update && $line" >&2
	exit 1
fi
echo "vimon: installing dependencies: $missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# prometheus and nagios4 would start services on install; they are only tools here.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.vimon
if [ ! -e /usr/sbin/policy-rc.d ]; then
	cp /usr/sbin/policy-rc.d.vimon /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
rm -f /usr/sbin/policy-rc.d.vimon
apt-get install -y -qq --no-install-recommends $missing
