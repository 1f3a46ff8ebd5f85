#!/usr/bin/env bash
# Shared by start.sh, ready_live.sh, metrics.sh and zkCli.sh (sourced, never run).

ZK_HOME="${ZK_HOME:-/opt/zookeeper}"
# What the probes read besides the JVM (on /tmp, a pod's own): start.sh's phase, another leader the ensemble loop saw.
ZOO_STATE_DIR="${ZOO_STATE_DIR:-/tmp/zookeeper}"

# The JVM classpath: every jar the image ships, listed in a fixed (sorted) order, as the CDS archive requires.
zk_classpath() {
  local jars=("$ZK_HOME"/lib/*.jar)
  local IFS=:
  printf '%s' "${jars[*]}"
}

# zk_admin_tool SECONDS CLASS ARGS...: one of the image's ZooKeeperAdmin tools (image/*.java, io.kubezookeeper.admin)
# in a small JVM, stopped after SECONDS (exit code 124); the super user's password comes on its stdin.
zk_admin_tool() {
  local seconds=$1 class=$2
  shift 2
  timeout "$seconds" java -Xmx32m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dlogback.configurationFile="$ZK_HOME/etc/logback-cli.xml" \
    -cp "$(zk_classpath)" "io.kubezookeeper.admin.$class" "$@"
}

# zk_write_atomic FILE: stdin into FILE in one rename (a reader never sees half of it).
zk_write_atomic() {
  cat >"$1.tmp"
  mv -f "$1.tmp" "$1"
}

# zk_4lw PORT WORD: send a four-letter word to 127.0.0.1:PORT, print the reply.
# No trailing newline after the word: ZooKeeper reads four bytes and closes; an unread byte makes the kernel
# reset the connection and the reply can be lost (why `echo ruok | nc` flakes).
zk_4lw() {
  zk_4lw_at 127.0.0.1 "$1" "$2"
}

# zk_4lw_at HOST PORT WORD: the same, to another member (the ensemble loop and start.sh asking peers).
zk_4lw_at() {
  local host=$1 port=$2 word=$3
  # shellcheck disable=SC2016 # $1..$3 belong to the inner bash
  timeout "${ZK_4LW_TIMEOUT:-3}" bash -c \
    'exec 3<>"/dev/tcp/$1/$2" && printf "%s" "$3" >&3 && cat <&3' zk_4lw "$host" "$port" "$word" 2>/dev/null
}

# zk_require_port NAME VALUE: exit 2 unless VALUE is a TCP port number.
zk_require_port() {
  if ! [[ $2 =~ ^[0-9]+$ ]] || ((10#$2 < 1 || 10#$2 > 65535)); then
    echo "error: $1: '$2' is not a port number (1-65535)" >&2
    exit 2
  fi
}
