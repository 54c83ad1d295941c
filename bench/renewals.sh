#!/usr/bin/env bash
# Benchmark: `kubectl acmecheck renewals -A` over a big cluster on the network lab — 500 Ready
# Certificates in 50 namespaces whose names resolve to 3 edge addresses (each → ingress-nginx),
# from the fake API server, both vantages (the fake kubelet runs the probe pod), the read-only
# screen; with --replay, the same cluster checked through shared stand-ins (the fake kubelet
# runs the plugin in solver mode on the lab's solver address; ingress-nginx routes any token
# there): scenario renewals-replay-bench.
#
#   sudo bench/renewals.sh [RUNS] [--replay]     # default: 3 runs, the screen
#
# Prints, against the targets of issue 13:
#   wall time            hyperfine over RUNS runs                          (target ≤ 60 s)
#   objects created      POSTs the run sent to the API server              (target ≤ 100)
#   connections/address  the run's own count per address and vantage (from its probe reports),
#                        and the cap (--max-connections-per-address, default 1000)
#                                                                          (target ≤ the cap)
#   API requests         every non-discovery request of one run            (one list per kind,
#                                                                          whatever the number
#                                                                          of Certificates)
#   peak memory          max RSS of the CLI and of the pods' processes (GNU time; with --replay
#                        the shared stand-in runs the same image)
#                                                                          (target ≤ 200 MB)
# Needs root (network namespaces), hyperfine, python3 and GNU time (/usr/bin/time).
source "$(dirname "$0")/lib.sh"
bench_need_root bench/renewals.sh
bench_need hyperfine python3
[ -x /usr/bin/time ] || { echo "install GNU time (apt-get install time)" >&2; exit 2; }
runs=3
mode=()
scenario=renewals-bench
for a in "$@"; do
  case $a in
    --replay) mode=(--replay); scenario=renewals-replay-bench ;;
    *) runs=$a ;;
  esac
done

bench_build lab
IMAGE=lab.example.test/kubectl-acmecheck:bench

# The probe image: the release binary under GNU time (its peak RSS in KiB, one line per run).
printf '#!/bin/sh\nexec /usr/bin/time -a -o "%s" -f "%%M" "%s" "$@"\n' "$work/pod-rss" "$BIN" \
  >"$work/probe-image"
chmod +x "$work/probe-image"

bench_lab_up "$scenario" --api --kubelet-image "$IMAGE=$work/probe-image"
echo "lab: $scenario"

run=(ip netns exec "$client" env "ACMECHECK_PROBE_IMAGE=$IMAGE" "$BIN" renewals -A -o json
  --kubeconfig "$kubeconfig" "${mode[@]}")

bench_requests
: >"$work/pod-rss"
set +e
/usr/bin/time -o "$work/cli-rss" -f "%M %e" "${run[@]}" >"$work/report.json" 2>"$work/stderr"
code=$?
set -e
[ "$code" -le 1 ] || { cat "$work/stderr" >&2; echo "kubectl-acmecheck exited $code" >&2; exit 1; }
bench_requests
awk '/^requests=/{n++} n==2' "$work/lab.out" | grep '^# ' | sed 's/^# //' >"$work/requests" || true

echo
echo "== one run (exit $code)"
python3 - "$work/report.json" "$work/requests" "$work/cli-rss" "$work/pod-rss" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
reqs = [l.strip() for l in open(sys.argv[2]) if l.strip()]
cli_kb, cli_s = open(sys.argv[3]).read().split()[-2:]
pod = [int(x) for x in open(sys.argv[4]).read().split() if x.strip().isdigit()]
s = r["summary"]
print(f"  {s['line']}  (mode {s['mode']}, in-cluster vantage: {r.get('inCluster', {}).get('state')})")
names = sum(len(c["names"]) for c in r["certificates"])
print(f"  names checked: {names}")
posts = [q for q in reqs if q.startswith("POST ")]
print(f"  objects created: {len(posts)} {posts}")
print(f"  API requests: {len(reqs)}")
for q in reqs:
    print(f"    {q}")
c = s["connections"]
cap = c["capPerAddress"]
for side in ("local", "inCluster"):
    per = c[side]
    top = sorted(per.items(), key=lambda kv: -kv[1])
    print(f"  connections ({side}): {len(per)} addresses, at most {top[0][1] if top else 0} per address (cap {cap}): "
          + ", ".join(f"{a} {n}" for a, n in top[:8]))
    assert all(n <= cap for n in per.values()), f"over the cap: {top[:3]}"
wait = c.get("replayWait", {})
if wait:
    both = {a: n + c["local"].get(a, 0) for a, n in wait.items()}
    top = sorted(both.items(), key=lambda kv: -kv[1])
    print(f"  replay wait (this machine, before probing): {sum(wait.values())} requests over {len(wait)} addresses: "
          + ", ".join(f"{a} {n}" for a, n in sorted(wait.items())))
    print(f"  this machine, wait + probes: at most {top[0][1]} per address (cap {cap} on the probes)")
print(f"  peak memory: CLI {int(cli_kb) / 1024:.1f} MiB (wall {cli_s} s), largest pod process (probe pod, stand-in) {max(pod) / 1024 if pod else 0:.1f} MiB")
PY

echo
echo "== wall time"
hyperfine -N --runs "$runs" -i --export-json "$work/times.json" "${run[*]}"
python3 - "$work/times.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"  exit codes of the timed runs: {r.get('exit_codes')}")
PY

echo
echo "== each of $runs more runs: exit code and count line"
for _ in $(seq "$runs"); do
  set +e
  "${run[@]}" >"$work/again.json" 2>/dev/null
  c=$?
  set -e
  python3 bench/renewals_summary.py "$work/again.json" "$c"
done
