#!/usr/bin/env bash
# Benchmark: how long the probe takes to give up on servers that never answer properly — the
# figures behind the bounds that the tests assert only loosely (a test asserts "it ends within
# the attempt timeout + a generous margin"; the timing target lives here):
#
#   trickle    a server that sends one body byte a second, for ever (2 attempts, timeout 1.5 s)
#              tests/probe_engine.rs a_trickling_server_ends_at_the_timeout
#              target: the attempt timeout + at most 0.5 s (Go's Client.Timeout is whole-request)
#   huge       a 1 GiB body at loopback speed (2 attempts, timeout 5 s)
#              tests/probe_engine.rs a_huge_body_is_capped
#              target: far below the timeout (the read stops at the 1 MiB cap)
#   hostile    both at once, 20 attempts each, timeout 2 s, peak RSS too
#              tests/probe_engine.rs hostile_servers_in_bounded_memory
#              target: the 2 s timeout + at most 1 s; peak RSS < 64 MB
#   dropped    (root only) the lab's `dropped` scenario: a firewall drops port 80, 10 attempts,
#              timeout 2 s, all at once
#              tests/lab_probe.rs dropped_packets_time_out_within_the_limit
#              target: the 2 s timeout + at most 1 s (one after the other would be 20 s)
#
#   bench/bounds.sh            # the loopback cases (any user)
#   bench/bounds.sh (as root)  # and the lab case
#
# Needs hyperfine and python3 (the two misbehaving servers, on 127.0.0.1 only; each connection
# is bounded in bytes and time and the servers stop with the script).
source "$(dirname "$0")/lib.sh"
bench_need hyperfine python3
bench_build

cat >"$work/server.py" <<'PY'
# A misbehaving HTTP server on 127.0.0.1: `trickle` sends a 1 MB Content-Length and then one
# byte a second; `huge` sends 1 GiB as fast as it can. Each connection ends after 60 s or when
# the client goes away. Prints the port, then serves until killed.
import socket, sys, threading, time

mode = sys.argv[1]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(128)
print(srv.getsockname()[1], flush=True)

def handle(c):
    try:
        c.settimeout(5)
        c.recv(65536)
        if mode == "trickle":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
            for _ in range(60):
                c.sendall(b"x")
                time.sleep(1)
        else:
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n")
            chunk = b"x" * 65536
            deadline = time.time() + 60
            for _ in range(16384):
                if time.time() > deadline:
                    break
                c.sendall(chunk)
    except OSError:
        pass
    finally:
        c.close()

while True:
    conn, _ = srv.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
PY

serve() { # serve <mode>: starts the server (killed at exit); its port is in $work/<mode>.port
  python3 "$work/server.py" "$1" >"$work/$1.port" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$work/$1.port" ] && break; sleep 0.05; done
  [ -s "$work/$1.port" ] || { echo "the $1 server did not start" >&2; exit 1; }
}
# Not in $(…): a subshell's `pids` would not reach the cleanup, and the servers would outlive
# the script.
serve trickle
serve huge
TRICKLE=$(cat "$work/trickle.port")
HUGE=$(cat "$work/huge.port")

target() { # target <id> <port>
  printf '{"id":"%s","url":"http://127.0.0.1:%s/.well-known/acme-challenge/tok","dnsName":"a.test","token":"tok","expectedKey":"k"}' "$1" "$2"
}
plan() { # plan <file> <attempts> <timeout-ms> <ca> <targets...>
  local file=$1 attempts=$2 timeout=$3 ca=$4; shift 4
  local IFS=,
  printf '{"apiVersion":"acmecheck.io/v1alpha1","targets":[%s],"options":{"attemptsPerAddress":%s,"timeoutMs":%s,"caProfile":"%s"}}' \
    "$*" "$attempts" "$timeout" "$ca" >"$work/$file"
}
plan trickle.json 2 1500 letsencrypt "$(target trickle "$TRICKLE")"
plan huge.json 2 5000 letsencrypt "$(target huge "$HUGE")"
plan hostile.json 20 2000 pebble "$(target huge "$HUGE")" "$(target slow "$TRICKLE")"

echo "== wall time of probe --plan against misbehaving servers on 127.0.0.1"
hyperfine --warmup 1 --runs 5 \
  -n "trickle (timeout 1.5 s)" "$BIN probe --plan $work/trickle.json" \
  -n "huge 1 GiB body (timeout 5 s)" "$BIN probe --plan $work/huge.json" \
  -n "hostile, 2x20 attempts (timeout 2 s)" "$BIN probe --plan $work/hostile.json"

echo "== hostile: peak RSS"
/usr/bin/time -f 'max RSS %M kB, %e s' "$BIN" probe --plan "$work/hostile.json" >/dev/null

if [ "$(id -u)" != 0 ]; then
  echo "(not root: the lab case 'dropped' is left out)"
  exit 0
fi
bench_build lab
bench_lab_up dropped
NS=$client
cat >"$work/dropped.json" <<'JSON'
{"apiVersion":"acmecheck.io/v1alpha1",
 "targets":[{"id":"dropped","dnsName":"shop.example.test","token":"GyBCgvtZQEY1tQV2BRXQ7yAr5LafxpnvzwbhEO0cTgk","expectedKey":"k"}],
 "options":{"attemptsPerAddress":10,"timeoutMs":2000,"caProfile":"pebble"}}
JSON
echo "== dropped packets in the lab: 10 attempts, timeout 2 s"
hyperfine --warmup 1 --runs 5 -n "dropped (timeout 2 s)" \
  "ip netns exec $NS $BIN probe --plan $work/dropped.json"
