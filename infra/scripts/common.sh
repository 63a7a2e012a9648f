#!/usr/bin/env bash
# Shared settings and helpers for the local stack scripts. Sourced, never run.
set -euo pipefail

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT_DIR="$(cd "$INFRA_DIR/.." && pwd)"

# Everything the stack downloads or writes lives outside the git tree.
STACK_HOME="${RECRUITMENT_STACK_HOME:-$HOME/.cache/recruitment-tracking}"
DIST_DIR="$STACK_HOME/dist"       # jars fetched from Maven Central
DATA_DIR="$STACK_HOME/data"       # Kafka log dirs (survive make down)
RUN_DIR="$STACK_HOME/run"         # pid files and markers of what we started
LOG_DIR="$STACK_HOME/logs"

# Kafka 4 (KRaft only) by default; KAFKA_VERSION=3.9.2 make up runs the 3.9 line instead.
# Each version keeps its own log directory: a 4.x metadata version cannot be opened by 3.9.
KAFKA_VERSION="${KAFKA_VERSION:-4.3.1}"
KAFKA_MAJOR="${KAFKA_VERSION%%.*}"
APICURIO_VERSION="3.0.9"
KAFKA_LIBS="$DIST_DIR/kafka-$KAFKA_VERSION/libs"
KAFKA_DATA="$DATA_DIR/kafka-$KAFKA_VERSION"
APICURIO_DIR="$DIST_DIR/apicurio-registry-$APICURIO_VERSION"

PG_HOST=127.0.0.1 PG_PORT=5432
REDIS_HOST=127.0.0.1 REDIS_PORT=6379
KAFKA_PORT=9092 KAFKA_CONTROLLER_PORT=9093
REGISTRY_PORT=8081
REGISTRY_URL="http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7"

mkdir -p "$DIST_DIR" "$DATA_DIR" "$RUN_DIR" "$LOG_DIR"

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }

# True when something accepts TCP connections on host:port.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# True when the server on host:port is the kind given, kafka or redis, as its own protocol tells
# (infra/probe.ts, compiled): a port taken by something else is not reused.
speaks() { node "$ROOT_DIR/build/infra/probe.js" "$1" "$2" "$3"; }

# A process's identity: the boot it runs in and its start time (clock ticks after boot, field
# 22 of /proc/<pid>/stat). A pid is reused once its process ends; this pair is not.
proc_identity() {
  local stat boot
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null) || boot=unknown
  stat=${stat##*) }  # what follows "pid (comm) ": the state is field 3, so the start time the 20th here
  set -- $stat
  printf '%s %s\n' "$boot" "${20}"
}

# Records a process the stack started: its pid in the pid file, its identity beside it.
record_pid() {
  echo "$2" > "$1"
  proc_identity "$2" > "$1.start" || rm -f "$1.start"
}

# True when the pid file names a live process the stack started: the same process (its
# identity, when recorded) and, given a text, one whose command line contains it. A pid file
# left by a crash or a reboot may name a pid some other process has since.
pid_alive() {
  [ -f "$1" ] || return 1
  local pid; pid=$(cat "$1")
  case "$pid" in '' | *[!0-9]*) return 1 ;; esac
  kill -0 "$pid" 2>/dev/null || return 1
  if [ -f "$1.start" ]; then [ "$(cat "$1.start")" = "$(proc_identity "$pid")" ] || return 1; fi
  [ -z "${2:-}" ] || tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# wait_until <seconds> <description> <command...>
wait_until() {
  local timeout=$1 what=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    if [ $SECONDS -ge $deadline ]; then die "$what did not come up within ${timeout}s"; fi
    sleep 0.5
  done
}

registry_ready() { curl -fsS -o /dev/null "$REGISTRY_URL/config" 2>/dev/null; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi; }

# Stops a process started by the stack, by its pid file (never by name), waiting up to 30 s.
stop_pid() {
  local name=$1 pidfile=$2 pattern=${3:-}
  if ! pid_alive "$pidfile" "$pattern"; then rm -f "$pidfile" "$pidfile.start"; return; fi
  local pid; pid=$(cat "$pidfile")
  kill -TERM "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then log "$name: did not stop in 30s, killing"; kill -KILL "$pid"; fi
  rm -f "$pidfile" "$pidfile.start"
  log "$name: stopped (pid $pid)"
}
