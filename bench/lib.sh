# The preamble the bench scripts share; `source "$(dirname "$0")/lib.sh"` at their top. It
# moves to the repository root, makes a work directory, and on exit closes the lab's stdin (fd
# 3: the lab tears itself down), kills the processes in `pids` by PID, waits for them and
# removes the work directory.
#
#   bench_need_root NAME        exit 2 unless root (network namespaces)
#   bench_need hyperfine ...    exit 2 unless each command is there
#   bench_build [TESTKIT-BIN...]  release builds of the plugin (BIN) and of testkit binaries
#   bench_lab_up SCENARIO [ARGS...]  `lab up` until the script exits; sets client, cluster,
#                               kubeconfig from what it prints; its output is in $work/lab.out
#   bench_probe_image           $work/probe-image: the release binary as the probe image,
#                               remembering the plan it was given in $work/plan.json
#   bench_requests              the lab's API request log since the last call (in lab.out)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

work=$(mktemp -d)
pids=()
bench_cleanup() {
  exec 3>&- || true
  if [ "${#pids[@]}" -gt 0 ]; then kill "${pids[@]}" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap bench_cleanup EXIT

bench_need_root() {
  [ "$(id -u)" = 0 ] || { echo "$1 needs root (network namespaces)" >&2; exit 2; }
}

bench_need() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null || { echo "install $c (apt-get install $c)" >&2; exit 2; }
  done
}

bench_build() {
  local b
  cargo build --release -q --bin kubectl-acmecheck
  for b in "$@"; do cargo build --release -q -p acmecheck-testkit --bin "$b"; done
  BIN=$PWD/target/release/kubectl-acmecheck
}

bench_lab_up() {
  mkfifo "$work/in"
  target/release/lab up "$@" <"$work/in" >"$work/lab.out" 2>"$work/lab.err" &
  exec 3>"$work/in"
  # Up to 60 s: a lab with 500 Certificates takes a while.
  for _ in $(seq 600); do grep -q '^ready' "$work/lab.out" 2>/dev/null && break; sleep 0.1; done
  grep -q '^ready' "$work/lab.out" || { cat "$work/lab.out" "$work/lab.err" >&2; exit 1; }
  client=$(sed -n 's/^client=//p' "$work/lab.out")
  cluster=$(sed -n 's/^cluster=//p' "$work/lab.out")
  kubeconfig=$(sed -n 's/^kubeconfig=//p' "$work/lab.out")
}

bench_probe_image() {
  cat >"$work/probe-image" <<EOF
#!/bin/sh
[ "\$1 \$2" = "probe --plan-json" ] && printf '%s' "\$3" >"$work/plan.json"
exec "$BIN" "\$@"
EOF
  chmod +x "$work/probe-image"
}

# The lab prints and forgets its request log on `requests`.
bench_requests() {
  local before
  before=$(grep -c '^requests=' "$work/lab.out" || true)
  echo requests >&3
  for _ in $(seq 200); do
    [ "$(grep -c '^requests=' "$work/lab.out" || true)" -gt "$before" ] && return
    sleep 0.05
  done
  echo "the lab did not answer 'requests'" >&2; exit 1
}
