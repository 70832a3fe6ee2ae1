#!/bin/sh
# make lint: banned functions, the include rules of STYLE.md, clang-format.
set -u
cd "$(dirname "$0")/.."
status=0
SRC=$(git ls-files -co --exclude-standard -- 'util/*.[ch]' 'vi/*.[ch]' 'collectors/*.[ch]' \
	'agent/*.[ch]' 'ctl/*.[ch]' 'plugins/*.[ch]' 'bench/*.[ch]' 'tests/*.[ch]' | while read -r f; do
	[ -f "$f" ] && echo "$f"; done)
PRODUCT=$(echo "$SRC" | grep -Ev '^(tests|bench)/')

complain() { echo "lint: $*"; status=1; }

# Banned functions (unbounded or locale/thread-unsafe).
for f in $SRC; do
	grep -nE '(^|[^_a-z0-9.>])(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|atoi|atol|gets|gmtime|localtime|ctime|asctime)[[:space:]]*\(' "$f" |
		while IFS= read -r l; do echo "lint: $f:$l: banned function"; done
done | grep . && status=1

# Include rules: which file may include which library.
only() { # header regex, allowed file regex
	for f in $PRODUCT; do
		echo "$f" | grep -Eq "$2" && continue
		grep -nE "#[[:space:]]*include[[:space:]]*<$1" "$f" | while IFS= read -r l; do
			echo "lint: $f:$l: only $2 may include <$1>"
		done
	done
}
{
	only 'curl/' '^vi/http\.c$'
	only 'libxml/' '^vi/'
	only 'libconfig\.h' '^agent/conf\.c$'
	only 'microhttpd\.h' '^agent/http\.c$'
} | grep . && status=1

# Dependency direction: util <- vi <- collectors <- agent; plugins use util, vi.
for f in $PRODUCT; do
	case "$f" in
	util/*) bad='"(vi|collectors|agent|plugins)/' ;;
	vi/*) bad='"(collectors|agent|plugins)/' ;;
	collectors/*) bad='"(agent|plugins)/' ;;
	# vimonctl: the configuration reader and JSON strings, never the collection internals
	ctl/*) bad='"(collectors|plugins)/|"agent/(target|inventory|snapshot|http|api|metrics|selfmetrics)\.h' ;;
	*) continue ;;
	esac
	grep -nE "#[[:space:]]*include[[:space:]]*$bad" "$f" | while IFS= read -r l; do
		echo "lint: $f:$l: include against the dependency direction"
	done
done | grep . && status=1

# Formatting.
if command -v clang-format >/dev/null 2>&1; then
	for f in $SRC; do
		clang-format --dry-run -Werror "$f" 2>&1 | head -3
	done | grep . && status=1
fi
exit $status
