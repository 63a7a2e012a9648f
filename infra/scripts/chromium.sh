#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed for the browser tests (test/browser), which drive
# it headless through playwright-core. Installs the `chromium` package (as root) when
# CHROMIUM_PATH (default /usr/bin/chromium) is missing; prints its version either way.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  log "chromium: installing Debian's chromium package for the browser tests"
  as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
    || die "chromium is not installed at $CHROMIUM and could not be installed (needs root and Debian's package sources)"
fi
log "chromium: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
