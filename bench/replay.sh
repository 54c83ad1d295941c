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
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench/replay.sh needs root (network namespaces)" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "install hyperfine (apt-get install hyperfine)" >&2; exit 2; }
scenario=${1:-replay-founding-incident}
attempts=${2:-20}

cargo build --release -q --bin kubectl-acmecheck
cargo build --release -q -p acmecheck-testkit --bin lab
BIN=$PWD/target/release/kubectl-acmecheck
IMAGE=lab.example.test/kubectl-acmecheck:bench
work=$(mktemp -d)
trap 'exec 3>&- ; wait 2>/dev/null; rm -rf "$work"' EXIT

# The probe image: the release binary, remembering the plan it was given (--plan-json JSON).
cat >"$work/probe-image" <<EOF
#!/bin/sh
[ "\$1 \$2" = "probe --plan-json" ] && printf '%s' "\$3" >"$work/plan.json"
exec "$BIN" "\$@"
EOF
chmod +x "$work/probe-image"

# Lab + fake API server + kubelet (the acmesolver stand-in too); they live until fd 3 closes.
mkfifo "$work/in"
target/release/lab up "$scenario" --api --kubelet-image "$IMAGE=$work/probe-image" <"$work/in" >"$work/lab.out" 2>"$work/lab.err" &
exec 3>"$work/in"
for _ in $(seq 300); do grep -q '^ready' "$work/lab.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$work/lab.out" || { cat "$work/lab.out" "$work/lab.err" >&2; exit 1; }
client=$(sed -n 's/^client=//p' "$work/lab.out")
cluster=$(sed -n 's/^cluster=//p' "$work/lab.out")
kubeconfig=$(sed -n 's/^kubeconfig=//p' "$work/lab.out")
echo "lab: $scenario ($attempts attempts per address and vantage)"
sed -n 's/^# /  /p' "$work/lab.out"

base=(ip netns exec "$client" env "ACMECHECK_PROBE_IMAGE=$IMAGE" "$BIN" web -n shop -o json
  --kubeconfig "$kubeconfig")
replay=("${base[@]}" --replay --attempts "$attempts")

# The API requests of one run (the lab prints and forgets them on `requests`).
requests() {
  local before
  before=$(grep -c '^requests=' "$work/lab.out" || true)
  echo requests >&3
  for _ in $(seq 100); do
    [ "$(grep -c '^requests=' "$work/lab.out" || true)" -gt "$before" ] && return
    sleep 0.05
  done
  echo "the lab did not answer 'requests'" >&2; exit 1
}
requests
set +e
"${replay[@]}" >"$work/report.json"
code=$?
set -e
[ "$code" -le 1 ] || { echo "kubectl-acmecheck exited $code" >&2; exit 1; }
requests
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
