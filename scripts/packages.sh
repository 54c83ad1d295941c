#!/usr/bin/env bash
# Sourced by scripts/test and scripts/demo: installs (as root, with apt-get) the Debian packages
# the lab and the fake cluster need: real daemons, openssl for test certificates, nftables, and
# Go for the test-only reference programs under testkit/go (testkit/src/gobuild.rs).
PKGS=(golang-go haproxy nginx-light libnginx-mod-http-headers-more-filter libnginx-mod-http-echo dnsmasq-base pebble iproute2 nftables openssl curl)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "note: missing packages (${missing[*]}); lab tests that need them will fail. Run as root to install." >&2
  fi
fi

