#!/usr/bin/env bash
# Benchmark: one replay on the network lab — the chain from the fake API server, the stand-in
# solver (created, ready, its route served, its status read, deleted), both vantages' probes of
# it, the report — against the probe's own time, and the API requests of one replay.
#
#   sudo bench/replay.sh [SCENARIO] [ATTEMPTS]   # default: replay-founding-incident 20
#
# Measures with hyperfine, in the lab's client namespace (the user's machine):
#   replay        kubectl-acmecheck web -n shop --replay -o json --attempts N   (both vantages)
#   no replay     kubectl-acmecheck web -n shop -o json   (chain, the failed challenge's URL probed,
#                 the hint, report)
#   probe alone   kubectl-acmecheck probe --plan <the probe pod's plan of the last replay>
#                 (in the cluster namespace)
# and prints "replay − probe alone": what replay costs beyond probing (chain, stand-in
# lifecycle, probe pod lifecycle, report). The plan replayed alone is the last run's: its
# stand-in is gone by then, so its token gets 404 and the stand-in's own addresses refuse —
# the same connections to the same addresses, so about the same time. The fake kubelet starts a
# pod after 100 ms (a real cluster takes seconds more to pull and start the acmesolver image).
# Needs root (network namespaces), hyperfine and python3.
source "$(dirname "$0")/lib.sh"
bench_need_root bench/replay.sh
bench_need hyperfine python3
scenario=${1:-replay-founding-incident}
attempts=${2:-20}

bench_build lab
IMAGE=lab.example.test/kubectl-acmecheck:bench
bench_probe_image
# Lab + fake API server + kubelet (the acmesolver stand-in too); they live until the script ends.
bench_lab_up "$scenario" --api --kubelet-image "$IMAGE=$work/probe-image"
echo "lab: $scenario ($attempts attempts per address and vantage)"
sed -n 's/^# /  /p' "$work/lab.out"

base=(ip netns exec "$client" env "ACMECHECK_PROBE_IMAGE=$IMAGE" "$BIN" web -n shop -o json
  --kubeconfig "$kubeconfig")
replay=("${base[@]}" --replay --attempts "$attempts")

bench_requests
set +e
"${replay[@]}" >"$work/report.json"
code=$?
set -e
[ "$code" -le 1 ] || { echo "kubectl-acmecheck exited $code" >&2; exit 1; }
bench_requests
echo
echo "== API requests of one replay (one certificate, one name, both vantages; discovery excluded)"
awk '/^requests=/{n++} n==2' "$work/lab.out" | sed 's/^# /  /'
python3 - "$work/report.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
c = r["certificates"][0]
rp = c.get("replay", {})
print(f"  replay: {rp.get('state')}; route: {rp.get('propagation', {}).get('detail')}")
f = [x for x in c["findings"] if x["severity"] == "error"]
print(f"  first error finding: {f[0]['code'] if f else None}")
EOF
[ -s "$work/plan.json" ] || { echo "the probe pod did not run" >&2; exit 1; }

echo
echo "== wall time"
hyperfine -N --warmup 1 --runs 10 -i --export-json "$work/times.json" \
  -n "replay (chain + stand-in + both vantages + report)" "${replay[*]}" \
  -n "no replay (chain + failed URL probed + hint + report)" "${base[*]}" \
  -n "probe alone (the pod's plan, cluster namespace)" \
  "ip netns exec $cluster $BIN probe --plan $work/plan.json"
python3 - "$work/times.json" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
whole = r["replay (chain + stand-in + both vantages + report)"]["mean"]
probe = r["probe alone (the pod's plan, cluster namespace)"]["mean"]
print(f"replay {whole:.3f} s − probe alone {probe:.3f} s = {whole - probe:.3f} s of chain, stand-in and probe pod lifecycles and report")
EOF
