#!/usr/bin/env bash
# With SERVICE_ALLOCATOR=jemalloc (libs/runtime/allocator.ts: whatever starts a service then
# preloads it), makes sure jemalloc is there: installs Debian's libjemalloc2 (as root) when the
# compiled allocator module finds no library; when that is not possible it says so and goes on:
# the services run on the system allocator. Without it (the default), nothing.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ "${SERVICE_ALLOCATOR:-system}" = system ] && exit 0
allocator() { node --input-type=module -e "const { serviceAllocator } = await import('$ROOT_DIR/build/libs/runtime/allocator.js'); try { console.log(serviceAllocator().name); } catch (err) { console.log('invalid: ' + err.message); }"; }
chosen="$(allocator)"
case "$chosen" in
  jemalloc) exit 0 ;;
  invalid:*) die "jemalloc: ${chosen#invalid: }" ;;
esac
log "jemalloc: installing Debian's libjemalloc2 for the services' memory allocator"
if { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libjemalloc2 >/dev/null; } && [ "$(allocator)" = jemalloc ]; then
  log "jemalloc: installed"
else
  log "jemalloc: could not install libjemalloc2 (needs root and Debian's package sources); the services run on the system allocator and keep more memory"
fi
