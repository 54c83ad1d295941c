#!/usr/bin/env bash
# Benchmark: `kubectl acmecheck --all -A --no-probe` over 1,000 generated certificates (and 10 for
# comparison) against the project's fake API server on 127.0.0.1: wall time (hyperfine), API
# requests (the test suite asserts they are the same for 10 and 1,000), peak RSS. No root needed.
source "$(dirname "$0")/lib.sh"
bench_need hyperfine
bench_build fake-apiserver

start() { # start <n> <name>
  target/release/fake-apiserver --generate "$1:20" --kubeconfig-out "$work/$2.kubeconfig" >"$work/$2.url" 2>"$work/$2.log" &
  pids+=($!)
  for _ in $(seq 200); do [ -s "$work/$2.url" ] && return; sleep 0.05; done
  cat "$work/$2.log" >&2; exit 1
}
start 1000 big
start 10 small

echo "== wall time: --all -A --no-probe -o json"
hyperfine --warmup 2 --runs 10 -i \
  -n "10 certificates" "$BIN --all -A --no-probe -o json --kubeconfig $work/small.kubeconfig" \
  -n "1000 certificates" "$BIN --all -A --no-probe -o json --kubeconfig $work/big.kubeconfig"

echo "== peak RSS, 1000 certificates"
/usr/bin/time -f 'max RSS %M kB, %e s' "$BIN" --all -A --no-probe -o json --kubeconfig "$work/big.kubeconfig" >/dev/null || true
