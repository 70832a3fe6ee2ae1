#!/bin/sh
# Integration: the Debian package (make deb) and make install. Builds the package once
# from a copy of the tree, runs lintian, compares its contents with the set expected from
# the tree (optional programs, man pages and data files counted when their sources
# exist), checks the systemd units as installed (systemd-analyze verify and security
# --offline=true, exposure 2.0 or lower), the maintainer scripts (sh -n, shellcheck when
# present), the man pages (mandoc -T lint, every option and key documented) and the
# packaged configuration (accepted, no targets).
set -u
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
W=$VIMON_TEST_TMP/package.$$
mkdir -p "$W"
cd "$TOP" || exit 1

for tool in dpkg-buildpackage dh lintian mandoc makewhatis systemd-analyze python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		not_ok "$tool is installed (scripts/deps.sh installs it)"
		done_testing
	fi
done
VERSION=$(sed -n 's/^VERSION := //p' Makefile)
ARCH=$(dpkg --print-architecture)

# ------------------------------------------------------------------------------------------
# Build (once), without touching the tree
before=$(git status --porcelain 2>/dev/null | md5sum)
t0=$(date +%s%N)
if JOBS=2 sh scripts/deb.sh "$W/deb" >"$W/deb.out" 2>"$W/deb.err"; then
	ms=$((($(date +%s%N) - t0) / 1000000))
	ok "make deb builds the package in ${ms} ms"
else
	not_ok "make deb builds the package: $(tail -20 "$W/deb.err")"
	done_testing
fi
DEB=$W/deb/vimon_${VERSION}_$ARCH.deb
is "$(cat "$W/deb.out")" "$DEB" "the package is vimon_VERSION_ARCH.deb ($(basename "$DEB"))"
is "$(git status --porcelain 2>/dev/null | md5sum)" "$before" "building the package leaves the tree as it was"
check "nothing of the build is left in debian/" test ! -e debian/build -a ! -e debian/vimon -a ! -e debian/files

# ------------------------------------------------------------------------------------------
# lintian: no error, no warning (kept ones are overridden with a reason in debian/)
lintian --fail-on error \
	"$DEB" >"$W/lintian.out" 2>&1
rc=$?
grep -v 'running with root privileges' "$W/lintian.out" >"$W/lintian.tags"
is "$rc" 0 "lintian reports no error"
is "$(grep -E '^[EW]: ' "$W/lintian.tags")" "" "lintian reports no warning"

# ------------------------------------------------------------------------------------------
# Contents against what the tree says the package holds
dpkg-deb -f "$DEB" Depends >"$W/depends"
like "$(cat "$W/depends")" 'libcurl4.*libmicrohttpd' "Depends comes from shlibs (libcurl4, libmicrohttpd, ...)"
like "$(dpkg-deb -f "$DEB" Package Version Architecture | tr '\n' ' ')" \
	"^Package: vimon Version: $VERSION Architecture: $ARCH " "control: package vimon $VERSION $ARCH"
dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ {print $NF}' | sed 's|^\./|/|' |
	sed -E 's#^(/usr/share/(doc|man)/.*)\.gz$#\1#' | sort >"$W/got"
{
	echo /usr/bin/vimon
	ls ctl/*.c >/dev/null 2>&1 && echo /usr/bin/vimonctl
	for f in plugins/check_*.c; do
		[ -f "$f" ] && echo "/usr/lib/nagios/plugins/$(basename "$f" .c)"
	done
	echo /etc/vimon/vimon.conf
	echo /lib/systemd/system/vimon.service
	echo /lib/systemd/system/vimon@.service
	echo /usr/lib/sysusers.d/vimon.conf
	echo /usr/lib/tmpfiles.d/vimon.conf
	echo /usr/share/man/man5/vimon.conf.5
	for f in packaging/man/*.[1-8]; do
		[ -f "$f" ] && echo "/usr/share/man/man${f##*.}/$(basename "$f")"
	done
	for f in packaging/prometheus/vimon-alerts.yml packaging/grafana/*.json packaging/nagios/*.cfg; do
		[ -f "$f" ] && echo "/usr/share/vimon/$(basename "$(dirname "$f")")/$(basename "$f")"
	done
	echo /usr/share/doc/vimon/README.md
	for f in docs/*.md; do
		echo "/usr/share/doc/vimon/docs/$(basename "$f")"
	done
	echo /usr/share/doc/vimon/examples/vimon.conf.example
	echo /usr/share/doc/vimon/changelog
	echo /usr/share/doc/vimon/copyright
} | sort >"$W/want"
if diff "$W/want" "$W/got" >"$W/contents.diff"; then
	ok "the package holds exactly the expected $(wc -l <"$W/want") files"
else
	not_ok "the package holds exactly the expected files (- missing, + unexpected)"
	sed 's/^/# /' "$W/contents.diff"
fi
is "$(dpkg-deb -I "$DEB" conffiles 2>/dev/null)" "/etc/vimon/vimon.conf" "/etc/vimon/vimon.conf is the only conffile"

X=$W/root
mkdir -p "$X"
dpkg-deb -x "$DEB" "$X"
dpkg-deb -e "$DEB" "$W/control"
ldd "$X/usr/bin/vimon" >"$W/ldd" 2>&1
check "the packaged vimon has all its libraries" test -z "$(grep 'not found' "$W/ldd")"
like "$("$X/usr/bin/vimon" --version)" "^vimon $VERSION\$" "the packaged vimon runs and says $VERSION"
out=$("$X/usr/bin/vimon" --check-config -c "$X/etc/vimon/vimon.conf" 2>&1)
is "$?:$out" "0:$X/etc/vimon/vimon.conf: ok (0 targets, listen 0.0.0.0:9743)" \
	"the packaged vimon.conf is valid and has no targets"
# The packaged agent runs its packaged configuration (no targets) and says which commit
# it was built from.
port=$(free_port)
"$X/usr/bin/vimon" -c "$X/etc/vimon/vimon.conf" --listen "127.0.0.1:$port" 2>"$W/agent.log" &
apid=$!
echo "$apid" >>"$VIMON_TEST_PIDS"
i=0
while ! grep -q 'listening on' "$W/agent.log" && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
curl -sS "http://127.0.0.1:$port/metrics" >"$W/metrics" 2>&1
kill -TERM "$apid" 2>/dev/null
wait "$apid"
is "$?" 0 "the packaged agent with the packaged configuration runs and stops cleanly"
rev=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
like "$(grep '^vimon_build_info' "$W/metrics")" "^vimon_build_info\\{version=\"$VERSION\",revision=\"$rev\"\\} 1\$" \
	"the packaged vimon_build_info names the version and the commit built ($rev)"
is "$(grep -c '^vsphere_' "$W/metrics")" 0 "with no targets it serves no vsphere_ series"
like "$(cat "$X/usr/lib/sysusers.d/vimon.conf")" '^u vimon - ' "sysusers.d creates the vimon system user"
like "$(cat "$X/usr/lib/tmpfiles.d/vimon.conf")" 'd /var/lib/vimon 0750 vimon vimon' "tmpfiles.d creates /var/lib/vimon for vimon"
like "$(cat "$X/usr/lib/tmpfiles.d/vimon.conf")" 'd /etc/vimon 0750 root vimon' "tmpfiles.d lets group vimon (only) read /etc/vimon"

# ------------------------------------------------------------------------------------------
# Maintainer scripts
n=0
for s in preinst postinst prerm postrm; do
	[ -f "$W/control/$s" ] || continue
	n=$((n + 1))
	check "$s: sh -n" sh -n "$W/control/$s"
	if command -v shellcheck >/dev/null 2>&1; then
		if shellcheck -s sh "$W/control/$s" >"$W/sc.out" 2>&1; then
			ok "$s: shellcheck"
		else
			not_ok "$s: shellcheck: $(head -20 "$W/sc.out")"
		fi
	else
		skip "$s: shellcheck" "shellcheck is not installed"
	fi
done
check "the package has maintainer scripts ($n)" test "$n" -ge 2
sysusers_line=$(grep -n 'systemd-sysusers' "$W/control/postinst" | head -1 | cut -d: -f1)
tmpfiles_line=$(grep -n 'systemd-tmpfiles' "$W/control/postinst" | head -1 | cut -d: -f1)
check "postinst creates the user (line ${sysusers_line:-none}) before its directories (line ${tmpfiles_line:-none})" \
	test -n "$sysusers_line" -a -n "$tmpfiles_line" -a "${sysusers_line:-0}" -lt "${tmpfiles_line:-0}"

# ------------------------------------------------------------------------------------------
# systemd units as installed (paths relocated into the extracted tree, man pages from it)
mkdir -p "$W/units"
for u in vimon.service vimon@.service; do
	sed "s|/usr/bin/|$X/usr/bin/|g" "$X/lib/systemd/system/$u" >"$W/units/$u"
done
ln -s vimon@.service "$W/units/vimon@east.service"
for u in vimon.service vimon@east.service; do
	if MANPATH=$X/usr/share/man systemd-analyze verify "$W/units/$u" >"$W/verify.out" 2>&1; then
		ok "systemd-analyze verify $u: clean"
	else
		not_ok "systemd-analyze verify $u: $(cat "$W/verify.out")"
	fi
	systemd-analyze security --offline=true "$W/units/$u" >"$W/security.out" 2>&1
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' "$W/security.out")
	check "systemd-analyze security $u: exposure ${score:-?} <= 2.0" \
		awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.0) }'
done
like "$(grep '^ExecStart=' "$X/lib/systemd/system/vimon@.service")" '^ExecStart=/usr/bin/vimon -c /etc/vimon/%i.conf$' \
	"vimon@NAME runs /etc/vimon/NAME.conf"
for k in 'User=vimon' 'ProtectSystem=strict' 'StateDirectory=vimon' 'ConfigurationDirectory=vimon' \
	'UMask=0077' 'LimitCORE=0' 'CapabilityBoundingSet=' 'PrivateTmp=yes' 'PrivateDevices=yes' \
	'ProtectHome=yes' 'ProtectKernelTunables=yes' 'SystemCallFilter=@system-service'; do
	check "vimon.service has $k" grep -qx "$k" "$X/lib/systemd/system/vimon.service"
done

# ------------------------------------------------------------------------------------------
# Man pages: lint clean, every option of --help and every key of the example documented
M=$W/man
for f in "$X"/usr/share/man/man*/*.gz; do
	d=$M/$(basename "$(dirname "$f")")
	mkdir -p "$d"
	gzip -dc "$f" >"$d/$(basename "$f" .gz)"
done
makewhatis "$M" 2>/dev/null
mandoc -T lint -W style -M "$M" "$M"/man*/* >"$W/mandoc.out" 2>&1
is "$(cat "$W/mandoc.out")" "" "mandoc -T lint reports nothing on $(ls "$M"/man*/* | wc -l) man pages"
missing=
for o in $("$X/usr/bin/vimon" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
	grep -q "^\.It .*Fl -${o#--}\b\|^\.Fl -${o#--}\$" "$M/man8/vimon.8" || missing="$missing $o"
done
is "$missing" "" "vimon(8) documents every long option of vimon --help"
missing=
for k in $(sed -n 's/^[[:space:]]*#\{0,1\}[[:space:]]*\([a-z_][a-z0-9_]*\)[[:space:]]*=.*[;({][[:space:]]*$/\1/p' \
	config/vimon.conf.example | sort -u); do
	grep -q "^\.It Cm $k\$" "$M/man5/vimon.conf.5" || missing="$missing $k"
done
is "$missing" "" "vimon.conf(5) documents every key of config/vimon.conf.example"
like "$(grep -A3 '^\.It Cm thumbprint$' "$M/man5/vimon.conf.5")" 'SHA-256' \
	"vimon.conf(5) carries the example's text for a key"

# ------------------------------------------------------------------------------------------
# make install without the package: PREFIX and DESTDIR
D=$W/destdir
# (reuses the build of make check when there is one)
if make -s install BUILD="${VIMON_BUILD:-$W/build}" PREFIX=/usr/local DESTDIR="$D" >"$W/install.out" 2>&1; then
	ok "make install PREFIX=/usr/local DESTDIR=... works"
else
	not_ok "make install PREFIX=/usr/local DESTDIR=...: $(tail -10 "$W/install.out")"
fi
check "make install: /usr/local/bin/vimon" test -x "$D/usr/local/bin/vimon"
like "$(grep '^ExecStart=' "$D/usr/local/lib/systemd/system/vimon.service")" \
	'^ExecStart=/usr/local/bin/vimon -c /etc/vimon/vimon.conf$' "make install: the unit runs \$PREFIX/bin/vimon"
check "make install: man pages" test -f "$D/usr/local/share/man/man8/vimon.8" -a -f "$D/usr/local/share/man/man5/vimon.conf.5"
check "make install: sysusers.d and tmpfiles.d" test -f "$D/usr/local/lib/sysusers.d/vimon.conf" -a -f "$D/usr/local/lib/tmpfiles.d/vimon.conf"
check "make install: alert rules" test -f "$D/usr/local/share/vimon/prometheus/vimon-alerts.yml"
check "make install touches nothing outside DESTDIR's PREFIX" test -z "$(cd "$D" && find . -type f ! -path './usr/local/*')"
done_testing
