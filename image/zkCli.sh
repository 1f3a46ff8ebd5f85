#!/usr/bin/env bash
# Usage: zkCli.sh -server HOST:PORT COMMAND ARGS... -- ZooKeeper's command-line client (ZooKeeperMain), one
# command per process; exits non-zero when the command fails or the server cannot be reached.
set -Eeuo pipefail

# shellcheck source-path=SCRIPTDIR source=zk-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/zk-common.sh"

# A short-lived client: quick JIT, small serial-GC heap, warnings only (on stderr).
exec java -Xmx64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
  -Dlogback.configurationFile="$ZK_HOME/etc/logback-cli.xml" \
  -cp "$(zk_classpath)" org.apache.zookeeper.ZooKeeperMain "$@"
