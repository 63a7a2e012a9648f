#!/usr/bin/env bash
# Apache Kafka nodes of the local stack: one combined broker + controller, or a KRaft cluster of
# several on one machine. Node i listens on base+2(i-1) (broker) and base+2(i-1)+1 (controller),
# keeps its log in <data>/node-i and its pid in <run>/kafka-i.pid. Sourced by up.sh and down.sh;
# also a command for tests that need a cluster of their own:
#   kafka.sh start <count> <base-port> <data-dir> <run-dir>
#   kafka.sh start-node <i> <count> <base-port> <data-dir> <run-dir>
#   kafka.sh stop <run-dir>
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

kafka_voters() {
  local count=$1 base=$2 voters="" i
  for i in $(seq 1 "$count"); do voters+="${voters:+,}$i@127.0.0.1:$((base + 2 * (i - 1) + 1))"; done
  echo "$voters"
}

# The brokers of a cluster as a KAFKA_BROKERS value.
kafka_brokers() {
  local count=$1 base=$2 list="" i
  for i in $(seq 1 "$count"); do list+="${list:+,}127.0.0.1:$((base + 2 * (i - 1)))"; done
  echo "$list"
}

# Formats (first time) and starts node i of a cluster of count nodes.
kafka_node_start() {
  local i=$1 count=$2 base=$3 data=$4 run=$5
  local dir="$data/node-$i" conf="$run/kafka-$i.properties" pidfile="$run/kafka-$i.pid" logfile="${KAFKA_LOG_DIR:-$LOG_DIR}/kafka-$i.log"
  if pid_alive "$pidfile" "kafka.Kafka $conf"; then return; fi
  mkdir -p "$dir" "$run" "$(dirname "$logfile")"
  local rf=$(( count >= 3 ? 3 : count )) min_isr=$(( count >= 3 ? 2 : 1 ))
  sed -e "s|@NODE_ID@|$i|" -e "s|@VOTERS@|$(kafka_voters "$count" "$base")|" -e "s|@BROKER_PORT@|$((base + 2 * (i - 1)))|" \
      -e "s|@CONTROLLER_PORT@|$((base + 2 * (i - 1) + 1))|" -e "s|@DATA_DIR@|$dir|" -e "s|@RF@|$rf|g" -e "s|@MIN_ISR@|$min_isr|g" \
      "$INFRA_DIR/kafka/server.properties" > "$conf"
  local logging="-Dlog4j2.configurationFile=file:$INFRA_DIR/kafka/log4j2.properties"
  [ "$KAFKA_MAJOR" -ge 4 ] || logging="-Dlog4j.configuration=file:$INFRA_DIR/kafka/log4j.properties"
  local java_opts=(-Xms128m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true "$logging")
  if [ ! -f "$dir/meta.properties" ]; then
    # Every node of a cluster is formatted with the same cluster id.
    # Written whole or not at all: an empty file (a first run interrupted, a JVM too old) would fail every later format.
    if [ ! -s "$data/cluster-id" ]; then
      local id; id=$(java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1) || true
      [ -n "$id" ] || die "kafka: could not make a cluster id (java -cp $KAFKA_LIBS/* kafka.tools.StorageTool random-uuid failed; Kafka $KAFKA_VERSION needs Java 17 or later)"
      printf '%s\n' "$id" > "$data/cluster-id.tmp" && mv "$data/cluster-id.tmp" "$data/cluster-id"
    fi
    java "${java_opts[@]}" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format -t "$(cat "$data/cluster-id")" -c "$conf" >>"$logfile" 2>&1
  fi
  nohup java "${java_opts[@]}" -cp "$KAFKA_LIBS/*" kafka.Kafka "$conf" >>"$logfile" 2>&1 &
  record_pid "$pidfile" $!
  log "kafka: node $i of $count started, $KAFKA_VERSION on 127.0.0.1:$((base + 2 * (i - 1))) (pid $!, log $logfile)"
}

kafka_cluster_start() {
  local count=$1 base=$2 data=$3 run=$4 i
  for i in $(seq 1 "$count"); do kafka_node_start "$i" "$count" "$base" "$data" "$run"; done
  for i in $(seq 1 "$count"); do wait_until 120 "kafka node $i" port_open 127.0.0.1 $((base + 2 * (i - 1))); done
}

# Stops every node: all are asked at once (a node stopping alone would wait for a quorum that
# the others already left), then each is waited for, and killed after 30 s.
kafka_cluster_stop() {
  local run=$1 pidfile
  for pidfile in "$run"/kafka-*.pid "$run/kafka.pid"; do
    pid_alive "$pidfile" "kafka.Kafka ${pidfile%.pid}.properties" && kill -TERM "$(cat "$pidfile")"
  done
  for pidfile in "$run"/kafka-*.pid "$run/kafka.pid"; do
    [ -f "$pidfile" ] && stop_pid "kafka $(basename "$pidfile" .pid)" "$pidfile" "kafka.Kafka ${pidfile%.pid}.properties"
  done
  return 0
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case "${1:-}" in
    start) kafka_cluster_start "$2" "$3" "$4" "$5" ;;
    start-node) kafka_node_start "$2" "$3" "$4" "$5" "$6"; wait_until 120 "kafka node $2" port_open 127.0.0.1 $(($4 + 2 * ($2 - 1))) ;;
    stop) kafka_cluster_stop "$2" ;;
    *) die "usage: kafka.sh start|start-node|stop …" ;;
  esac
fi
