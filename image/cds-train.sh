#!/usr/bin/env bash
# Usage: cds-train.sh ARCHIVE -- build time only. Runs a three-member ensemble on loopback with start.sh's own config
# writer and JVM command line until it serves (probes, mntr and the metrics page asked once), then stops it; member 1's
# JVM writes the classes it loaded into ARCHIVE (a dynamic CDS archive), which start.sh then maps at every start.
set -Eeuo pipefail

# shellcheck source-path=SCRIPTDIR source=start.sh
source "${ZK_HOME:-/opt/zookeeper}/bin/start.sh"

archive=$1
work=$(mktemp -d)
pids=()
trap 'kill -TERM "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

zk_defaults
ZK_HEAP=256M
servers=$(for n in 1 2 3; do echo "server.$n=127.0.0.1:$((2887 + n)):$((3887 + n))"; done)
for n in 1 2 3; do
  ZOO_DATA_DIR=$work/$n/data ZOO_CONF_DIR=$work/$n ZOO_CLIENT_PORT=$((2180 + n)) ZOO_METRICS_PORT=$((6999 + n))
  ZOO_JVM_FLAGS=""
  ((n > 1)) || ZOO_JVM_FLAGS="-XX:ArchiveClassesAtExit=$archive"
  mkdir -p "$ZOO_DATA_DIR"
  echo "$n" >"$ZOO_DATA_DIR/myid"
  zk_write_config "$ZOO_CONF_DIR/zoo.cfg" "$n" "$servers"
  zk_server_command "$ZOO_CONF_DIR/zoo.cfg"
  "${ZK_COMMAND[@]}" >"$work/$n.log" 2>&1 &
  pids+=($!)
done

for _ in $(seq 600); do
  if "$ZK_HOME/bin/ready_live.sh" 2181 ready 2>/dev/null; then
    break
  fi
  sleep 0.1
done
if ! "$ZK_HOME/bin/ready_live.sh" 2181 ready || ! "$ZK_HOME/bin/ready_live.sh" 2181 live ||
  ! "$ZK_HOME/bin/metrics.sh" 2181 >/dev/null; then
  echo "cds-train.sh: the training ensemble did not serve; member 1's log:" >&2
  cat "$work/1.log" >&2
  exit 1
fi
exec 3<>/dev/tcp/127.0.0.1/7000 && printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && timeout 10 cat <&3 >/dev/null
kill -TERM "${pids[@]}"
wait "${pids[@]}" || true
pids=()
if [[ ! -s $archive ]]; then
  echo "cds-train.sh: member 1 wrote no archive $archive; its log:" >&2
  cat "$work/1.log" >&2
  exit 1
fi
echo "cds-train.sh: wrote $archive ($(du -k "$archive" | cut -f1) KiB)"
