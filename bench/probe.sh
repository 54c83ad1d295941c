#!/usr/bin/env bash
# Benchmark: the probe engine vs a sequential curl loop on the founding-incident lab (HAProxy
# round-robin between nginx and an envoy-style 404), 20 ms added to every backend response,
# 66 fresh connections to each of 2 addresses = 132 requests. Needs root (network namespaces)
# and hyperfine. Prints hyperfine's table and the engine's peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench/probe.sh needs root (network namespaces)" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "install hyperfine (apt-get install hyperfine)" >&2; exit 2; }

cargo build --release -q --bin kubectl-acmecheck
cargo build -q -p acmecheck-testkit --bin lab
BIN=$PWD/target/release/kubectl-acmecheck
work=$(mktemp -d)
trap 'exec 3>&- ; wait 2>/dev/null; rm -rf "$work"' EXIT

# Bring the lab up; it lives until its stdin (fd 3) closes.
mkfifo "$work/in"
target/debug/lab up founding-incident-two-addresses --delay-ms 20 <"$work/in" >"$work/lab.out" &
exec 3>"$work/in"
for _ in $(seq 100); do grep -q '^ready' "$work/lab.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$work/lab.out" || { cat "$work/lab.out"; exit 1; }
NS=$(sed -n 's/^client=//p' "$work/lab.out")
grep '^#' "$work/lab.out" || true

NAME=shop.example.test
TOKEN=GyBCgvtZQEY1tQV2BRXQ7yAr5LafxpnvzwbhEO0cTgk
cat >"$work/plan.json" <<JSON
{"apiVersion":"acmecheck.io/v1alpha1",
 "targets":[{"id":"bench","dnsName":"$NAME","token":"$TOKEN","expectedKey":"x"}],
 "options":{"attemptsPerAddress":66,"caProfile":"pebble"}}
JSON
cat >"$work/curl-loop.sh" <<SH
for i in \$(seq 66); do
  for a in 203.0.113.10 203.0.113.11; do
    curl -s -o /dev/null --resolve $NAME:80:\$a http://$NAME/.well-known/acme-challenge/$TOKEN
  done
done
SH

echo "== wall time: engine (132 requests, fresh connections) vs sequential curl loop"
hyperfine --warmup 1 --runs 10 \
  -n engine "ip netns exec $NS $BIN probe --plan $work/plan.json" \
  -n curl-loop "ip netns exec $NS bash $work/curl-loop.sh"

echo "== engine peak RSS"
ip netns exec "$NS" /usr/bin/time -f 'max RSS %M kB' "$BIN" probe --plan "$work/plan.json" >/dev/null
