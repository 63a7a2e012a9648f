#!/usr/bin/env bash
# Prints the directory of the Node.js the project runs on, for the Makefile to put first on
# PATH; prints nothing when the machine's own Node is recent enough (22 or later). Otherwise
# installs Node from the npm registry, which ships the official binary inside the package
# node-linux-<arch>, into the stack's cache folder. NODE_MAJOR=22 asks for a given major (the
# CI step that proves Node 22 still works uses it).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

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
command -v npm >/dev/null || die "npm is required to fetch Node.js $WANT"

dir="$STACK_HOME/node/$WANT"
if [ ! -x "$dir/package/bin/node" ]; then
  log "node: the machine has Node $have; fetching Node $WANT (node-linux-$arch) from the npm registry into $dir"
  rm -rf "$dir" && mkdir -p "$dir"
  tarball=$(cd "$dir" && npm pack --silent "node-linux-$arch@$WANT" 2>/dev/null | tail -1)
  [ -f "$dir/$tarball" ] || die "could not fetch node-linux-$arch@$WANT from the npm registry"
  tar -xzf "$dir/$tarball" -C "$dir" && rm -f "$dir/$tarball"
  "$dir/package/bin/node" --version >/dev/null || die "the fetched Node.js does not run on this machine"
fi
echo "$dir/package/bin"
