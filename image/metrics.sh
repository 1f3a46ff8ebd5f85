#!/usr/bin/env bash
# Usage: metrics.sh PORT -- print ZooKeeper's `mntr` report; exit 1 when the member gives none.
set -Eeuo pipefail

# shellcheck source-path=SCRIPTDIR source=zk-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/zk-common.sh"

main() {
  if (($# != 1)); then
    echo "usage: metrics.sh PORT" >&2
    exit 2
  fi
  zk_require_port PORT "$1"
  local reply
  reply=$(zk_4lw "$1" mntr) || true
  printf '%s\n' "$reply"
  [[ $reply == *zk_server_state* ]]
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
