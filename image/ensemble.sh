#!/usr/bin/env bash
# The ensemble's membership, sourced by start.sh (never run on its own). ZooKeeper's dynamic reconfiguration keeps
# the voting set in zoo.cfg.dynamic.<version> beside the config file it was started with; start.sh starts ZooKeeper
# with $ZOO_DATA_DIR/zoo.cfg, so every committed change lands on the data volume and survives the pod.
#
# Before java starts, zk_prepare_membership picks the file the member starts with:
#   - the leader's membership when a peer leads (newer than this volume's), else the volume's newest;
#   - a volume with data but no dynamic file (a member of the static-config image): ZOO_SERVERS if given, else the
#     desired count (the migration; a serving leader's membership wins over both);
#   - an empty volume and no leader: a member below the desired count founds the ensemble from the founding
#     membership, members 1..count as voters at version 0, with no timer. No member decides alone: ZooKeeper's
#     election needs a majority of the founders, and a founder whose peers already hold a membership (every one a
#     leader committed has a version above 0) adopts theirs during the election and follows. A member at or above
#     the count waits for a leader;
#   - a member that is not a voter of that membership starts from zoo.cfg.joining.0: the membership plus itself
#     with weight 0 (a hierarchical quorum of one group, in its own view only), at version 0 so that no other member
#     ever takes it for a newer membership. It adopts the leader's membership in the election, follows as a
#     non-voting follower, syncs and serves, and its own vote never counts towards a quorum.
# Then zk_ensemble_loop runs beside the JVM (see image/README.md, "Membership"): a member that is not a voter and
# whose ordinal is below the desired count adds itself; the leader removes voters at or above the desired count
# whose member no longer answers (the fallback: a member a scale-down removes leaves first, in its pod's pre-stop
# hook, image/leave.sh). The desired count is /etc/zookeeper/ensemble/replicas (a ConfigMap); the
# authority is the super user's password in /etc/zookeeper/admin/password (a Secret), never skipACL. Joining is
# one member at a time, so it is never refused for the size of the step; a removal is.
#
# start.sh sets ZK_ORDINAL, ZK_MYID, ZK_STS and ZK_PEER_DOMAIN (<headless>.<namespace>.svc.<domain>) first.

: "${ZOO_ADMIN_PASSWORD_FILE:=/etc/zookeeper/admin/password}"
: "${ZOO_REPLICAS_FILE:=/etc/zookeeper/ensemble/replicas}"
: "${ZOO_ENSEMBLE_INTERVAL:=3}" # seconds between two looks at the membership
: "${ZK_PEER_4LW_TIMEOUT:=2}"   # seconds for a four-letter word to another member

ZK_JOINING_VERSION="" # 0 when the member starts from zoo.cfg.joining.0 (not yet a voter)
: "${ZOO_LEADER_CHECK_TICKS:=5}" # a leader asks its peers whether another member leads every this many ticks

# zk_member_host ORDINAL: the member's name in the headless Service.
zk_member_host() {
  echo "$ZK_STS-$1.$ZK_PEER_DOMAIN"
}

# zk_member_line MYID [ROLE]: the member's line in a dynamic config (ROLE participant, the default, or observer). Its
# plaintext client port listens on every address, or on 127.0.0.1 only with TLS on (image/tls.sh: clients use the
# secure port; the probes and the loop stay inside the pod).
zk_member_line() {
  local clients=0.0.0.0
  [[ -z ${ZK_TLS:-} ]] || clients=127.0.0.1
  echo "server.$1=$(zk_member_host $(($1 - 1))):$ZOO_SERVER_PORT:$ZOO_ELECTION_PORT:${2:-participant};$clients:$ZOO_CLIENT_PORT"
}

# zk_peer_word HOST WORD: a four-letter word to another member, within ZK_PEER_4LW_TIMEOUT: its client port, or with
# TLS on its secure port as this member (image/tls.sh).
zk_peer_word() {
  if [[ -n ${ZK_TLS:-} ]]; then
    ZK_4LW_TIMEOUT=$ZK_PEER_4LW_TIMEOUT zk_tls_word "$1" "$2"
  else
    ZK_4LW_TIMEOUT=$ZK_PEER_4LW_TIMEOUT zk_4lw_at "$1" "$ZOO_CLIENT_PORT" "$2"
  fi
}

# zk_membership: the membership in a `conf` reply on stdin: its server.N lines, then version=<hex> when there is one.
zk_membership() {
  awk '/^server\.[0-9]+=/ { print } /^version=/ { version = $0 } END { if (version) print version }'
}

# zk_membership_version MEMBERSHIP: its version (hex), empty when it has none.
zk_membership_version() {
  sed -n 's/^version=//p' <<<"$1"
}

# zk_voters MEMBERSHIP: the ids of its participants, ascending, one line.
zk_voters() {
  awk -F'[=;]' '/^server\.[0-9]+=/ {
      n = split($2, part, ":"); role = (n >= 4 ? part[4] : "participant")
      if (role == "participant") { sub(/^server\./, "", $1); print $1 }
    }' <<<"$1" | sort -n | paste -sd' ' -
}

# zk_member_address MEMBERSHIP ID: the host of server.ID in MEMBERSHIP.
zk_member_address() {
  sed -n "s/^server\\.$2=\\([^:;]*\\).*/\\1/p" <<<"$1"
}

# zk_desired: the desired member count (the ensemble ConfigMap's `replicas`); empty when it is not mounted.
zk_desired() {
  [[ -r $ZOO_REPLICAS_FILE ]] || return 0
  tr -d '[:space:]' <"$ZOO_REPLICAS_FILE"
}

# zk_count_refusal DESIRED: one line when DESIRED is no member count to follow (not a count, an even count);
# nothing when it is one.
zk_count_refusal() {
  if ! [[ $1 =~ ^[1-9][0-9]{0,3}$ ]]; then
    echo "replicas '$1' in $ZOO_REPLICAS_FILE is not a member count"
  elif (($1 % 2 == 0)); then
    echo "replicas=$1 is even: an even ensemble tolerates no more failures than the odd one below it; use an odd count"
  fi
}

# zk_step_refusal VOTERS DESIRED: one line saying why the voters cannot shrink from VOTERS to DESIRED; nothing when
# they can. Refused: what zk_count_refusal refuses, and a step that removes more members than the ensemble can
# lose, old - new > (old - 1) / 2 (5->3 passes, 3->1 does not). Growth is never refused for its size: members
# join one at a time, each a synced follower before it votes.
zk_step_refusal() {
  local voters=$1 desired=$2 change refusal
  refusal=$(zk_count_refusal "$desired")
  if [[ -n $refusal ]]; then
    echo "$refusal"
    return 0
  fi
  ((voters >= 3 && desired < voters)) || return 0
  change=$((voters - desired))
  if ((change > (voters - 1) / 2)); then
    echo "replicas $voters -> $desired changes $change members at once, more than the $voters-member ensemble can" \
      "lose ($(((voters - 1) / 2))); go in steps of at most $(((voters - 1) / 2))"
  fi
}

# zk_newest_dynamic: the newest zoo.cfg.dynamic.<version> on the data volume; nothing when there is none.
zk_newest_dynamic() {
  local file newest="" newest_version=-1 version
  for file in "$ZOO_DATA_DIR"/zoo.cfg.dynamic.*; do
    version=${file##*.}
    [[ -f $file && $version =~ ^[0-9a-f]{1,15}$ ]] || continue
    if ((16#$version > newest_version)); then
      newest=$file newest_version=$((16#$version))
    fi
  done
  echo "$newest"
}

# zk_has_data: the data (or transaction log) directory holds a snapshot or a log.
zk_has_data() {
  compgen -G "$ZOO_DATA_DIR/version-2/snapshot.*" >/dev/null ||
    compgen -G "${ZOO_DATA_LOG_DIR:-$ZOO_DATA_DIR}/version-2/log.*" >/dev/null
}

# zk_candidates NEWEST: the ids whose members may be running: those of NEWEST, 1..the desired count, 1..ZOO_SERVERS,
# and every lower ordinal; never this member.
zk_candidates() {
  local top=$((ZK_MYID - 1)) desired id
  desired=$(zk_desired)
  [[ ! $desired =~ ^[0-9]{1,4}$ ]] || ((desired <= top)) || top=$desired
  [[ ! ${ZOO_SERVERS:-} =~ ^[0-9]{1,4}$ ]] || ((ZOO_SERVERS <= top)) || top=$ZOO_SERVERS
  {
    seq 1 "$top"
    [[ -z $1 ]] || sed -n 's/^server\.\([0-9]*\)=.*/\1/p' "$1"
  } | sort -nu | grep -vx "$ZK_MYID" || true
}

# zk_leader_membership NEWEST: the membership the leading peer reports (`conf`), nothing when no peer leads.
zk_leader_membership() {
  local id host reply
  for id in $(zk_candidates "$1"); do
    host=$(zk_member_host $((id - 1)))
    reply=$(zk_peer_word "$host" srvr) || true
    [[ $reply == *"Mode: leader"* ]] || continue
    reply=$(zk_peer_word "$host" conf | zk_membership) || true
    if [[ -n $(zk_membership_version "$reply") ]]; then
      echo "$reply"
      return 0
    fi
  done
}

# zk_write_dynamic FILE MEMBERSHIP: write the server lines of MEMBERSHIP (no version line: ZooKeeper reads the
# version from the file name) as ZooKeeper writes them, sorted, atomically.
zk_write_dynamic() {
  grep '^server\.' <<<"$2" | sort | zk_write_atomic "$1"
}

# zk_write_joining FILE MEMBERSHIP: MEMBERSHIP's voters with weight 1 and this member with weight 0, one group. The
# member follows the leader the voters elected (their votes are a quorum of this view, as of theirs), and the leader
# counts it as a synced follower, which `reconfig -add` needs; a plain participant line would make a one-voter
# ensemble plus this member a two-voter view, where a leader needs both votes and the joiner would wait forever.
# FILE's version is 0: below every membership a leader committed, so the election hands the joiner the leader's
# membership, and no voter that missed a change ever takes this private view for a newer one.
zk_write_joining() {
  local voters id
  voters=$(zk_voters "$2")
  {
    grep '^server\.' <<<"$2" | grep -v "^server\.$ZK_MYID="
    zk_member_line "$ZK_MYID"
    echo "group.1=$(tr ' ' ':' <<<"$voters"):$ZK_MYID"
    for id in $voters; do
      echo "weight.$id=1"
    done
    echo "weight.$ZK_MYID=0"
  } | sort | zk_write_atomic "$1"
}

# zk_set_phase PHASE [WHY]: what start.sh is doing (waiting, starting), for ready_live.sh: a member that waits on
# purpose is live, and says why it is not ready. The line names start.sh's pid, which java keeps (exec).
zk_set_phase() {
  mkdir -p "$ZOO_STATE_DIR"
  printf '%s %s %s\n' "$1" "$$" "${2:-}" | zk_write_atomic "$ZOO_STATE_DIR/phase"
}

# zk_founding_count: the desired count when this member is one of the founders (its ordinal below it); nothing when
# it is not, or when no count is mounted (then member 0 founds a one-voter ensemble, as `replicas: 1` does).
zk_founding_count() {
  local desired
  desired=$(zk_desired)
  if [[ $desired =~ ^[1-9][0-9]{0,3}$ ]]; then
    ((ZK_ORDINAL >= desired)) || echo "$desired"
  elif ((ZK_ORDINAL == 0)); then
    echo 1
  fi
}

# zk_found_or_wait NEWEST: an empty member with no leader to join. A founder (see zk_founding_count) starts from the
# founding membership at once; any other member waits until a peer leads, then joins. Prints the membership.
zk_found_or_wait() {
  local count said="" membership
  while true; do
    membership=$(zk_leader_membership "$1")
    if [[ -n $membership ]]; then
      echo "$membership"
      return 0
    fi
    count=$(zk_founding_count)
    if [[ -n $count ]]; then
      echo "start.sh: this volume is empty and no peer leads: member $ZK_MYID founds the ensemble with members" \
        "1..$count as voters (a majority of them must start; peers with a newer membership win)" >&2
      zk_static_membership "$count"
      return 0
    fi
    if [[ -z $said ]]; then
      said="this volume is empty and replicas=$(zk_desired) leaves member $ZK_MYID out of the founders: waiting for a leading peer to join"
      echo "start.sh: $said" >&2
      zk_set_phase waiting "$said"
    fi
    sleep 1
  done
}

# zk_static_membership COUNT: members 1..COUNT as voters, version 0 (a static-config ensemble's membership).
zk_static_membership() {
  local id
  for ((id = 1; id <= $1; id++)); do
    zk_member_line "$id"
  done
  echo "version=0"
}

# zk_prepare_membership: write the dynamic file this member starts from; sets ZK_DYNAMIC_FILE (and
# ZK_JOINING_VERSION when the member is not a voter of that membership).
zk_prepare_membership() {
  local newest membership="" version desired
  newest=$(zk_newest_dynamic)
  membership=$(zk_leader_membership "$newest")
  version=$(zk_membership_version "$membership")
  if [[ -n $membership && -n $newest ]] && ((16#$version < 16#${newest##*.})); then
    membership="" # the leader is behind this volume: trust the volume
  fi
  if [[ -n $membership ]]; then
    echo "start.sh: membership version $version from the leading peer" >&2
  elif [[ -n $newest ]]; then
    membership=$(printf '%s\nversion=%s\n' "$(<"$newest")" "${newest##*.}")
  elif zk_has_data; then
    desired=$(zk_desired)
    if [[ ${ZOO_SERVERS:-} =~ ^[1-9][0-9]*$ ]]; then
      echo "start.sh: a volume of the static-config image and no leading peer: members 1..$ZOO_SERVERS" \
        "(ZOO_SERVERS) as voters" >&2
      membership=$(zk_static_membership "$ZOO_SERVERS")
    elif [[ $desired =~ ^[1-9][0-9]{0,3}$ ]]; then
      echo "start.sh: a volume of the static-config image and no leading peer: members 1..$desired" \
        "($ZOO_REPLICAS_FILE) as voters" >&2
      membership=$(zk_static_membership "$desired")
    else
      echo "error: $ZOO_DATA_DIR holds data but no membership (zoo.cfg.dynamic.*), no peer leads, and neither" \
        "ZOO_SERVERS nor $ZOO_REPLICAS_FILE gives the member count" >&2
      exit 2
    fi
  else
    mkdir -p "$ZOO_STATE_DIR"
    zk_found_or_wait "$newest" >"$ZOO_STATE_DIR/membership" &
    wait $! # the wait builtin returns at once on SIGTERM (start.sh's trap); a foreground loop would not
    membership=$(<"$ZOO_STATE_DIR/membership")
  fi
  version=$(zk_membership_version "$membership")
  ZK_DYNAMIC_FILE=$ZOO_DATA_DIR/zoo.cfg.dynamic.$version
  [[ -f $ZK_DYNAMIC_FILE ]] || zk_write_dynamic "$ZK_DYNAMIC_FILE" "$membership"
  if [[ " $(zk_voters "$membership") " != *" $ZK_MYID "* ]]; then
    ZK_JOINING_VERSION=0
    ZK_DYNAMIC_FILE=$ZOO_DATA_DIR/zoo.cfg.joining.0
    zk_write_joining "$ZK_DYNAMIC_FILE" "$membership"
    echo "start.sh: member $ZK_MYID is not a voter of membership $version yet; it starts as a non-voting follower" \
      "and adds itself as a voter once it serves" >&2
  fi
  zk_prune_dynamic
}

# zk_prune_dynamic: keep the three newest dynamic files and the one in use; ZooKeeper writes one per change.
zk_prune_dynamic() {
  local file
  while IFS= read -r file; do
    [[ $file == "$ZK_DYNAMIC_FILE" ]] || rm -f "$file"
  done < <(for file in "$ZOO_DATA_DIR"/zoo.cfg.dynamic.* "$ZOO_DATA_DIR"/zoo.cfg.joining.*; do
    [[ ${file##*.} =~ ^[0-9a-f]{1,15}$ ]] && echo "$((16#${file##*.})) $file"
  done | sort -n | head -n -3 | cut -d' ' -f2-)
}

# zk_super_digest PASSWORD: ZooKeeper's digest of the user `super` with PASSWORD, base64(sha1("super:PASSWORD")).
zk_super_digest() {
  local hex bytes="" i
  hex=$(printf 'super:%s' "$1" | sha1sum | cut -d' ' -f1)
  for ((i = 0; i < ${#hex}; i += 2)); do
    bytes+="\\x${hex:i:2}"
  done
  # shellcheck disable=SC2059 # the format is the \xNN bytes of the digest
  printf "$bytes" | base64
}

# zk_check_admin: a line when the admin password (the authority to reconfigure) is missing, empty or unusable.
zk_check_admin() {
  if [[ ! -r $ZOO_ADMIN_PASSWORD_FILE ]]; then
    echo "$ZOO_ADMIN_PASSWORD_FILE is missing: reconfiguring the ensemble (joining, scaling) needs the admin" \
      "Secret (key password) mounted at $(dirname "$ZOO_ADMIN_PASSWORD_FILE")"
  elif [[ -z $(tr -d '[:space:]' <"$ZOO_ADMIN_PASSWORD_FILE") ]]; then
    echo "$ZOO_ADMIN_PASSWORD_FILE is empty: the admin Secret's password is the authority to reconfigure the ensemble"
  elif [[ $(<"$ZOO_ADMIN_PASSWORD_FILE") =~ [[:space:]] ]]; then
    echo "$ZOO_ADMIN_PASSWORD_FILE holds whitespace inside the password: ZooKeeper's addauth cannot pass it; use a" \
      "password without spaces"
  fi
}

# zk_admin_password: the password, without a trailing newline.
zk_admin_password() {
  tr -d '[:space:]' <"$ZOO_ADMIN_PASSWORD_FILE"
}

# The password the member started with (start.sh sets it; never exported): the JVM's super digest was made from it,
# so the loop keeps using it when the Secret changes meanwhile; both change at the member's next start.
ZK_ADMIN_PASSWORD=""

# zk_say MESSAGE: the loop's log line, only when it differs from the last one (every few seconds would flood).
ZK_LAST_SAID=""
zk_say() {
  [[ $1 != "$ZK_LAST_SAID" ]] || return 0
  ZK_LAST_SAID=$1
  echo "ensemble: $1" >&2
}

# zk_reconfig FROM_VERSION (--add SERVER_LINE | --remove IDS): one change as the super user through this member, with
# ZooKeeperAdmin (image/EnsembleReconfig.java: a small JVM, started only when a change is due), computed from
# membership FROM_VERSION. Its exit code says what happened; prints why on one line and returns 1 when it did not
# commit.
zk_reconfig() {
  local output code=0
  output=$(printf '%s\n' "${ZK_ADMIN_PASSWORD:-$(zk_admin_password)}" |
    zk_admin_tool 90 EnsembleReconfig "127.0.0.1:$ZOO_CLIENT_PORT" "$@" 2>&1 >/dev/null) || code=$?
  ((code != 0)) || return 0
  case $code in
    3) echo "another change came first; trying again" ;;
    4) echo "the new membership would have no synced quorum yet; trying again" ;;
    5) echo "no authority: ZooKeeper refused the admin password in $ZOO_ADMIN_PASSWORD_FILE (the leader started with another one?)" ;;
    124) echo "no answer within 90 s" ;;
    *) tail -n1 <<<"${output:-exit code $code}" ;;
  esac
  return 1
}

# zk_other_leader MEMBERSHIP: the id of another member that says it leads (srvr), among the candidates of
# MEMBERSHIP (zk_candidates: its servers, members 1..the desired count); nothing when none does.
zk_other_leader() {
  local id
  for id in $(zk_candidates <(printf '%s\n' "$1")); do
    if [[ $(zk_peer_word "$(zk_member_host $((id - 1)))" srvr) == *"Mode: leader"* ]]; then
      echo "$id"
      return 0
    fi
  done
}

# zk_watch_leaders MODE MEMBERSHIP: every ZOO_LEADER_CHECK_TICKS ticks, a leader asks its peers whether one of them
# leads too: two leaders are two ensembles (two data trees, both behind the client Service). While it sees one,
# $ZOO_STATE_DIR/other-leader names it and readiness fails (ready_live.sh), so neither side takes new clients and
# ZooKeeperMoreThanOneLeader fires. Not every tick: each question is an INFO line in the peer's log.
ZK_TICKS=0
zk_watch_leaders() {
  local other
  if [[ $1 != leader ]]; then
    rm -f "$ZOO_STATE_DIR/other-leader"
    return 0
  fi
  ((ZK_TICKS++ % ZOO_LEADER_CHECK_TICKS == 0)) || return 0
  other=$(zk_other_leader "$2")
  if [[ -z $other ]]; then
    [[ ! -e $ZOO_STATE_DIR/other-leader ]] || zk_say "no other member leads any more; member $ZK_MYID is ready again"
    rm -f "$ZOO_STATE_DIR/other-leader"
    return 0
  fi
  zk_say "member $other leads too: two ensembles; member $ZK_MYID refuses readiness while it sees another leader"
  mkdir -p "$ZOO_STATE_DIR"
  echo "$other" | zk_write_atomic "$ZOO_STATE_DIR/other-leader"
}

# zk_ensemble_tick: one look at the membership, and at most one change (see the header).
declare -A ZK_MISSES=()
zk_ensemble_tick() {
  local mode membership version voters count desired refusal id host gone=() why
  if [[ -e $ZOO_STATE_DIR/stopping ]]; then
    zk_say "the pod stops (leave.sh ran): no more changes from member $ZK_MYID"
    return 0
  fi
  if [[ -n ${ZK_TLS:-} ]]; then
    why=$(zk_tls_refresh "$(zk_member_host "$ZK_ORDINAL")")
    [[ -z $why ]] || zk_say "$why"
  fi
  mode=$(zk_4lw "$ZOO_CLIENT_PORT" srvr | sed -n 's/^Mode: //p') || true
  [[ $mode == leader || $mode == follower || $mode == observer ]] || return 0
  membership=$(zk_4lw "$ZOO_CLIENT_PORT" conf | zk_membership) || true
  zk_watch_leaders "$mode" "$membership"
  version=$(zk_membership_version "$membership")
  [[ -n $version ]] || return 0
  voters=$(zk_voters "$membership")
  if [[ $version == "$ZK_JOINING_VERSION" ]]; then
    voters=$(tr ' ' '\n' <<<"$voters" | grep -vx "$ZK_MYID" | paste -sd' ' -) # the joining view's weight-0 self
  fi
  count=$(wc -w <<<"$voters")
  desired=$(zk_desired)
  if [[ " $voters " != *" $ZK_MYID "* ]]; then
    refusal=$([[ -z $desired ]] || zk_count_refusal "$desired")
    if [[ -n $refusal ]]; then
      zk_say "refused: $refusal; member $ZK_MYID stays a non-voting $mode"
      return 0
    fi
    if [[ -n $desired ]] && ((ZK_ORDINAL >= desired)); then
      zk_say "member $ZK_MYID is not a voter and replicas=$desired leaves it out; nothing to do"
      return 0
    fi
    if why=$(zk_reconfig "$version" --add "$(zk_member_line "$ZK_MYID")"); then
      zk_say "member $ZK_MYID, a non-voting $mode, joined the $count voters of membership $version"
    else
      zk_say "member $ZK_MYID, a non-voting $mode, could not join the $count voters of membership $version yet: $why"
    fi
    return 0
  fi
  [[ $mode == leader && -n $desired ]] || return 0
  refusal=$(zk_step_refusal "$count" "$desired")
  if [[ -n $refusal ]]; then
    zk_say "refused: $refusal; the membership stays as it is"
    return 0
  fi
  for id in $voters; do
    ((id - 1 >= desired && id != ZK_MYID)) || continue
    host=$(zk_member_address "$membership" "$id")
    if [[ $(zk_peer_word "$host" ruok) == imok ]]; then
      ZK_MISSES[$id]=0
      continue
    fi
    ZK_MISSES[$id]=$((${ZK_MISSES[$id]:-0} + 1))
    ((ZK_MISSES[$id] < 2)) || gone+=("$id")
  done
  ((${#gone[@]})) || return 0
  if why=$(zk_reconfig "$version" --remove "$(
    IFS=,
    echo "${gone[*]}"
  )"); then
    zk_say "replicas=$desired: removed gone member(s) ${gone[*]} from the $count voters of membership $version"
  else
    zk_say "replicas=$desired: could not remove gone member(s) ${gone[*]} from membership $version yet: $why"
  fi
}

# zk_alive PID: the process runs (a zombie, ended but not yet reaped, does not).
zk_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  [[ $stat != *") Z "* ]]
}

# zk_ensemble_loop PID: a tick every ZOO_ENSEMBLE_INTERVAL seconds while process PID (the JVM) lives.
zk_ensemble_loop() {
  local pid=$1 second
  while zk_alive "$pid"; do
    zk_ensemble_tick || true
    for ((second = 0; second < ZOO_ENSEMBLE_INTERVAL; second++)); do
      zk_alive "$pid" || return 0
      sleep 1
    done
  done
}
