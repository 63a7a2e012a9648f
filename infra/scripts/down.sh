#!/usr/bin/env bash
# Stops what infra/scripts/up.sh started, by pid, and nothing else. Data stays on disk.
source "$(dirname "${BASH_SOURCE[0]}")/kafka.sh"


# Registry first: it writes to Postgres.
stop_pid registry "$RUN_DIR/registry.pid" apicurio-registry
kafka_cluster_stop "$RUN_DIR"
if [ -f "$RUN_DIR/redis.started" ]; then stop_pid redis "$RUN_DIR/redis.pid" redis-server; rm -f "$RUN_DIR/redis.started"; fi
# Only a Postgres up.sh started in this boot: after a reboot the system's own starts it, and others may use it.
if [ -f "$RUN_DIR/postgres.started" ]; then
  if [ "$(cat "$RUN_DIR/postgres.started")" = "$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)" ]; then
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main stop && log "postgres: stopped"
  fi
  rm -f "$RUN_DIR/postgres.started"
fi
