#!/usr/bin/env bash
# Sourced by scripts/test and scripts/demo: installs (as root, with apt-get) the Debian packages
# the lab and the fake cluster need: real daemons, openssl for test certificates, nftables, Go
# for the test-only reference programs under testkit/go (testkit/src/gobuild.rs), and kubectl
# (the fidelity tests of the fake API server and the plugin tests run the real one).
PKGS=(golang-go haproxy nginx-light libnginx-mod-http-headers-more-filter libnginx-mod-http-echo dnsmasq-base pebble iproute2 nftables openssl curl)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
apt_updated=
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing: ${missing[*]}"
    apt-get update -qq
    apt_updated=1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "note: missing packages (${missing[*]}); lab tests that need them will fail. Run as root to install." >&2
  fi
fi
# kubectl: the Debian package `kubectl` where the machine's apt sources carry it. Not fatal here:
# the caller checks `command -v kubectl` and says what to do.
if ! command -v kubectl >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing: kubectl"
    [ -n "$apt_updated" ] || apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kubectl >/dev/null \
      || echo "note: apt-get install kubectl failed (no apt source carries it?)" >&2
  else
    echo "note: kubectl is not on PATH; run as root to install it (apt-get install kubectl)." >&2
  fi
fi
unset apt_updated
