#!/usr/bin/env bash
# Makes sure jemalloc is there for the services to run on (libs/runtime/allocator.ts: whatever
# starts a service preloads it; on glibc's malloc they keep more memory). Installs Debian's
# libjemalloc2 (as root) when the compiled allocator module finds no library; when that is not
# possible it says so and goes on: the services run on the system allocator.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

allocator() { node --input-type=module -e "const { serviceAllocator } = await import('$ROOT_DIR/build/libs/runtime/allocator.js'); try { console.log(serviceAllocator().name); } catch (err) { console.log('invalid: ' + err.message); }"; }
chosen="$(allocator)"
case "$chosen" in
  jemalloc) exit 0 ;;
  invalid:*) die "jemalloc: ${chosen#invalid: }" ;;
esac
[ "${SERVICE_ALLOCATOR:-jemalloc}" = system ] && exit 0
log "jemalloc: installing Debian's libjemalloc2 for the services' memory allocator"
if { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libjemalloc2 >/dev/null; } && [ "$(allocator)" = jemalloc ]; then
  log "jemalloc: installed"
else
  log "jemalloc: could not install libjemalloc2 (needs root and Debian's package sources); the services run on the system allocator and keep more memory"
fi
