#!/usr/bin/env bash
# Stops what infra/scripts/up.sh started, by pid, and nothing else. Data stays on disk.
source "$(dirname "${BASH_SOURCE[0]}")/kafka.sh"


# Registry first: it writes to Postgres.
stop_pid registry "$RUN_DIR/registry.pid" apicurio-registry
kafka_cluster_stop "$RUN_DIR"
if [ -f "$RUN_DIR/redis.started" ]; then stop_pid redis "$RUN_DIR/redis.pid" redis-server; rm -f "$RUN_DIR/redis.started"; fi
if [ -f "$RUN_DIR/postgres.started" ]; then
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main stop && log "postgres: stopped"
  rm -f "$RUN_DIR/postgres.started"
fi
