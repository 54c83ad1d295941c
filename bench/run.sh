#!/usr/bin/env bash
# Benchmark: a whole run with both vantages on the network lab — the certificate chain from the
# fake API server, the local probe, the probe pod (the fake kubelet runs the release binary as
# the probe image in the lab's cluster namespace), the report — against the probe's own time.
#
#   bench/run.sh (as root) [SCENARIO] [ATTEMPTS]     # default: healthy 20
#
# Measures with hyperfine, in the lab's client namespace (the user's machine):
#   whole run     kubectl-acmecheck web -n shop -o json --attempts N   (both vantages)
#   local only    … --local-only
#   no probe      … --no-probe   (chain + report)
#   probe alone   kubectl-acmecheck probe --plan <the pod's own plan>   (in the cluster namespace)
# and prints "whole run − probe alone" (the target: ≤ 1.5 s) and the API requests of one run
# for one certificate, from the fake API server's request log (the target: ≤ 16).
# Needs root (network namespaces), hyperfine and python3.
source "$(dirname "$0")/lib.sh"
bench_need_root bench/run.sh
bench_need hyperfine python3
scenario=${1:-healthy}
attempts=${2:-20}

bench_build lab
IMAGE=lab.example.test/kubectl-acmecheck:bench
bench_probe_image
# Lab + fake API server + kubelet; they live until the script ends.
bench_lab_up "$scenario" --api --kubelet-image "$IMAGE=$work/probe-image"
echo "lab: $scenario ($attempts attempts per address and vantage)"
sed -n 's/^# /  /p' "$work/lab.out"

run=(ip netns exec "$client" env "ACMECHECK_PROBE_IMAGE=$IMAGE" "$BIN" web -n shop -o json
  --attempts "$attempts" --kubeconfig "$kubeconfig")

bench_requests
set +e
"${run[@]}" >"$work/report.json"
code=$?
set -e
[ "$code" -le 1 ] || { echo "kubectl-acmecheck exited $code" >&2; exit 1; }
bench_requests
echo
echo "== API requests for one certificate (both vantages; discovery excluded)"
awk '/^requests=/{n++} n==2' "$work/lab.out" | sed 's/^# /  /'
python3 - "$work/report.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
ic = r.get("inCluster", {})
print(f"  probe pod: {ic.get('state')} in {ic.get('placement', {}).get('namespace')}")
for c in r["certificates"][0]["challenges"]:
    for side, v in c["vantages"].items():
        if isinstance(v, dict):
            for a in v.get("addresses", []):
                print(f"  {side:9} {a['address']}: {a['certManagerPasses']}/{a['attempts']} pass the self check")
EOF
[ -s "$work/plan.json" ] || { echo "the probe pod did not run" >&2; exit 1; }

echo
echo "== wall time"
hyperfine -N --warmup 1 --runs 10 -i --export-json "$work/times.json" \
  -n "whole run (chain + both vantages + report)" "${run[*]}" \
  -n "local only" "${run[*]} --local-only" \
  -n "no probe (chain + report)" "${run[*]} --no-probe" \
  -n "probe alone (the pod's plan, cluster namespace)" \
  "ip netns exec $cluster $BIN probe --plan $work/plan.json"
python3 - "$work/times.json" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
whole = r["whole run (chain + both vantages + report)"]["mean"]
probe = r["probe alone (the pod's plan, cluster namespace)"]["mean"]
print(f"whole run {whole:.3f} s − probe alone {probe:.3f} s = {whole - probe:.3f} s of chain, pod lifecycle and report (target ≤ 1.5 s)")
EOF
