#!/bin/sh
# The test runner behind `make check`: builds (normal, ASan/UBSan, fuzz),
# runs unit tests (plain, under valgrind, under sanitizers), integration
# tests against tests/sim, packaging checks and short fuzz runs, then prints
# one summary line "N passed, N failed". Everything it starts is stopped on
# exit, on failure and on interruption.
set -u
cd "$(dirname "$0")/.."
TOP=$(pwd)

JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
export VIMON_TEST_TMP=$(mktemp -d /tmp/vimon-test.XXXXXX)
export VIMON_TEST_PIDS="$VIMON_TEST_TMP/pids"
: >"$VIMON_TEST_PIDS"
LOG="$VIMON_TEST_TMP/log"
passed=0
failed=0
skipped=0
failures=""

cleanup() {
	if [ -s "$VIMON_TEST_PIDS" ]; then
		# every process a test started (simulators, agents) and its children
		for pid in $(cat "$VIMON_TEST_PIDS"); do
			kill -TERM "$pid" 2>/dev/null
		done
		sleep 0.3
		for pid in $(cat "$VIMON_TEST_PIDS"); do
			kill -KILL "$pid" 2>/dev/null
		done
	fi
	rm -rf "$VIMON_TEST_TMP"
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM HUP

# count_tap NAME FILE EXIT: counts TAP "ok"/"not ok" lines of one test program.
count_tap() {
	name=$1 file=$2 rc=$3
	# cmocka 1.1 writes a skipped test as "not ok N # SKIP"
	ok=$(grep '^ok ' "$file" | grep -vc '# SKIP')
	skip=$(grep -E '^(not )?ok .*# SKIP' "$file" | grep -c .)
	nok=$(grep '^not ok ' "$file" | grep -vc '# SKIP')
	passed=$((passed + ok))
	skipped=$((skipped + skip))
	failed=$((failed + nok))
	if [ "$nok" -gt 0 ]; then
		failures="$failures
  $name: $(grep '^not ok ' "$file" | grep -v '# SKIP' | head -5 | tr '\n' ';')"
	fi
	if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then
		failed=$((failed + 1))
		failures="$failures
  $name: exited with status $rc"
	fi
	if [ "$ok" -eq 0 ] && [ "$skip" -eq 0 ] && [ "$nok" -eq 0 ] && [ "$rc" -eq 0 ]; then
		failed=$((failed + 1))
		failures="$failures
  $name: ran no test"
	fi
}

# one NAME COMMAND...: a check that counts as one test.
one() {
	name=$1
	shift
	if "$@" >"$LOG" 2>&1; then
		passed=$((passed + 1))
		echo "ok - $name"
	else
		failed=$((failed + 1))
		echo "not ok - $name"
		sed 's/^/    /' "$LOG" | tail -30
		failures="$failures
  $name"
	fi
}

section() { printf '\n== %s\n' "$1"; }

section "build"
SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
if ! make -s -j"$JOBS" tests >"$LOG" 2>&1; then
	cat "$LOG"
	echo "0 passed, 1 failed"
	exit 1
fi
if ! make -s -j"$JOBS" BUILD=build-asan SAN="$SANFLAGS" OPTIMIZATION=-O1 tests >"$LOG" 2>&1; then
	cat "$LOG"
	echo "0 passed, 1 failed"
	exit 1
fi
if ! make -s -j"$JOBS" fuzz >"$LOG" 2>&1; then
	cat "$LOG"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "built build/, build-asan/ and build-fuzz/"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=98
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=97
export CMOCKA_MESSAGE_OUTPUT=TAP
export VIMON_FIXTURES="$TOP/tests/fixtures"

section "lint"
one "make lint" make -s lint

section "packaging"
one "promtool check rules" promtool check rules packaging/prometheus/vimon-alerts.yml
one "promtool test rules" sh -c 'cd packaging/prometheus && promtool test rules vimon-alerts.test.yml'

section "unit tests"
for t in build/tests/test_*; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	out="$VIMON_TEST_TMP/$n.out"
	"$t" >"$out" 2>&1
	count_tap "$n" "$out" $?
	grep '^not ok ' "$out" | grep -v '# SKIP' | sed "s/^/[$n] /" || true
	asan="build-asan/tests/$n"
	"$asan" >"$out.asan" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures="$failures
  $n under ASan/UBSan: status $rc"
		tail -40 "$out.asan"
	fi
	valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		"$t" >"$out.vg" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures="$failures
  $n under valgrind: status $rc"
		tail -40 "$out.vg"
	fi
	echo "$n: $ok ok, $nok not ok, $skip skipped; asan, valgrind done"
done

section "integration tests"
export VIMON_BUILD="$TOP/build"
export VIMON_ASAN_BUILD="$TOP/build-asan"
export VIMON_SIM="$TOP/build/vimon-sim"
for t in tests/integration/test_*.sh; do
	[ -f "$t" ] || continue
	n=$(basename "$t" .sh)
	out="$VIMON_TEST_TMP/$n.out"
	timeout -k 5 600 sh "$t" >"$out" 2>&1
	rc=$?
	count_tap "$n" "$out" $rc
	echo "$n: $(grep -c '^ok ' "$out") ok, $(grep -c '^not ok ' "$out") not ok (status $rc)"
	if [ $rc -ne 0 ] || grep -q '^not ok ' "$out"; then
		sed 's/^/    /' "$out" | tail -60
	fi
done

section "fuzzing (${FUZZ_SECONDS}s each)"
for f in build-fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	n=$(basename "$f")
	corpus="$VIMON_TEST_TMP/corpus-$n"
	mkdir -p "$corpus"
	seeds="tests/fuzz/corpus/${n#fuzz_}"
	one "$n for ${FUZZ_SECONDS}s" "$f" -max_total_time="$FUZZ_SECONDS" -max_len=65536 \
		-timeout=10 -rss_limit_mb=1024 "$corpus" $( [ -d "$seeds" ] && echo "$seeds")
done

printf '\nfailures:%s\n' "${failures:- none}"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
