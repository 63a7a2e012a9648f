#!/usr/bin/env bash
# Fetches Apache Kafka and Apicurio Registry from Maven Central into $STACK_HOME/dist.
# Idempotent: a complete download is recognised by a marker file and not fetched again.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

command -v mvn >/dev/null || die "Maven (mvn) is required to fetch Kafka and Apicurio"
command -v java >/dev/null || die "Java 17+ is required to run Kafka and Apicurio"
# --strict-checksums: a download whose checksum does not match the repository's fails the
# fetch (Maven 3's default only warns).
MVN=(mvn -B -q --strict-checksums -Dstyle.color=never)

if [ ! -f "$KAFKA_LIBS/.complete" ]; then
  log "fetching Apache Kafka $KAFKA_VERSION from Maven Central"
  rm -rf "$KAFKA_LIBS"
  # Kafka 4 logs through log4j2, Kafka 3 through reload4j: one pom per major version.
  "${MVN[@]}" -f "$INFRA_DIR/kafka/pom-kafka$KAFKA_MAJOR.xml" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS"
  touch "$KAFKA_LIBS/.complete"
fi

if [ ! -f "$APICURIO_DIR/.complete" ]; then
  log "fetching Apicurio Registry $APICURIO_VERSION from Maven Central"
  rm -rf "$APICURIO_DIR"; mkdir -p "$APICURIO_DIR"
  (cd "$STACK_HOME" && "${MVN[@]}" dependency:copy \
    -Dartifact="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all" \
    -DoutputDirectory="$APICURIO_DIR")
  tar -xzf "$APICURIO_DIR"/apicurio-registry-app-*-all.tar.gz -C "$APICURIO_DIR"
  rm -f "$APICURIO_DIR"/apicurio-registry-app-*-all.tar.gz
  touch "$APICURIO_DIR/.complete"
fi
