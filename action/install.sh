#!/usr/bin/env bash
# Installs cfdeploy for the action: the release binary for this runner, verified against its
# published SHA-256, or, when no release fits (no such tag, no binary for this platform, or
# CFDEPLOY_VERSION=source), built from the action's own source with cargo.
#   CFDEPLOY_VERSION   latest | vX.Y.Z | source
#   CFDEPLOY_RELEASES  where releases are downloaded from (default: this repository's releases)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="${CFDEPLOY_VERSION:-latest}"
repo="${CFDEPLOY_REPOSITORY:-${GITHUB_ACTION_REPOSITORY:-}}"
releases="${CFDEPLOY_RELEASES:-https://github.com/$repo/releases}"
dest="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/cfdeploy"
mkdir -p "$dest/bin"

target() {
  case "${RUNNER_OS:-$(uname -s)}-${RUNNER_ARCH:-$(uname -m)}" in
    Linux-X64 | Linux-x86_64) echo x86_64-unknown-linux-musl ;;
    Linux-ARM64 | Linux-aarch64) echo aarch64-unknown-linux-musl ;;
    macOS-X64 | Darwin-x86_64) echo x86_64-apple-darwin ;;
    macOS-ARM64 | Darwin-arm64) echo aarch64-apple-darwin ;;
    *) return 1 ;;
  esac
}

from_source() {
  echo "cfdeploy: building from source ($1)" >&2
  cargo install --locked --quiet --path "$here" --root "$dest"
}

add_to_path() {
  "$dest/bin/cfdeploy" --version >&2
  if [ -n "${GITHUB_PATH:-}" ]; then echo "$dest/bin" >> "$GITHUB_PATH"; fi
}

if [ "$version" = source ]; then
  from_source "asked for"
  add_to_path
  exit 0
fi
if ! triple="$(target)"; then
  from_source "no release binary for ${RUNNER_OS:-$(uname -s)} ${RUNNER_ARCH:-$(uname -m)}"
  add_to_path
  exit 0
fi
if [ "$version" = latest ]; then
  url="$releases/latest/download"
  asset="cfdeploy-$triple.tar.gz"
else
  url="$releases/download/$version"
  asset="cfdeploy-$triple.tar.gz"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if ! curl --fail --silent --show-error --location --retry 3 -o "$work/$asset" "$url/$asset" \
  || ! curl --fail --silent --show-error --location --retry 3 -o "$work/$asset.sha256" "$url/$asset.sha256"; then
  from_source "no release asset $asset at $url"
  add_to_path
  exit 0
fi
expected="$(awk '{print $1}' "$work/$asset.sha256")"
actual="$( (sha256sum "$work/$asset" 2>/dev/null || shasum -a 256 "$work/$asset") | awk '{print $1}')"
if [ "$expected" != "$actual" ]; then
  echo "::error::cfdeploy: $asset does not match its published SHA-256 (expected $expected, got $actual); not installing it" >&2
  exit 1
fi
tar -xzf "$work/$asset" -C "$work"
install -m 0755 "$(find "$work" -type f -name cfdeploy | head -n 1)" "$dest/bin/cfdeploy"
echo "cfdeploy: installed $asset ($version), SHA-256 verified" >&2
add_to_path
