#!/usr/bin/env bash
# Usage: leave.sh (the StatefulSet's preStop hook; no arguments)
# A member that a scale-down removes leaves the voting set before its pod stops (image/MemberLeave.java reads the
# ensemble ConfigMap's live count from the API server, else the mounted copy), so every membership on the way down
# keeps its quorum, whatever stops next. Any other member (a restart, a rolling update, a drain) stops at once.
# From here on the member's own ensemble loop changes nothing ($ZOO_STATE_DIR/stopping): it would add a member
# that just left back in. The kubelet shows a hook's output only when the hook fails, so the line also goes to the
# container's log (PID 1's stderr).
set -Euo pipefail

# shellcheck source-path=SCRIPTDIR source=zk-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/zk-common.sh"
# shellcheck source-path=SCRIPTDIR source=ensemble.sh
source "$(dirname "${BASH_SOURCE[0]}")/ensemble.sh" # the admin password and count files, zk_admin_password

: "${ZOO_CLIENT_PORT:=2181}"
: "${ZOO_LEAVE_SECONDS:=20}" # within the pod's 30 s grace period, which also covers the JVM's own stop

zk_leave_say() {
  echo "leave.sh: $1"
  echo "leave.sh: $1" 2>/dev/null >>/proc/1/fd/2 || true
}

main() {
  local host ordinal statefulset line code=0
  mkdir -p "$ZOO_STATE_DIR"
  : >"$ZOO_STATE_DIR/stopping"
  host=$(hostname)
  ordinal=${host##*-} statefulset=${host%-*}
  if ! [[ $ordinal =~ ^[0-9]+$ && $host == *-* ]]; then
    zk_leave_say "hostname '$host' has no StatefulSet ordinal: stopping without a change"
    return 0
  fi
  if [[ ! -r $ZOO_ADMIN_PASSWORD_FILE ]]; then
    zk_leave_say "$ZOO_ADMIN_PASSWORD_FILE is missing: stopping without a change (the leader removes a gone member)"
    return 0
  fi
  line=$(zk_admin_password |
    zk_admin_tool $((ZOO_LEAVE_SECONDS + 5)) MemberLeave "127.0.0.1:$ZOO_CLIENT_PORT" $((ordinal + 1)) \
      "$statefulset" "${POD_NAMESPACE:-default}" "$ZOO_REPLICAS_FILE" "$ZOO_LEAVE_SECONDS" 2>&1) || code=$?
  ((code != 124)) || line="no answer within $((ZOO_LEAVE_SECONDS + 5)) s; the leader removes a gone member"
  zk_leave_say "$(tail -n1 <<<"${line:-exit code $code}")"
  return "$code"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
