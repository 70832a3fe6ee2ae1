#!/bin/sh
# Benchmark of the on-call page with 100 pending questions (10 of them blocking a power-on):
# page weight (bytes, requests), time to first render in headless Chromium, and the size of
# the JSON the page polls, on a 100-VM and on a 10,000-VM inventory (the polled JSON must not
# grow with the inventory). Not a test: prints figures (kept in $BENCH_OUT/summary.txt).
# Env: BENCH_OUT (default build/bench/page), BENCH_PAGE_SMALL / BENCH_PAGE_BIG (simulator flags).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
. "$TOP/bench/lib.sh"
OUT=${BENCH_OUT:-$TOP/build/bench/page}
W=$OUT
mkdir -p "$OUT"
VIMON=$TOP/build/vimon
. "$TOP/tests/integration/agent_lib.sh"
SMALL=${BENCH_PAGE_SMALL:--dc 1 -cluster 1 -host 5 -standalone 0 -vm 20 -ds 1 -odd-names=false}
BIG=${BENCH_PAGE_BIG:--dc 1 -cluster 10 -host 50 -standalone 0 -vm 20 -ds 1 -odd-names=false}
NQ=100
NBLOCKED=10
make -s build/vimon build/vimon-sim || exit 1
printf 'pw\n' >"$OUT/pw"
printf 'bench-page-token-0123456789\n' >"$OUT/token"
chmod 600 "$OUT/pw" "$OUT/token"
: >"$OUT/summary.txt"

say() { echo "$*" | tee -a "$OUT/summary.txt"; }

# run NAME SIMFLAGS...
run() {
	name=$1
	shift
	sim_start "$@" || exit 1
	simctl GET /_sim/inventory >"$OUT/inv.json"
	nvms=$(py 'len(j["vms"])' <"$OUT/inv.json")
	# NQ VMs spread evenly over the inventory; the first NBLOCKED get a blocked power-on
	py "' '.join(v['moref'] for v in j['vms'][::max(1, len(j['vms']) // $NQ)][:$NQ])" <"$OUT/inv.json" >"$OUT/vms"
	i=0
	soap_login >/dev/null
	for vm in $(cat "$OUT/vms"); do
		simctl POST /_sim/question "{\"vm\":\"$vm\",\"id\":\"q-$vm\",\"message_ids\":[\"msg.uuid.altered\"],
			\"text\":\"msg.uuid.altered:This virtual machine might have been moved or copied.\\nIn order to configure certain management and networking features, VMware ESX needs to know if this virtual machine was moved or copied.\\n\\nIf you don't know, answer \\\"I Copied It\\\".\",
			\"choices\":[{\"key\":\"0\",\"label\":\"Cancel\",\"summary\":\"Cancel\"},{\"key\":\"1\",\"label\":\"I _Moved It\",\"summary\":\"I _Moved It\"},{\"key\":\"2\",\"label\":\"I _Copied It\",\"summary\":\"I _Copied It\"}],
			\"default\":2}" >/dev/null || exit 1
		if [ $i -lt $NBLOCKED ]; then
			simctl POST /_sim/vm/power "{\"vm\":\"$vm\",\"state\":\"poweredOff\"}" >/dev/null
			soap PowerOnVM_Task "<_this type=\"VirtualMachine\">$vm</_this>" >/dev/null
		fi
		i=$((i + 1))
	done
	cat >"$OUT/vimon.conf" <<EOC
listen = "127.0.0.1:0";
api_token_file = "$OUT/token";
remediation = { audit_log = "$OUT/audit.log"; state_file = "$OUT/remediation.state"; };
targets = ( { name = "vc1"; url = "$SIM_URL"; username = "u"; password_file = "$OUT/pw"; } );
EOC
	rm -f "$OUT/audit.log" "$OUT/remediation.state"
	agent_start "$OUT/vimon.conf" || exit 1
	i=0
	while :; do
		q=$(curl -s "$AGENT_URL/api/v1/questions" | py 'len(j)')
		b=$(curl -s "$AGENT_URL/api/v1/tasks" | py 'len([t for t in j if t["blocked"]])')
		[ "$q" = "$NQ" ] && [ "$b" = "$NBLOCKED" ] && break
		i=$((i + 1))
		[ $i -lt 1200 ] || { echo "bench: the agent shows $q questions, $b blocked tasks" >&2; exit 1; }
		sleep 0.1
	done
	say ""
	say "== $name: $nvms VMs, $q pending questions, $b blocked power-ons"
	best=
	for _ in 1 2 3 4 5; do
		t=$(curl -s -o "$OUT/$name.html" -w '%{time_total}' "$AGENT_URL/")
		best=$(printf '%s\n%s\n' "$best" "$t" | grep . | sort -n | head -n 1)
	done
	say "GET / (curl, best of 5): $(wc -c <"$OUT/$name.html") bytes in $(awk "BEGIN{printf \"%.1f\", $best * 1000}") ms"
	for p in /static/page.js /static/page.css /static/icon.svg /api/v1/targets /api/v1/questions /api/v1/tasks /api/v1/remediation; do
		say "GET $p: $(curl -s "$AGENT_URL$p" | wc -c) bytes"
	done
	/usr/bin/python3 "$TOP/tests/integration/page_browser.py" measure "$AGENT_URL/" >"$OUT/$name.browser" || exit 1
	sed 's/^/browser: /' "$OUT/$name.browser" | tee -a "$OUT/summary.txt"
	agent_stop
	sim_stop
}

run small $SMALL
run big $BIG
echo
echo "bench: figures in $OUT/summary.txt"
