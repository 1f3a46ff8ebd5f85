#!/usr/bin/env bash
# The ensemble's membership, sourced by start.sh (never run on its own). ZooKeeper's dynamic reconfiguration keeps
# the voting set in zoo.cfg.dynamic.<version> beside the config file it was started with; start.sh starts ZooKeeper
# with $ZOO_DATA_DIR/zoo.cfg, so every committed change lands on the data volume and survives the pod.
#
# Before java starts, zk_prepare_membership picks the file the member starts with:
#   - the leader's membership when a peer leads (newer than this volume's), else the volume's newest;
#   - a volume with data but no dynamic file (a member of the static-config image): ZOO_SERVERS if given, else the
#     desired count (the migration; a serving leader's membership wins over both);
#   - an empty volume: member 0 seeds a one-voter ensemble when no peer answered for ZOO_SEED_WAIT seconds; every
#     other empty member waits until a peer leads, then joins;
#   - a member that is not a voter of that membership starts from zoo.cfg.joining.<version>: the membership plus
#     itself with weight 0 (a hierarchical quorum of one group, in its own view only): it follows the leader as a
#     non-voting follower, syncs and serves, and its own vote never counts towards a quorum.
# Then zk_ensemble_loop runs beside the JVM (see image/README.md, "Membership"): a member that is not a voter and
# whose ordinal is below the desired count adds itself; the leader removes voters at or above the desired count
# whose member no longer answers. The desired count is /etc/zookeeper/ensemble/replicas (a ConfigMap); the
# authority is the super user's password in /etc/zookeeper/admin/password (a Secret), never skipACL.
#
# start.sh sets ZK_ORDINAL, ZK_MYID, ZK_STS and ZK_PEER_DOMAIN (<headless>.<namespace>.svc.<domain>) first.

: "${ZOO_ADMIN_PASSWORD_FILE:=/etc/zookeeper/admin/password}"
: "${ZOO_REPLICAS_FILE:=/etc/zookeeper/ensemble/replicas}"
: "${ZOO_ENSEMBLE_INTERVAL:=3}" # seconds between two looks at the membership
: "${ZOO_SEED_WAIT:=10}"        # seconds member 0 waits for a peer before it seeds a new ensemble
: "${ZK_PEER_4LW_TIMEOUT:=2}"   # seconds for a four-letter word to another member

ZK_JOINING_VERSION="" # set when the member starts from zoo.cfg.joining.<version> (not yet a voter)

# zk_member_host ORDINAL: the member's name in the headless Service.
zk_member_host() {
  echo "$ZK_STS-$1.$ZK_PEER_DOMAIN"
}

# zk_member_line MYID [ROLE]: the member's line in a dynamic config (ROLE participant, the default, or observer;
# clients on every address).
zk_member_line() {
  echo "server.$1=$(zk_member_host $(($1 - 1))):$ZOO_SERVER_PORT:$ZOO_ELECTION_PORT:${2:-participant};0.0.0.0:$ZOO_CLIENT_PORT"
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

# zk_step_refusal VOTERS DESIRED: one line saying why DESIRED members cannot follow from VOTERS voters; nothing when
# they can. Refused: not a count, an even count, and a step that changes more members than the larger of the two
# ensembles can lose, |new - old| > (max(new, old) - 1) / 2 (3->5 and 5->3 pass, 3->1 and 3->7 do not). An ensemble
# of one or two voters (being born) has no failure to tolerate yet, so it grows to any odd count.
zk_step_refusal() {
  local voters=$1 desired=$2 larger change
  if ! [[ $desired =~ ^[1-9][0-9]{0,3}$ ]]; then
    echo "replicas '$desired' in $ZOO_REPLICAS_FILE is not a member count"
    return 0
  fi
  if ((desired % 2 == 0)); then
    echo "replicas=$desired is even: an even ensemble tolerates no more failures than the odd one below it; use an odd count"
    return 0
  fi
  ((voters >= 3)) || return 0
  larger=$((voters > desired ? voters : desired))
  change=$((voters > desired ? voters - desired : desired - voters))
  if ((change > (larger - 1) / 2)); then
    echo "replicas $voters -> $desired changes $change members at once, more than the $larger-member ensemble can" \
      "lose ($(((larger - 1) / 2))); go in steps of at most $(((larger - 1) / 2))"
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
    reply=$(ZK_4LW_TIMEOUT=$ZK_PEER_4LW_TIMEOUT zk_4lw_at "$host" "$ZOO_CLIENT_PORT" srvr) || true
    [[ $reply == *"Mode: leader"* ]] || continue
    reply=$(ZK_4LW_TIMEOUT=$ZK_PEER_4LW_TIMEOUT zk_4lw_at "$host" "$ZOO_CLIENT_PORT" conf | zk_membership) || true
    if [[ -n $(zk_membership_version "$reply") ]]; then
      echo "$reply"
      return 0
    fi
  done
}

# zk_peer_answers NEWEST: some peer's JVM answers ruok (serving or not).
zk_peer_answers() {
  local id
  for id in $(zk_candidates "$1"); do
    [[ $(ZK_4LW_TIMEOUT=$ZK_PEER_4LW_TIMEOUT zk_4lw_at "$(zk_member_host $((id - 1)))" "$ZOO_CLIENT_PORT" ruok) != imok ]] ||
      return 0
  done
  return 1
}

# zk_write_dynamic FILE MEMBERSHIP: write the server lines of MEMBERSHIP (no version line: ZooKeeper reads the
# version from the file name) as ZooKeeper writes them, sorted, atomically.
zk_write_dynamic() {
  grep '^server\.' <<<"$2" | sort >"$1.tmp"
  mv -f "$1.tmp" "$1"
}

# zk_write_joining FILE MEMBERSHIP: MEMBERSHIP's voters with weight 1 and this member with weight 0, one group. The
# member follows the leader the voters elected (their votes are a quorum of this view, as of theirs), and the leader
# counts it as a synced follower, which `reconfig -add` needs; a plain participant line would make a one-voter
# ensemble plus this member a two-voter view, where a leader needs both votes and the joiner would wait forever.
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
  } | sort >"$1.tmp"
  mv -f "$1.tmp" "$1"
}

# zk_seed_or_wait NEWEST: an empty member without a leader to join. Member 0 seeds a one-voter ensemble once no peer
# has answered for ZOO_SEED_WAIT seconds; every other member (and member 0 when a peer answers) waits for a leader.
# Prints the membership to start from.
zk_seed_or_wait() {
  local waited=0 said="" membership
  while true; do
    membership=$(zk_leader_membership "$1")
    if [[ -n $membership ]]; then
      echo "$membership"
      return 0
    fi
    if ((ZK_ORDINAL == 0)) && ! zk_peer_answers "$1"; then
      if ((waited >= ZOO_SEED_WAIT)); then
        echo "start.sh: no peer answered for ${ZOO_SEED_WAIT} s and this volume is empty: member 1 seeds a new" \
          "ensemble" >&2
        printf '%s\nversion=0\n' "$(zk_member_line "$ZK_MYID")"
        return 0
      fi
    else
      waited=0
    fi
    if [[ -z $said ]]; then
      said=1
      if ((ZK_ORDINAL == 0)); then
        echo "start.sh: this volume is empty; waiting for a leading peer to join (or ${ZOO_SEED_WAIT} s of silence" \
          "from every peer to seed a new ensemble)" >&2
      else
        echo "start.sh: this volume is empty; waiting for a leading peer to join" >&2
      fi
    fi
    sleep 1
    waited=$((waited + 1))
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
    membership=$(zk_seed_or_wait "$newest")
  fi
  version=$(zk_membership_version "$membership")
  ZK_DYNAMIC_FILE=$ZOO_DATA_DIR/zoo.cfg.dynamic.$version
  [[ -f $ZK_DYNAMIC_FILE ]] || zk_write_dynamic "$ZK_DYNAMIC_FILE" "$membership"
  if [[ " $(zk_voters "$membership") " != *" $ZK_MYID "* ]]; then
    ZK_JOINING_VERSION=$version
    ZK_DYNAMIC_FILE=$ZOO_DATA_DIR/zoo.cfg.joining.$version
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

# zk_reconfig ARGS...: `reconfig ARGS` as the super user through this member (a JVM: only when a change is due).
# Prints why it failed on one line and returns 1 when it did not commit.
zk_reconfig() {
  local output reason
  output=$(printf 'addauth digest super:%s\nreconfig %s\n' "${ZK_ADMIN_PASSWORD:-$(zk_admin_password)}" "$*" |
    timeout 90 "$ZK_HOME/bin/zkCli.sh" -server "127.0.0.1:$ZOO_CLIENT_PORT" 2>&1) || true
  if [[ $output == *"Committed new configuration"* ]]; then
    return 0
  fi
  reason=$(grep -vE '^$|Exiting JVM|WATCHER::|WatchedEvent|Welcome to ZooKeeper|JLine support|^Connecting to' \
    <<<"$output" | tail -n1)
  case "$reason" in # zkCli's words for NoAuth, BadVersion, ReconfigInProgress, NewConfigNoQuorum
    *"Insufficient permission"*)
      reason="no authority: ZooKeeper refused the admin password in $ZOO_ADMIN_PASSWORD_FILE (the leader started with another one?)"
      ;;
    *"version No is not valid"* | *"Another reconfiguration is in progress"*)
      reason="another change came first; trying again"
      ;;
    *"No quorum of new config"*) reason="the new membership would have no synced quorum yet; trying again" ;;
  esac
  echo "$reason"
  return 1
}

# zk_ensemble_tick: one look at the membership, and at most one change (see the header).
declare -A ZK_MISSES=()
zk_ensemble_tick() {
  local mode membership version voters count desired refusal id host gone=() why
  mode=$(zk_4lw "$ZOO_CLIENT_PORT" srvr | sed -n 's/^Mode: //p') || true
  [[ $mode == leader || $mode == follower || $mode == observer ]] || return 0
  membership=$(zk_4lw "$ZOO_CLIENT_PORT" conf | zk_membership) || true
  version=$(zk_membership_version "$membership")
  [[ -n $version ]] || return 0
  voters=$(zk_voters "$membership")
  if [[ $version == "$ZK_JOINING_VERSION" ]]; then
    voters=$(tr ' ' '\n' <<<"$voters" | grep -vx "$ZK_MYID" | paste -sd' ' -) # the joining view's weight-0 self
  fi
  count=$(wc -w <<<"$voters")
  desired=$(zk_desired)
  if [[ -n $desired ]]; then
    refusal=$(zk_step_refusal "$count" "$desired")
    if [[ -n $refusal ]]; then
      zk_say "refused: $refusal; the membership stays as it is"
      return 0
    fi
  fi
  if [[ " $voters " != *" $ZK_MYID "* ]]; then
    if [[ -n $desired ]] && ((ZK_ORDINAL >= desired)); then
      zk_say "member $ZK_MYID is not a voter and replicas=$desired leaves it out; nothing to do"
      return 0
    fi
    if why=$(zk_reconfig -v "$version" -add "$(zk_member_line "$ZK_MYID")"); then
      zk_say "member $ZK_MYID, a non-voting $mode, joined the $count voters of membership $version"
    else
      zk_say "member $ZK_MYID, a non-voting $mode, could not join the $count voters of membership $version yet: $why"
    fi
    return 0
  fi
  [[ $mode == leader && $desired =~ ^[0-9]+$ ]] || return 0
  for id in $voters; do
    ((id - 1 >= desired && id != ZK_MYID)) || continue
    host=$(zk_member_address "$membership" "$id")
    if [[ $(ZK_4LW_TIMEOUT=$ZK_PEER_4LW_TIMEOUT zk_4lw_at "$host" "$ZOO_CLIENT_PORT" ruok) == imok ]]; then
      ZK_MISSES[$id]=0
      continue
    fi
    ZK_MISSES[$id]=$((${ZK_MISSES[$id]:-0} + 1))
    ((ZK_MISSES[$id] < 2)) || gone+=("$id")
  done
  ((${#gone[@]})) || return 0
  if why=$(zk_reconfig -v "$version" -remove "$(
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
