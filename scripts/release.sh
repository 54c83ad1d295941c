#!/usr/bin/env bash
# Build release archives and the krew manifest.
#
#   scripts/release.sh              # local: x86_64 linux musl static binary → dist/
#   scripts/release.sh --manifest   # only render plugin.yaml from the archives already in dist/
#
# The release workflow (.github/workflows/release.yml) builds the other platforms into dist/
# with the same names and then runs `scripts/release.sh --manifest`.
#
# Output in dist/: kubectl-acmecheck_<tag>_<os>_<arch>.tar.gz (binary + LICENSE at the root,
# mode 0755), <archive>.sha256, and plugin.yaml rendered from krew/.krew.yaml with the real
# uri and sha256 of every archive present. Copy dist/plugin.yaml over ./plugin.yaml when tagging.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
tag="v$version"
base="https://github.com/kubectl-acmecheck/kubectl-acmecheck/releases/download/$tag"
mkdir -p dist

pack() { # pack <binary> <os> <arch>
  local bin=$1 os=$2 arch=$3 stage
  stage=$(mktemp -d)
  install -m 0755 "$bin" "$stage/kubectl-acmecheck"
  install -m 0644 LICENSE "$stage/LICENSE"
  local name="kubectl-acmecheck_${tag}_${os}_${arch}.tar.gz"
  tar --owner=0 --group=0 --numeric-owner --mtime='2000-01-01' -C "$stage" -czf "dist/$name" kubectl-acmecheck LICENSE
  (cd dist && sha256sum "$name" > "$name.sha256")
  rm -rf "$stage"
  echo "dist/$name"
}

if [ "${1:-}" != "--manifest" ]; then
  target=x86_64-unknown-linux-musl
  rustup target list --installed | grep -qx "$target" || rustup target add "$target"
  command -v musl-gcc >/dev/null || { echo "needs musl-tools (apt-get install musl-tools)" >&2; exit 2; }
  cargo build --release --locked --target "$target" --bin kubectl-acmecheck
  bin="target/$target/release/kubectl-acmecheck"
  file "$bin" 2>/dev/null | grep -q 'static' || ldd "$bin" 2>&1 | grep -q 'not a dynamic' || { echo "not static: $bin" >&2; exit 1; }
  echo "binary: $(stat -c %s "$bin") bytes (stripped by the release profile)"
  pack "$bin" linux amd64
fi

# Render krew/.krew.yaml the way krew-release-bot does, for the archives that exist.
out=dist/plugin.yaml
awk -v tag="$tag" -v base="$base" -v dist=dist '
  /^#/ { next }
  /addURIAndSha/ {
    match($0, /_(linux|darwin)_(amd64|arm64)\.tar\.gz/)
    platform = substr($0, RSTART, RLENGTH)
    name = "kubectl-acmecheck_" tag platform
    file = dist "/" name ".sha256"
    if ((getline line < file) <= 0) { next }
    split(line, f, " ")
    indent = $0; sub(/[^ ].*$/, "", indent)
    print indent "uri: " base "/" name
    print indent "sha256: " f[1]
    next
  }
  { gsub(/\{\{ \.TagName \}\}/, tag); print }
' krew/.krew.yaml > "$out.tmp"
# Drop platform entries whose archive is missing (selector lines kept above need their uri).
python3 - "$out.tmp" "$out" <<'PY'
import sys
text = open(sys.argv[1]).read().split("\n  - selector:")
head, entries = text[0], text[1:]
kept = [e for e in entries if "sha256:" in e]
open(sys.argv[2], "w").write(head + "".join("\n  - selector:" + e for e in kept).rstrip("\n") + "\n")
PY
rm -f "$out.tmp"
echo "manifest: $out ($(grep -c 'sha256:' "$out") platform(s))"
