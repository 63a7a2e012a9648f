#!/usr/bin/env bash
# Brings up the local stack: Postgres and Redis (reused when already answering), Apache Kafka
# in KRaft mode and Apicurio Registry as background processes, then provisions the database,
# topics and schemas. Idempotent: a second run finds everything up and changes nothing.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

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
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
  touch "$RUN_DIR/postgres.started"
  wait_until 30 postgres port_open $PG_HOST $PG_PORT
  log "postgres: started $version"
}

ensure_redis() {
  if port_open $REDIS_HOST $REDIS_PORT; then log "redis: reusing the server on $REDIS_PORT"; return; fi
  if ! command -v redis-server >/dev/null; then
    log "redis: installing from Debian packages"
    as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null \
      || die "redis is not running on $REDIS_PORT and could not be installed (needs root)"
  fi
  redis-server --daemonize yes --bind 127.0.0.1 --port $REDIS_PORT --save "" --appendonly no \
    --pidfile "$RUN_DIR/redis.pid" --logfile "$LOG_DIR/redis.log" --dir "$STACK_HOME"
  touch "$RUN_DIR/redis.started"
  wait_until 30 redis port_open $REDIS_HOST $REDIS_PORT
  log "redis: started"
}

ensure_kafka() {
  local pidfile="$RUN_DIR/kafka.pid"
  if pid_alive "$pidfile" kafka.Kafka; then log "kafka: already running (pid $(cat "$pidfile"))"; return; fi
  if port_open 127.0.0.1 $KAFKA_PORT; then log "kafka: reusing the broker on $KAFKA_PORT"; return; fi
  local dir="$KAFKA_DATA" conf="$RUN_DIR/kafka-server.properties"
  mkdir -p "$dir"
  sed "s|@DATA_DIR@|$dir|" "$INFRA_DIR/kafka/server.properties" > "$conf"
  local logging="-Dlog4j2.configurationFile=file:$INFRA_DIR/kafka/log4j2.properties"
  [ "$KAFKA_MAJOR" -ge 4 ] || logging="-Dlog4j.configuration=file:$INFRA_DIR/kafka/log4j.properties"
  local java_opts=(-Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true "$logging")
  if [ ! -f "$dir/meta.properties" ]; then
    local cluster_id; cluster_id=$(java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
    java "${java_opts[@]}" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format -t "$cluster_id" -c "$conf" >>"$LOG_DIR/kafka.log" 2>&1
    log "kafka: formatted storage in $dir"
  fi
  nohup java "${java_opts[@]}" -cp "$KAFKA_LIBS/*" kafka.Kafka "$conf" >>"$LOG_DIR/kafka.log" 2>&1 &
  echo $! > "$pidfile"
  log "kafka: started $KAFKA_VERSION (pid $!, log $LOG_DIR/kafka.log)"
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
    echo $! > "$pidfile"
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

(cd "$ROOT_DIR" && node --import tsx infra/provision.ts)

cat >&2 <<MSG
[stack] up:
  kafka            127.0.0.1:$KAFKA_PORT
  schema registry  $REGISTRY_URL
  postgres         postgres://postgres@127.0.0.1:$PG_PORT/recruitment
  redis            redis://127.0.0.1:$REDIS_PORT
  logs             $LOG_DIR
MSG
