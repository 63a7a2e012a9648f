#!/usr/bin/env bash
# Brings up the local stack: Postgres and Redis (reused when already answering), Apache Kafka
# in KRaft mode and Apicurio Registry as background processes, then provisions the database,
# topics and schemas. Idempotent: a second run finds everything up and changes nothing.
source "$(dirname "${BASH_SOURCE[0]}")/kafka.sh"

# make up builds the services first (make install); provisioning below runs that build.
[ -f "$ROOT_DIR/build/infra/provision.js" ] || die "build/infra/provision.js is missing: build the services first (make install, or npx tsc -p tsconfig.build.json)"

ensure_postgres() {
  if port_open $PG_HOST $PG_PORT; then log "postgres: reusing the server on $PG_PORT"; return; fi
  if ! command -v pg_ctlcluster >/dev/null; then
    log "postgres: installing from Debian packages"
    as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
      || die "postgres is not running on $PG_PORT and could not be installed (needs root)"
  fi
  local version; version=$(ls /etc/postgresql | sort -V | tail -1)
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  # Local development stack: trust loopback connections, as the default DATABASE_URL expects.
  if ! grep -q 'recruitment-tracking' "$hba"; then
    as_root sh -c "printf '%s\n' '# recruitment-tracking local stack' 'host all all 127.0.0.1/32 trust' 'host all all ::1/128 trust' | cat - '$hba' > '$hba.new' && mv '$hba.new' '$hba'"
  fi
  local rc=0
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || rc=$?
  case "$rc" in
    # Started here: make down stops it, in this boot only (the marker names the boot).
    0) cat /proc/sys/kernel/random/boot_id > "$RUN_DIR/postgres.started" 2>/dev/null || echo unknown > "$RUN_DIR/postgres.started" ;;
    # Already running (apt-get install starts it where systemd runs): it reads the lines above on a reload.
    2) as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload ;;
    *) die "postgres: pg_ctlcluster $version main start failed (exit $rc)" ;;
  esac
  wait_until 30 postgres port_open $PG_HOST $PG_PORT
  log "postgres: started $version"
}

ensure_redis() {
  if port_open $REDIS_HOST $REDIS_PORT; then
    speaks redis $REDIS_HOST $REDIS_PORT || die "port $REDIS_PORT is taken by something that is not Redis (it does not answer PING)"
    log "redis: reusing the server on $REDIS_PORT"; return
  fi
  if ! command -v redis-server >/dev/null; then
    log "redis: installing from Debian packages"
    as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null \
      || die "redis is not running on $REDIS_PORT and could not be installed (needs root)"
  fi
  redis-server --daemonize yes --bind 127.0.0.1 --port $REDIS_PORT --save "" --appendonly no \
    --pidfile "$RUN_DIR/redis.pid" --logfile "$LOG_DIR/redis.log" --dir "$STACK_HOME"
  touch "$RUN_DIR/redis.started"
  wait_until 30 redis port_open $REDIS_HOST $REDIS_PORT
  # redis-server writes its pid file itself (it forks to daemonize): its identity is recorded once it has.
  wait_until 10 "redis's pid file" test -s "$RUN_DIR/redis.pid"
  record_pid "$RUN_DIR/redis.pid" "$(cat "$RUN_DIR/redis.pid")"
  log "redis: started"
}

# KAFKA_BROKERS_LOCAL=3 starts a three-node KRaft cluster on 9092/9094/9096 instead of one node.
KAFKA_NODES="${KAFKA_BROKERS_LOCAL:-1}"
case "$KAFKA_NODES" in 1 | 3) ;; *) die "KAFKA_BROKERS_LOCAL: 1 or 3, not $KAFKA_NODES" ;; esac
LOCAL_BROKERS="$(kafka_brokers "$KAFKA_NODES" "$KAFKA_PORT")"

ensure_kafka() {
  # A cluster keeps its own log directories: a single node's cannot join three.
  local data="$KAFKA_DATA"; [ "$KAFKA_NODES" = 1 ] || data="$KAFKA_DATA-cluster$KAFKA_NODES"
  if pid_alive "$RUN_DIR/kafka-1.pid" "kafka.Kafka $RUN_DIR/kafka-1.properties"; then
    log "kafka: already running (node 1 pid $(cat "$RUN_DIR/kafka-1.pid"))"
  elif port_open 127.0.0.1 $KAFKA_PORT; then
    speaks kafka 127.0.0.1 $KAFKA_PORT || die "port $KAFKA_PORT is taken by something that is not a Kafka broker (it does not answer ApiVersions)"
    log "kafka: reusing the broker on $KAFKA_PORT"; return
  fi
  # Starts the nodes that are not running (all of them, or one that stopped).
  kafka_cluster_start "$KAFKA_NODES" "$KAFKA_PORT" "$data" "$RUN_DIR"
}

ensure_registry() {
  local pidfile="$RUN_DIR/registry.pid"
  if pid_alive "$pidfile" apicurio-registry; then log "registry: already running (pid $(cat "$pidfile"))"; return; fi
  if registry_ready; then log "registry: reusing the registry on $REGISTRY_PORT"; return; fi
  if port_open 127.0.0.1 $REGISTRY_PORT; then die "port $REGISTRY_PORT is taken by something that is not a schema registry"; fi
  psql -h $PG_HOST -p $PG_PORT -U postgres -tAc "select 1 from pg_database where datname = 'apicurio'" | grep -q 1 \
    || psql -h $PG_HOST -p $PG_PORT -U postgres -qc 'create database apicurio' >/dev/null
  (
    set -a; source "$INFRA_DIR/registry/registry.env"; set +a
    cd "$APICURIO_DIR"
    nohup java -Xms128m -Xmx512m -jar apicurio-registry-app-*-runner.jar >>"$LOG_DIR/registry.log" 2>&1 &
    record_pid "$pidfile" $!
  )
  log "registry: started (pid $(cat "$pidfile"), log $LOG_DIR/registry.log)"
}

kafka_ready() { port_open 127.0.0.1 $KAFKA_PORT; }

bash "$INFRA_DIR/scripts/fetch.sh"
ensure_postgres
ensure_redis
ensure_kafka
ensure_registry
wait_until 120 "kafka on $KAFKA_PORT" kafka_ready
wait_until 180 "schema registry on $REGISTRY_PORT" registry_ready

# Topics replicated over the local cluster (3 copies, 2 in sync for a write), or 1 on one node.
# Provisioning runs compiled, as the services do (checked before anything starts, above).
(cd "$ROOT_DIR" && KAFKA_BROKERS="${KAFKA_BROKERS:-$LOCAL_BROKERS}" KAFKA_REPLICATION_FACTOR="${KAFKA_REPLICATION_FACTOR:-$KAFKA_NODES}" node build/infra/provision.js)

pg_version=$(psql -h $PG_HOST -p $PG_PORT -U postgres -tAc 'show server_version' 2>/dev/null | cut -d' ' -f1)
redis_version=$( (exec 3<>"/dev/tcp/$REDIS_HOST/$REDIS_PORT"; printf 'INFO server\r\n' >&3; timeout 2 head -c 400 <&3) 2>/dev/null | tr -d '\r' | sed -n 's/^redis_version://p')

cat >&2 <<MSG
[stack] up:
  node             $(node --version)
  kafka            $KAFKA_VERSION, $KAFKA_NODES node(s): $LOCAL_BROKERS (KAFKA_BROKERS for the services)
  apicurio         $APICURIO_VERSION
  schema registry  $REGISTRY_URL
  postgres         ${pg_version:-?} postgres://postgres@127.0.0.1:$PG_PORT/recruitment
  redis            ${redis_version:-?} redis://127.0.0.1:$REDIS_PORT
  logs             $LOG_DIR
MSG
