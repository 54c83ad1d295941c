#!/usr/bin/env bash
# Benchmark: the probe engine vs a sequential curl loop on the founding-incident lab (HAProxy
# round-robin between nginx and an envoy-style 404), 20 ms added to every backend response,
# 66 fresh connections to each of 2 addresses = 132 requests. Needs root (network namespaces)
# and hyperfine. Prints hyperfine's table and the engine's peak RSS.
source "$(dirname "$0")/lib.sh"
bench_need_root bench/probe.sh
bench_need hyperfine

bench_build lab
# The lab lives until the script ends.
bench_lab_up founding-incident-two-addresses --delay-ms 20
NS=$client
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
