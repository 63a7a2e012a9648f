#!/usr/bin/env bash
# Stops what infra/scripts/up.sh started, by pid, and nothing else. Data stays on disk.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

stop_pid() {
  local name=$1 pidfile=$2 pattern=${3:-}
  if ! pid_alive "$pidfile" "$pattern"; then rm -f "$pidfile"; return; fi
  local pid; pid=$(cat "$pidfile")
  kill -TERM "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then log "$name: did not stop in 30s, killing"; kill -KILL "$pid"; fi
  rm -f "$pidfile"
  log "$name: stopped (pid $pid)"
}

# Registry first: it writes to Postgres.
stop_pid registry "$RUN_DIR/registry.pid" apicurio-registry
stop_pid kafka "$RUN_DIR/kafka.pid" kafka.Kafka
if [ -f "$RUN_DIR/redis.started" ]; then stop_pid redis "$RUN_DIR/redis.pid" redis-server; rm -f "$RUN_DIR/redis.started"; fi
if [ -f "$RUN_DIR/postgres.started" ]; then
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main stop && log "postgres: stopped"
  rm -f "$RUN_DIR/postgres.started"
fi
