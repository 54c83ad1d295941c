#!/usr/bin/env bash
# Release builds of kubectl-acmecheck: static binaries, krew archives, sha256 sums, krew manifest.
#
#   scripts/release.sh                      the local path, one command: build the x86_64 musl
#                                           binary, pack it, write the sums, render the manifest
#   scripts/release.sh build <rust-target>  build + strip + pack one target into dist/
#   scripts/release.sh pack <rust-target> <binary>
#                                           pack a binary built elsewhere (the macOS jobs)
#   scripts/release.sh manifest [--plugin-yaml]
#                                           dist/SHA256SUMS + dist/acmecheck.yaml from the archives
#                                           in dist/ (and plugin.yaml too, with --plugin-yaml)
#   scripts/release.sh plugin-yaml          plugin.yaml for a version not released yet: the template
#                                           rendered with all-zero sha256 (see krew/README.md)
#   scripts/release.sh image                build the probe image with buildah (no daemon) from
#                                           dist/linux_amd64/ and save it as an OCI archive
#
# Outputs (dist/ is git-ignored):
#   dist/kubectl-acmecheck_<tag>_<os>_<arch>.tar.gz  kubectl-acmecheck (0755) + LICENSE at the root
#   dist/kubectl-acmecheck_<tag>_<os>_<arch>.tar.gz.sha256
#   dist/<os>_<arch>/kubectl-acmecheck               the stripped binary (the Containerfile copies it)
#   dist/SHA256SUMS                                  one line per archive, `sha256sum -c` format
#   dist/acmecheck.yaml                              krew/.krew.yaml rendered for the archives present
#
# <tag> is "v" + the version in Cargo.toml; in CI (GITHUB_REF_NAME set by a tag push) the tag must
# equal it. Archives are reproducible for a given binary: sorted names, uid/gid 0, mtime from
# SOURCE_DATE_EPOCH (default: the last commit's time), gzip without name or timestamp.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=kubectl-acmecheck
DIST=${DIST:-dist}
TEMPLATE=krew/.krew.yaml

die() { echo "release.sh: $*" >&2; exit 1; }
log() { echo "release.sh: $*" >&2; }

# The [package] version and repository of Cargo.toml (the single source for both).
cargo_field() {
  awk -v key="$1" '
    /^\[/ { in_pkg = ($0 == "[package]") }
    in_pkg && $1 == key && $2 == "=" { gsub(/"/, "", $3); print $3; exit }
  ' Cargo.toml
}
VERSION=$(cargo_field version)
REPOSITORY=$(cargo_field repository)
[ -n "$VERSION" ] || die "no version in Cargo.toml"
[ -n "$REPOSITORY" ] || die "no repository in Cargo.toml"
TAG="v$VERSION"
if [ "${GITHUB_REF_TYPE:-}" = tag ] && [ "${GITHUB_REF_NAME:-}" != "$TAG" ]; then
  die "tag ${GITHUB_REF_NAME} does not match Cargo.toml version $VERSION (expected $TAG)"
fi
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

# Rust target triple -> krew os/arch.
os_arch() {
  case "$1" in
    x86_64-unknown-linux-musl) echo linux_amd64 ;;
    aarch64-unknown-linux-musl) echo linux_arm64 ;;
    x86_64-apple-darwin) echo darwin_amd64 ;;
    aarch64-apple-darwin) echo darwin_arm64 ;;
    *) die "unsupported target $1 (expected *-unknown-linux-musl or *-apple-darwin)" ;;
  esac
}

archive_name() { echo "${BIN}_${TAG}_$1.tar.gz"; }

host_triple() { rustc -vV | awk '/^host:/ { print $2 }'; }

build() {
  local target=$1 start end builder=cargo
  rustup target list --installed 2>/dev/null | grep -qx "$target" || rustup target add "$target"
  if [ "$target" != "$(host_triple)" ] && [ "${target%-musl}" != "$target" ] \
     && [ "$target" != "x86_64-unknown-linux-musl" ]; then
    # Cross to another arch: zig provides the C compiler and linker for ring (no Docker needed).
    command -v cargo-zigbuild >/dev/null || die "building $target needs cargo-zigbuild (and zig)"
    builder=zigbuild
  fi
  if [ "$target" = x86_64-unknown-linux-musl ] && [ "$builder" = cargo ]; then
    command -v musl-gcc >/dev/null || die "building $target needs musl-gcc (apt-get install musl-tools)"
    export CC_x86_64_unknown_linux_musl=${CC_x86_64_unknown_linux_musl:-musl-gcc}
  fi
  start=$(date +%s)
  log "building $target with cargo $builder (release profile: lto, codegen-units=1, opt-level s, panic abort, strip)"
  if [ "$builder" = zigbuild ]; then
    cargo zigbuild --release --locked --target "$target" --bin "$BIN"
  else
    cargo build --release --locked --target "$target" --bin "$BIN"
  fi
  end=$(date +%s)
  log "built $target in $((end - start)) s"
  pack "$target" "target/$target/release/$BIN"
}

# Strip (when this host's strip understands the binary), copy to dist/<os>_<arch>/, and pack.
pack() {
  local target=$1 binary=$2 osarch name dir work
  osarch=$(os_arch "$target")
  [ -f "$binary" ] || die "no binary at $binary"
  [ -f LICENSE ] || die "LICENSE missing at the repository root"
  mkdir -p "$DIST/$osarch"
  dir="$DIST/$osarch"
  cp "$binary" "$dir/$BIN"
  chmod 0755 "$dir/$BIN"
  local before after
  before=$(wc -c < "$dir/$BIN")
  # The release profile already strips at link time (`strip = true`); strip again where this
  # host's binutils understand the binary, so a profile change cannot ship debug info unnoticed.
  if [ "$target" = x86_64-unknown-linux-musl ] && [ "$(uname -sm)" = "Linux x86_64" ]; then
    strip "$dir/$BIN"
  elif [ "$target" = aarch64-unknown-linux-musl ] && command -v aarch64-linux-gnu-strip >/dev/null; then
    aarch64-linux-gnu-strip "$dir/$BIN"
  elif [ "${target%-apple-darwin}" != "$target" ] && [ "$(uname -s)" = Darwin ]; then
    strip "$dir/$BIN"
  fi
  after=$(wc -c < "$dir/$BIN")
  log "$osarch binary: $after bytes stripped (before strip: $before)"

  name=$(archive_name "$osarch")
  work=$(mktemp -d)
  cp "$dir/$BIN" LICENSE "$work/"
  chmod 0755 "$work/$BIN"
  chmod 0644 "$work/LICENSE"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
      -C "$work" -cf - "$BIN" LICENSE | gzip -9n > "$DIST/$name"
  rm -rf "$work"
  (cd "$DIST" && sha256sum "$name" > "$name.sha256")
  log "packed $DIST/$name ($(wc -c < "$DIST/$name") bytes, sha256 $(cut -d' ' -f1 "$DIST/$name.sha256"))"
}

# Render krew/.krew.yaml the way krew-release-bot does: drop the leading {{- /* */ -}} comment,
# {{ .TagName }} -> the tag, each {{ addURIAndSha "<url>" .TagName }} -> uri + sha256 lines.
# A platform whose archive is not in dist/ is left out (the local path only has linux_amd64).
render() {
  local sums=$1
  awk -v tag="$TAG" -v sums="$sums" '
    BEGIN {
      while ((getline line < sums) > 0) { split(line, f, /[ *]+/); sha[f[2]] = f[1] }
      in_comment = 0
    }
    function flush() { if (block != "" && keep) printf "%s", block; block = ""; keep = 1 }
    NR == 1 && /^\{\{- \/\*/ { in_comment = 1 }
    in_comment { if ($0 ~ /\*\/ -\}\}$/) in_comment = 0; next }
    {
      gsub(/\{\{ \.TagName \}\}/, tag)
      if ($0 ~ /addURIAndSha/) {
        url = $0; sub(/^.*addURIAndSha "/, "", url); sub(/" \.TagName.*$/, "", url)
        file = url; sub(/^.*\//, "", file)
        indent = $0; sub(/[^ ].*$/, "", indent)
        if (file in sha) { $0 = indent "uri: " url "\n" indent "sha256: " sha[file] }
        else { keep = 0 }
      }
      if ($0 ~ /^  - selector:/) { flush(); in_platforms = 1 }
      if (in_platforms) block = block $0 "\n"; else print
    }
    END { flush() }
  ' "$TEMPLATE"
}

manifest() {
  local plugin_yaml=${1:-}
  compgen -G "$DIST/${BIN}_${TAG}_*.tar.gz" >/dev/null || die "no archives for $TAG in $DIST/"
  (cd "$DIST" && sha256sum "${BIN}_${TAG}"_*.tar.gz > SHA256SUMS)
  render "$DIST/SHA256SUMS" > "$DIST/acmecheck.yaml"
  grep -q 'sha256: [a-f0-9]\{64\}$' "$DIST/acmecheck.yaml" || die "rendered manifest has no platform"
  log "wrote $DIST/SHA256SUMS and $DIST/acmecheck.yaml ($(grep -c 'sha256:' "$DIST/acmecheck.yaml") platforms)"
  if [ "$plugin_yaml" = --plugin-yaml ]; then
    [ "$(grep -c 'sha256:' "$DIST/acmecheck.yaml")" = 4 ] \
      || die "plugin.yaml needs all four platforms; only $(grep -c 'sha256:' "$DIST/acmecheck.yaml") archives in $DIST/"
    cp "$DIST/acmecheck.yaml" plugin.yaml
    log "updated plugin.yaml for $TAG"
  fi
}

# plugin.yaml for an unreleased version (after a version bump): zero sums, all four platforms.
unreleased_plugin_yaml() {
  local sums zero
  sums=$(mktemp)
  zero=$(printf '0%.0s' $(seq 64))
  for osarch in linux_amd64 linux_arm64 darwin_amd64 darwin_arm64; do
    echo "$zero  $(archive_name "$osarch")" >> "$sums"
  done
  render "$sums" > plugin.yaml
  rm -f "$sums"
  log "wrote plugin.yaml for $TAG with zero sha256 (not released yet)"
}

# The probe image, without a daemon: buildah (Debian package) from the same Containerfile the
# workflow gives to docker buildx; saved as dist/acmecheck-probe_<tag>_linux_amd64.oci.tar.
image() {
  command -v buildah >/dev/null || die "the local image build needs buildah (apt-get install buildah)"
  [ -x "$DIST/linux_amd64/$BIN" ] || die "build the linux amd64 binary first"
  local ref out
  ref="ghcr.io/$(basename "$(dirname "$REPOSITORY")")/acmecheck-probe:$TAG"
  out="$DIST/acmecheck-probe_${TAG}_linux_amd64.oci.tar"
  buildah --storage-driver vfs build --quiet --platform linux/amd64 --build-arg TARGETARCH=amd64 \
    --build-arg VERSION="$TAG" --build-arg SOURCE="$REPOSITORY" -f Containerfile -t "$ref" .
  rm -f "$out"
  buildah --storage-driver vfs push --quiet "$ref" "oci-archive:$out:$ref"
  log "image $ref: $(wc -c < "$out") bytes as an OCI archive ($out)"
}

case "${1:-local}" in
  local)
    build x86_64-unknown-linux-musl
    manifest ;;
  build) [ $# = 2 ] || die "usage: $0 build <rust-target>"; build "$2" ;;
  pack) [ $# = 3 ] || die "usage: $0 pack <rust-target> <binary>"; pack "$2" "$3" ;;
  manifest) manifest "${2:-}" ;;
  plugin-yaml) unreleased_plugin_yaml ;;
  image) image ;;
  *) die "unknown command $1 (local, build, pack, manifest, plugin-yaml, image)" ;;
esac
