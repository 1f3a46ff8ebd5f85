#!/usr/bin/env bash
# Usage: ready_live.sh PORT [live|ready]
#   live  (default): the JVM answers `ruok` with `imok`, or start.sh is waiting on purpose (for a leader to join)
#          before it starts the JVM: restarting it would not make it join sooner.
#   ready: the member serves clients (srvr says Mode: leader, follower, observer or standalone), with a dynamic
#          membership is one of its voters, and sees no other leader than its own; a member without a quorum still
#          says imok but "not currently serving requests".
set -Eeuo pipefail

# shellcheck source-path=SCRIPTDIR source=zk-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/zk-common.sh"

# zk_waiting: start.sh's reason when it is waiting on purpose ($ZOO_STATE_DIR/phase: `waiting PID WHY`, PID alive).
zk_waiting() {
  local phase pid why
  [[ -r $ZOO_STATE_DIR/phase ]] || return 1
  read -r phase pid why <"$ZOO_STATE_DIR/phase" || true
  [[ $phase == waiting && $pid =~ ^[0-9]+$ && -d /proc/$pid ]] || return 1
  echo "$why"
}

zk_live() {
  local reply why
  reply=$(zk_4lw "$1" ruok) || true
  if [[ $reply == imok ]]; then
    return 0
  fi
  if why=$(zk_waiting); then
    echo "live, waiting on purpose: $why" >&2
    return 0
  fi
  echo "not live: ruok on port $1 answered '${reply}'" >&2
  return 1
}

zk_ready() {
  local reply mode why
  if why=$(zk_waiting); then
    echo "not ready: $why" >&2
    return 1
  fi
  if [[ -r $ZOO_STATE_DIR/other-leader ]]; then
    echo "not ready: member $(<"$ZOO_STATE_DIR/other-leader") leads too (two ensembles); see the runbook of" \
      "ZooKeeperMoreThanOneLeader" >&2
    return 1
  fi
  reply=$(zk_4lw "$1" srvr) || true
  mode=$(sed -n 's/^Mode: //p' <<<"$reply")
  case "$mode" in
    leader | follower | observer | standalone) zk_voter "$1" && return 0 || return 1 ;;
  esac
  echo "not ready: srvr on port $1 answered '${reply:-nothing}'" >&2
  return 1
}

# zk_voter PORT: with a dynamic membership (conf lists server.N lines), this member is one of its voters: a
# participant without weight 0. A member still joining serves as a non-voting follower, and counting it as Ready
# would let the PodDisruptionBudget allow the loss of a voter the quorum needs. Without a membership (standalone,
# conf not whitelisted) serving is enough.
zk_voter() {
  local conf id line
  conf=$(zk_4lw "$1" conf) || true
  id=$(sed -n 's/^serverId=//p' <<<"$conf")
  grep -q '^server\.[0-9]*=' <<<"$conf" && [[ -n $id ]] || return 0
  line=$(grep "^server\.$id=" <<<"$conf") || true
  if [[ -n $line && ${line%%;*} != *:observer ]] && ! grep -qx "weight\.$id=0" <<<"$conf"; then
    return 0
  fi
  echo "not ready: member $id serves but is not yet a voter of the membership (conf: $(grep -c '^server\.' <<<"$conf") servers)" >&2
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
