#!/bin/sh
# make deb: builds vimon_VERSION_ARCH.deb with dpkg-buildpackage from a copy of the
# tree (tracked and new files, not build/), so the tree is not touched, and leaves the
# .deb (with its .buildinfo and .changes) in OUT. Prints the path of the .deb.
# Env: JOBS (parallel jobs, default 2).
set -eu
cd "$(dirname "$0")/.."
TOP=$(pwd)
OUT=${1:-$TOP/build/deb}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vimon-deb.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

VERSION=$(sed -n 's/^VERSION := //p' Makefile)
CHANGELOG_VERSION=$(dpkg-parsechangelog -S Version)
if [ "$VERSION" != "$CHANGELOG_VERSION" ]; then
	echo "deb: Makefile VERSION $VERSION differs from debian/changelog $CHANGELOG_VERSION" >&2
	exit 1
fi
VIMON_REVISION=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
export VIMON_REVISION

# The files of the tree (committed or not, ignored ones left out).
mkdir "$WORK/vimon-$VERSION"
if git rev-parse --git-dir >/dev/null 2>&1; then
	git ls-files -co --exclude-standard | while IFS= read -r f; do
		if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\n' "$f"; fi
	done | tar --verbatim-files-from -T - -cf - | tar -xf - -C "$WORK/vimon-$VERSION"
else
	tar --exclude=./build --exclude='./build-*' -cf - . | tar -xf - -C "$WORK/vimon-$VERSION"
fi
cd "$WORK/vimon-$VERSION"
dpkg-buildpackage -b -us -uc -j"${JOBS:-2}" >"$WORK/build.log" 2>&1 || {
	tail -40 "$WORK/build.log" >&2
	echo "deb: dpkg-buildpackage failed (log above)" >&2
	exit 1
}
cd "$WORK"
for f in vimon_"$VERSION"_*.deb vimon_"$VERSION"_*.buildinfo vimon_"$VERSION"_*.changes \
	vimon-dbgsym_"$VERSION"_*.deb; do
	[ -e "$f" ] && mv "$f" "$OUT/"
done
ls "$OUT"/vimon_"$VERSION"_*.deb
