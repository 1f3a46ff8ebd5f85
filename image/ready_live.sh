#!/usr/bin/env bash
# Usage: ready_live.sh PORT [live|ready]
#   live  (default): the JVM answers `ruok` with `imok`.
#   ready: the member serves clients (srvr says Mode: leader, follower, observer or standalone); a member without a
#          quorum still says imok but "not currently serving requests".
set -Eeuo pipefail

# shellcheck source-path=SCRIPTDIR source=zk-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/zk-common.sh"

zk_live() {
  local reply
  reply=$(zk_4lw "$1" ruok) || true
  if [[ $reply == imok ]]; then
    return 0
  fi
  echo "not live: ruok on port $1 answered '${reply}'" >&2
  return 1
}

zk_ready() {
  local reply mode
  reply=$(zk_4lw "$1" srvr) || true
  mode=$(sed -n 's/^Mode: //p' <<<"$reply")
  case "$mode" in
    leader | follower | observer | standalone) return 0 ;;
  esac
  echo "not ready: srvr on port $1 answered '${reply:-nothing}'" >&2
  return 1
}

main() {
  if (($# < 1 || $# > 2)); then
    echo "usage: ready_live.sh PORT [live|ready]" >&2
    exit 2
  fi
  zk_require_port PORT "$1"
  case "${2:-live}" in
    live) zk_live "$1" ;;
    ready) zk_ready "$1" ;;
    *)
      echo "error: unknown mode '$2' (expected live or ready)" >&2
      exit 2
      ;;
  esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
