#!/usr/bin/env bash
# Usage: start.sh [--servers=N] [--data_dir=DIR] ... (start.sh --help lists every flag)
# Starts one ZooKeeper ensemble member. Each setting comes from its flag, else its ZOO_* environment variable
# (the ConfigMap), else the default below. myid (ordinal + 1) and the member names come from the StatefulSet hostname
# (<statefulset>-<ordinal>) and the pod's FQDN (<host>.<headless>.<namespace>.svc.<cluster domain>); ZOO_HEADLESS_SERVICE,
# POD_NAMESPACE and ZOO_CLUSTER_DOMAIN override the FQDN's parts. On a StatefulSet pod the membership is dynamic
# (image/ensemble.sh): start.sh writes zoo.cfg and the dynamic membership on the data volume, starts the ensemble loop
# beside the JVM, then execs java so signals reach ZooKeeper. Without an ordinal in the hostname, or with
# ZOO_SERVERS=1, the member runs standalone.
set -Eeuo pipefail

# shellcheck source-path=SCRIPTDIR source=zk-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/zk-common.sh"
# shellcheck source-path=SCRIPTDIR source=ensemble.sh
source "$(dirname "${BASH_SOURCE[0]}")/ensemble.sh"
# shellcheck source-path=SCRIPTDIR source=tls.sh
source "$(dirname "${BASH_SOURCE[0]}")/tls.sh"

GENERATED_MARK="# Written by start.sh; a zoo.cfg without this line is the user's own and is left alone."

# flag -> environment variable
declare -A ZK_FLAGS=(
  [servers]=ZOO_SERVERS [data_dir]=ZOO_DATA_DIR [data_log_dir]=ZOO_DATA_LOG_DIR [conf_dir]=ZOO_CONF_DIR
  [client_port]=ZOO_CLIENT_PORT [secure_client_port]=ZOO_SECURE_CLIENT_PORT [tls_client_auth]=ZOO_TLS_CLIENT_AUTH
  [server_port]=ZOO_SERVER_PORT [election_port]=ZOO_ELECTION_PORT
  [metrics_port]=ZOO_METRICS_PORT [tick_time]=ZOO_TICK_TIME [init_limit]=ZOO_INIT_LIMIT [sync_limit]=ZOO_SYNC_LIMIT
  [heap]=ZOO_HEAP [max_client_cnxns]=ZOO_MAX_CLIENT_CNXNS [snap_retain_count]=ZOO_SNAP_RETAIN_COUNT
  [purge_interval]=ZOO_PURGE_INTERVAL [max_session_timeout]=ZOO_MAX_SESSION_TIMEOUT
  [min_session_timeout]=ZOO_MIN_SESSION_TIMEOUT [log_level]=ZOO_LOG_LEVEL
)

zk_usage() {
  local flag
  echo "usage: start.sh [--FLAG=VALUE | --FLAG VALUE]...; flags (each overrides its environment variable):"
  for flag in $(printf '%s\n' "${!ZK_FLAGS[@]}" | sort); do
    echo "  --$flag  (${ZK_FLAGS[$flag]})"
  done
}

# Flags win over the environment: each one sets its ZOO_* variable.
zk_parse_flags() {
  local arg name value
  while (($#)); do
    arg=$1
    shift
    case "$arg" in
      -h | --help)
        zk_usage
        exit 0
        ;;
      --*=*) name=${arg%%=*} value=${arg#*=} ;;
      --*)
        name=$arg
        if (($# == 0)) || [[ $1 == --* ]]; then
          echo "error: flag $name needs a value (--${name#--}=VALUE)" >&2
          exit 2
        fi
        value=$1
        shift
        ;;
      *)
        echo "error: unexpected argument '$arg' (flags look like --servers=3; see start.sh --help)" >&2
        exit 2
        ;;
    esac
    name=${name#--}
    if [[ -z ${ZK_FLAGS[$name]:-} ]]; then
      echo "error: unknown flag --$name (see start.sh --help)" >&2
      exit 2
    fi
    printf -v "${ZK_FLAGS[$name]}" '%s' "$value"
  done
}

# Defaults apply only to settings that are unset: a setting given as an empty value (`ZOO_SERVERS=` in a ConfigMap,
# `--servers=`) is an error in zk_validate, never silently the default (an empty ZOO_SERVERS would start standalone).
zk_defaults() {
  # ZOO_SERVERS stays unset unless given: 1 means standalone, N > 1 the members of a static-config ensemble (read
  # only when a volume of that older image has no dynamic membership yet).
  : "${ZOO_DATA_DIR=/var/lib/zookeeper/data}"
  : "${ZOO_DATA_LOG_DIR=}"
  : "${ZOO_CONF_DIR=$ZK_HOME/conf}"
  : "${ZOO_CLIENT_PORT=2181}"
  : "${ZOO_SECURE_CLIENT_PORT=2281}" # TLS, when the TLS files are mounted (image/tls.sh)
  : "${ZOO_TLS_CLIENT_AUTH=need}"    # need: a client without a certificate from the CA is refused at the handshake
  : "${ZOO_SERVER_PORT=2888}"
  : "${ZOO_ELECTION_PORT=3888}"
  : "${ZOO_METRICS_PORT=7000}"
  : "${ZOO_TICK_TIME=2000}"
  : "${ZOO_INIT_LIMIT=10}"
  : "${ZOO_SYNC_LIMIT=5}"
  : "${ZOO_MAX_CLIENT_CNXNS=60}"
  : "${ZOO_SNAP_RETAIN_COUNT=3}"
  : "${ZOO_PURGE_INTERVAL=12}"
  : "${ZOO_MAX_SESSION_TIMEOUT=40000}"
  : "${ZOO_MIN_SESSION_TIMEOUT=4000}"
  : "${ZOO_LOG_LEVEL=INFO}"
  : "${ZOO_4LW_COMMANDS_WHITELIST=ruok,srvr,mntr,conf}"
  : "${ZOO_JVM_FLAGS=}"
}

# Settings whose empty value is an error (unset, each has a default); ZOO_HEAP unset means "derived from the limit".
ZK_NOT_EMPTY=(
  ZOO_SERVERS ZOO_DATA_DIR ZOO_CONF_DIR ZOO_CLIENT_PORT ZOO_SECURE_CLIENT_PORT ZOO_TLS_CLIENT_AUTH ZOO_SERVER_PORT ZOO_ELECTION_PORT ZOO_METRICS_PORT
  ZOO_TICK_TIME ZOO_INIT_LIMIT ZOO_SYNC_LIMIT ZOO_HEAP ZOO_MAX_CLIENT_CNXNS ZOO_SNAP_RETAIN_COUNT ZOO_PURGE_INTERVAL
  ZOO_MAX_SESSION_TIMEOUT ZOO_MIN_SESSION_TIMEOUT ZOO_LOG_LEVEL ZOO_4LW_COMMANDS_WHITELIST
  ZOO_HEADLESS_SERVICE POD_NAMESPACE ZOO_CLUSTER_DOMAIN
)

# The four-letter words the image's own scripts send: ready_live.sh live (ruok), ready (srvr), metrics.sh (mntr);
# the ensemble loop and a joining member also read the membership (conf).
ZK_SCRIPT_WORDS=(ruok srvr mntr)
ZK_ENSEMBLE_WORDS=(conf)

# The heap's floor, and the headroom above it (metaspace, threads, direct buffers, GC) under a memory limit:
# max(128Mi, 25% of the limit), the numbers of policy rule ZK-RES-004 (tools/policy/rules.py, headroom()).
ZK_MIN_HEAP_MIB=64
ZK_HEADROOM_MIN_MIB=128
ZK_HEADROOM_PERCENT=25

# zk_setting VAR: how a message names a setting, e.g. "--client_port/ZOO_CLIENT_PORT".
zk_setting() {
  local flag
  for flag in "${!ZK_FLAGS[@]}"; do
    if [[ ${ZK_FLAGS[$flag]} == "$1" ]]; then
      echo "--$flag/$1"
      return
    fi
  done
  echo "$1"
}

# Report every bad setting (one line each), then exit 2 if there was one. Sets ZK_HEAP, the -Xmx start.sh gives.
zk_validate() {
  local errors=() var
  for var in "${ZK_NOT_EMPTY[@]}"; do
    if [[ -v $var && -z ${!var} ]]; then
      errors+=("$(zk_setting "$var") is empty; leave it unset for the default, or give a value")
    fi
  done
  for var in ZOO_CLIENT_PORT ZOO_SECURE_CLIENT_PORT ZOO_SERVER_PORT ZOO_ELECTION_PORT ZOO_METRICS_PORT; do
    [[ -n ${!var} ]] || continue
    if ! [[ ${!var} =~ ^[0-9]+$ ]] || ((10#${!var} < 1 || 10#${!var} > 65535)); then
      errors+=("$(zk_setting "$var")='${!var}' is not a port number (1-65535)")
    fi
  done
  for var in ZOO_SERVERS ZOO_TICK_TIME ZOO_INIT_LIMIT ZOO_SYNC_LIMIT ZOO_MAX_SESSION_TIMEOUT ZOO_MIN_SESSION_TIMEOUT \
    ZOO_ENSEMBLE_INTERVAL ZOO_LEADER_CHECK_TICKS; do
    [[ -z ${!var:-} || ${!var} =~ ^[1-9][0-9]{0,8}$ ]] || errors+=("$(zk_setting "$var")='${!var}' is not a positive integer")
  done
  for var in ZOO_MAX_CLIENT_CNXNS ZOO_PURGE_INTERVAL; do
    [[ -z ${!var} || ${!var} =~ ^[0-9]{1,9}$ ]] || errors+=("$(zk_setting "$var")='${!var}' is not a non-negative integer")
  done
  if [[ -n $ZOO_SNAP_RETAIN_COUNT ]] && { ! [[ $ZOO_SNAP_RETAIN_COUNT =~ ^[0-9]{1,9}$ ]] || ((10#$ZOO_SNAP_RETAIN_COUNT < 3)); }; then
    errors+=("$(zk_setting ZOO_SNAP_RETAIN_COUNT)='$ZOO_SNAP_RETAIN_COUNT' must be an integer >= 3 (ZooKeeper's minimum)")
  fi
  [[ -z $ZOO_TLS_CLIENT_AUTH || $ZOO_TLS_CLIENT_AUTH =~ ^(need|want|none)$ ]] ||
    errors+=("$(zk_setting ZOO_TLS_CLIENT_AUTH)='$ZOO_TLS_CLIENT_AUTH' is not one of need want none")
  [[ -z $ZOO_LOG_LEVEL || $ZOO_LOG_LEVEL =~ ^(TRACE|DEBUG|INFO|WARN|ERROR|OFF)$ ]] ||
    errors+=("$(zk_setting ZOO_LOG_LEVEL)='$ZOO_LOG_LEVEL' is not one of TRACE DEBUG INFO WARN ERROR OFF")
  [[ -z $ZOO_DATA_DIR || $ZOO_DATA_DIR == /* ]] || errors+=("$(zk_setting ZOO_DATA_DIR)='$ZOO_DATA_DIR' is not an absolute path")
  [[ -z $ZOO_DATA_LOG_DIR || $ZOO_DATA_LOG_DIR == /* ]] ||
    errors+=("$(zk_setting ZOO_DATA_LOG_DIR)='$ZOO_DATA_LOG_DIR' is not an absolute path")
  [[ -z $ZOO_CONF_DIR || $ZOO_CONF_DIR == /* ]] || errors+=("$(zk_setting ZOO_CONF_DIR)='$ZOO_CONF_DIR' is not an absolute path")
  if [[ ${errors[*]:-} == "" && $ZOO_MIN_SESSION_TIMEOUT -gt $ZOO_MAX_SESSION_TIMEOUT ]]; then
    errors+=("$(zk_setting ZOO_MIN_SESSION_TIMEOUT)=$ZOO_MIN_SESSION_TIMEOUT is above $(zk_setting ZOO_MAX_SESSION_TIMEOUT)=$ZOO_MAX_SESSION_TIMEOUT")
  fi
  local line
  while IFS= read -r line; do
    [[ -z $line ]] || errors+=("$line")
  done < <(zk_check_whitelist; zk_check_ports; zk_check_member; ! zk_dynamic || zk_check_admin)
  zk_check_heap # sets ZK_HEAP; in this shell, so the value survives
  errors+=("${ZK_HEAP_ERRORS[@]}")
  if ((${#errors[@]})); then
    for var in "${errors[@]}"; do
      echo "error: $var" >&2
    done
    exit 2
  fi
}

# zk_check_whitelist: a line if the 4lw whitelist lacks a word the image's probes or metrics.sh send.
zk_check_whitelist() {
  local -a words missing=()
  local word
  IFS=', ' read -r -a words <<<"$ZOO_4LW_COMMANDS_WHITELIST"
  [[ -n $ZOO_4LW_COMMANDS_WHITELIST && " ${words[*]} " != *" * "* ]] || return 0
  for word in "${ZK_SCRIPT_WORDS[@]}"; do
    [[ " ${words[*]} " == *" $word "* ]] || missing+=("$word")
  done
  if ((${#missing[@]})); then
    local IFS=,
    echo "ZOO_4LW_COMMANDS_WHITELIST='$ZOO_4LW_COMMANDS_WHITELIST' lacks ${missing[*]}: liveness sends ruok, readiness" \
      "srvr and metrics.sh mntr, so the member would fail its probes; add ${missing[*]} (or use *)"
  elif zk_dynamic && [[ " ${words[*]} " != *" ${ZK_ENSEMBLE_WORDS[0]} "* ]]; then
    echo "ZOO_4LW_COMMANDS_WHITELIST='$ZOO_4LW_COMMANDS_WHITELIST' lacks conf: the ensemble loop and joining members" \
      "read the membership with conf; add conf (or use *)"
  fi
}

# zk_check_ports: a line for each port that repeats an earlier one (ZooKeeper would die binding it).
zk_check_ports() {
  local -A seen=()
  local var
  for var in ZOO_CLIENT_PORT ZOO_SECURE_CLIENT_PORT ZOO_SERVER_PORT ZOO_ELECTION_PORT ZOO_METRICS_PORT; do
    [[ ${!var} =~ ^[0-9]+$ ]] || continue
    if [[ -n ${seen[$((10#${!var}))]:-} ]]; then
      echo "$(zk_setting "$var")=${!var} is also $(zk_setting "${seen[$((10#${!var}))]}"); the client, secure" \
        "client, quorum, election and metrics ports must all differ"
    else
      seen[$((10#${!var}))]=$var
    fi
  done
}

# zk_check_member: a line when ZOO_SERVERS > 1 and the hostname has no ordinal to make myid from.
zk_check_member() {
  [[ ${ZOO_SERVERS:-} =~ ^[1-9][0-9]{0,8}$ ]] && ((ZOO_SERVERS > 1)) || return 0
  zk_myid "$(hostname)" >/dev/null 2>&1 ||
    echo "$(zk_setting ZOO_SERVERS)=$ZOO_SERVERS needs a StatefulSet hostname (<name>-<ordinal>) for myid, but the" \
      "hostname is '$(hostname)'"
}

# zk_dynamic: the membership is dynamic (a StatefulSet hostname and no ZOO_SERVERS=1); else the member is standalone.
zk_dynamic() {
  [[ ${ZOO_SERVERS:-} != 1 ]] && zk_myid "$(hostname)" >/dev/null 2>&1
}

# zk_mib SIZE: a JVM size (512M, 1g, 65536k) in MiB, rounded down; empty if SIZE is not one (or absurdly long).
zk_mib() {
  [[ $1 =~ ^([1-9][0-9]{0,11})([kKmMgG])$ ]] || return 0
  local n=$((10#${BASH_REMATCH[1]}))
  case "${BASH_REMATCH[2]}" in
    k | K) echo $((n / 1024)) ;;
    m | M) echo "$n" ;;
    g | G) echo $((n * 1024)) ;;
  esac
}

# zk_max_heap_mib LIMIT_BYTES: the largest heap that leaves the headroom under the limit (ZK-RES-004's rule).
zk_max_heap_mib() {
  local mib=$(($1 / 1024 / 1024)) headroom
  headroom=$((mib * ZK_HEADROOM_PERCENT / 100))
  ((headroom >= ZK_HEADROOM_MIN_MIB)) || headroom=$ZK_HEADROOM_MIN_MIB
  echo $((mib - headroom))
}

# zk_check_heap: set ZK_HEAP (explicit: the last -Xmx in ZOO_JVM_FLAGS, else ZOO_HEAP; else derived from the limit)
# and ZK_HEAP_ERRORS: not a size, below the minimum, no headroom under the cgroup memory limit, above the machine's
# memory when there is no limit.
zk_check_heap() {
  ZK_HEAP="" ZK_HEAP_ERRORS=()
  local name="" value="" mib limit flag flags=()
  read -r -a flags <<<"$ZOO_JVM_FLAGS"
  for flag in "${flags[@]}"; do
    [[ $flag != -Xmx* ]] || { name="ZOO_JVM_FLAGS -Xmx" value=${flag#-Xmx}; }
  done
  if [[ -z $name && -n ${ZOO_HEAP:-} ]]; then
    name="$(zk_setting ZOO_HEAP)=" value=$ZOO_HEAP
  fi
  [[ ! -v ZOO_HEAP || -n $ZOO_HEAP || -n $value ]] || return 0 # empty: reported as such
  limit=$(zk_memory_limit)
  if [[ -n $name ]]; then
    mib=$(zk_mib "$value")
    if [[ -z $mib ]]; then
      ZK_HEAP_ERRORS+=("$name'$value' is not a heap size like 256M or 1G")
      return 0
    fi
    ZK_HEAP=$value
    if ((mib < ZK_MIN_HEAP_MIB)); then
      ZK_HEAP_ERRORS+=("$name$value is below the ${ZK_MIN_HEAP_MIB}M minimum heap ZooKeeper needs")
    elif [[ -n $limit ]] && ((mib > $(zk_max_heap_mib "$limit"))); then
      ZK_HEAP_ERRORS+=("$name$value plus headroom (max(${ZK_HEADROOM_MIN_MIB}Mi, ${ZK_HEADROOM_PERCENT}% of the limit)) exceeds\
 the container's memory limit of $((limit / 1024 / 1024))Mi: the member would be OOM-killed; give at most\
 $(zk_max_heap_mib "$limit")M or raise the limit")
    elif [[ -z $limit ]] && ((mib > $(zk_host_memory_mib))); then
      ZK_HEAP_ERRORS+=("$name$value is more than the node's memory ($(zk_host_memory_mib)Mi)")
    fi
    return 0
  fi
  ZK_HEAP=$(zk_heap_for_limit "$limit")
  if ((${ZK_HEAP%M} < ZK_MIN_HEAP_MIB)); then
    ZK_HEAP_ERRORS+=("the container's memory limit of $((limit / 1024 / 1024))Mi leaves no ${ZK_MIN_HEAP_MIB}M heap after\
 the headroom of ${ZK_HEADROOM_MIN_MIB}Mi; raise the limit to at least $((ZK_MIN_HEAP_MIB + ZK_HEADROOM_MIN_MIB))Mi")
  fi
}

# zk_host_memory_mib: the machine's memory (MemTotal) in MiB.
zk_host_memory_mib() {
  awk '/^MemTotal:/ { printf "%d\n", $2 / 1024 }' /proc/meminfo
}

# zk_ordinal HOST: the StatefulSet ordinal at the end of HOST (zk-zookeeper-2 -> 2).
zk_ordinal() {
  local host=${1%%.*}
  if ! [[ $host =~ ^(.+)-([0-9]+)$ ]]; then
    echo "error: hostname '$1' does not end in -<ordinal> as a StatefulSet pod's does" >&2
    return 2
  fi
  echo $((10#${BASH_REMATCH[2]}))
}

# zk_myid HOST: ordinal + 1 (zk-zookeeper-2 -> 3).
zk_myid() {
  local ordinal
  ordinal=$(zk_ordinal "$1") || return 2
  echo $((ordinal + 1))
}

# zk_statefulset HOST: the StatefulSet name (zk-zookeeper-2 -> zk-zookeeper).
zk_statefulset() {
  zk_ordinal "$1" >/dev/null || return 2
  local host=${1%%.*}
  echo "${host%-*}"
}

# zk_fqdn_part FQDN N: field N of <host>.<headless>.<namespace>.svc.<domain> (2 headless, 3 namespace,
# 5 cluster domain); empty when FQDN is not shaped like that.
zk_fqdn_part() {
  local -a labels
  IFS=. read -r -a labels <<<"$1"
  if ((${#labels[@]} < 5)) || [[ ${labels[3]} != svc ]]; then
    return 0
  fi
  case "$2" in
    5) (
      IFS=.
      echo "${labels[*]:4}"
    ) ;;
    *) echo "${labels[$(($2 - 1))]}" ;;
  esac
}

# zk_memory_limit: the container's memory limit in bytes (cgroup v2 or v1); empty when there is none.
zk_memory_limit() {
  local root=${ZK_CGROUP_ROOT:-/sys/fs/cgroup} limit="" host_total
  if [[ -r $root/memory.max ]]; then
    limit=$(<"$root/memory.max")
  elif [[ -r $root/memory/memory.limit_in_bytes ]]; then
    limit=$(<"$root/memory/memory.limit_in_bytes")
  fi
  [[ $limit =~ ^[0-9]+$ ]] || return 0
  host_total=$(awk '/^MemTotal:/ { printf "%d\n", $2 * 1024 }' /proc/meminfo 2>/dev/null || echo 0)
  if [[ $host_total =~ ^[0-9]+$ ]] && ((host_total > 0 && limit >= host_total)); then
    return 0 # "unlimited" on cgroup v1 is a huge number
  fi
  echo "$limit"
}

# zk_heap_for_limit BYTES: half the limit in MiB (the rest is metaspace, threads, buffers and page cache), at most
# what leaves ZK-RES-004's headroom (small limits); ZooKeeper's own default (1000M) when there is no limit.
zk_heap_for_limit() {
  if [[ -z ${1:-} ]]; then
    echo 1000M
    return
  fi
  local mib=$(($1 / 1024 / 1024 / 2)) max
  max=$(zk_max_heap_mib "$1")
  ((mib <= max)) || mib=$max
  ((mib >= 0)) || mib=0
  echo "${mib}M"
}

# zk_write_config FILE MYID SERVERS [DYNAMIC_FILE]: ZooKeeper's config; with DYNAMIC_FILE the membership is dynamic
# (kept in that file), else SERVERS are static server.N lines (MYID > 0) or the member is standalone (MYID 0).
zk_write_config() {
  local file=$1 myid=$2 servers=$3 dynamic=${4:-}
  {
    echo "$GENERATED_MARK"
    echo "dataDir=$ZOO_DATA_DIR"
    [[ -z $ZOO_DATA_LOG_DIR ]] || echo "dataLogDir=$ZOO_DATA_LOG_DIR"
    echo "clientPort=$ZOO_CLIENT_PORT"
    echo "tickTime=$ZOO_TICK_TIME"
    echo "initLimit=$ZOO_INIT_LIMIT"
    echo "syncLimit=$ZOO_SYNC_LIMIT"
    echo "maxClientCnxns=$ZOO_MAX_CLIENT_CNXNS"
    echo "minSessionTimeout=$ZOO_MIN_SESSION_TIMEOUT"
    echo "maxSessionTimeout=$ZOO_MAX_SESSION_TIMEOUT"
    echo "autopurge.snapRetainCount=$ZOO_SNAP_RETAIN_COUNT"
    echo "autopurge.purgeInterval=$ZOO_PURGE_INTERVAL"
    echo "4lw.commands.whitelist=$ZOO_4LW_COMMANDS_WHITELIST"
    if [[ -n $ZK_TLS ]]; then
      zk_tls_config
      # standalone: the plaintext port on loopback only (with a dynamic membership the member's server line says so)
      [[ -n $dynamic ]] || echo "clientPortAddress=127.0.0.1"
    fi
    echo "admin.enableServer=false"
    echo "quorumListenOnAllIPs=true"
    echo "metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"
    echo "metricsProvider.httpPort=$ZOO_METRICS_PORT"
    echo "metricsProvider.exportJvmInfo=true"
    if [[ -n $dynamic ]]; then
      echo "reconfigEnabled=true"
      echo "standaloneEnabled=false"
      echo "dynamicConfigFile=$dynamic"
    elif ((myid > 0)); then
      echo "$servers"
    else
      echo "standaloneEnabled=true"
    fi
  } | zk_write_atomic "$file"
}

# The image's class-data-sharing archive of what a member loads from start to quorum (image/cds-train.sh writes
# it at build time); the JVM maps it instead of loading and verifying those classes one by one.
ZK_CDS_ARCHIVE=$ZK_HOME/lib/server.jsa
ZK_ELECTION_RETRY_MS=1000

# zk_server_command CONFIG: the member's JVM command line (heap ZK_HEAP, and ZK_SUPER_DIGEST when set) in the array
# ZK_COMMAND.
zk_server_command() {
  local logback=$ZK_HOME/etc/logback.xml cds=()
  [[ ! -f $ZOO_CONF_DIR/logback.xml ]] || logback=$ZOO_CONF_DIR/logback.xml
  [[ ! -f $ZK_CDS_ARCHIVE ]] || cds=(-XX:SharedArchiveFile="$ZK_CDS_ARCHIVE")
  [[ -z ${ZK_SUPER_DIGEST:-} ]] || cds+=(-Dzookeeper.DigestAuthenticationProvider.superDigest="super:$ZK_SUPER_DIGEST")
  # An election looks again at most every ZK_ELECTION_RETRY_MS (ZooKeeper doubles from 200 ms up to 60 s): peers whose
  # names resolve only once their pods have addresses (the headless Service) are seen within that, not 12 s later.
  # ZOO_JVM_FLAGS comes after, so a -D there wins.
  cds+=(-Dzookeeper.fastleader.maxNotificationInterval="$ZK_ELECTION_RETRY_MS")
  # shellcheck disable=SC2206 # ZOO_JVM_FLAGS is a list of flags
  ZK_COMMAND=(java -Xmx"$ZK_HEAP" -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError "${cds[@]}" $ZOO_JVM_FLAGS
    -Dlogback.configurationFile="$logback" -Dzookeeper.log.level="$ZOO_LOG_LEVEL"
    -cp "$(zk_classpath)" org.apache.zookeeper.server.quorum.QuorumPeerMain "$1")
}

zk_write_myid() {
  local dir=$1 myid=$2 current
  if [[ -L $dir/myid ]]; then
    rm -f "$dir/myid" # Debian's package links it into /etc; a volume must hold its own
  fi
  if [[ -f $dir/myid ]]; then
    current=$(<"$dir/myid")
    if [[ $current != "$myid" ]]; then
      echo "error: $dir/myid says $current but this pod's hostname makes it $myid: the volume belongs to another member" >&2
      exit 2
    fi
    return 0
  fi
  echo "$myid" >"$dir/myid"
}

# zk_setup_tls NAME: with the TLS files mounted, check them for the member called NAME (one line each and exit 2 when
# they cannot serve it) and install them for ZooKeeper; sets ZK_TLS. Without them, nothing.
ZK_TLS=""
zk_setup_tls() {
  local problems line
  zk_tls_enabled || return 0
  problems=$(zk_tls_problems "$1")
  if [[ -n $problems ]]; then
    while IFS= read -r line; do
      echo "error: $line" >&2
    done <<<"$problems"
    exit 2
  fi
  zk_tls_install
  ZK_TLS=1
  echo "start.sh: TLS on: clients on port $ZOO_SECURE_CLIENT_PORT (client certificates: $ZOO_TLS_CLIENT_AUTH), the" \
    "quorum and elections over TLS, plaintext port $ZOO_CLIENT_PORT on 127.0.0.1 only" >&2
}

main() {
  umask 0002 # group 0 keeps write access when the next start runs under another (arbitrary) uid
  # bash as PID 1 ignores SIGTERM unless it traps it: without this a delete during the wait for a leader would take
  # the whole grace period. java, exec'd later, handles SIGTERM itself.
  trap 'echo "start.sh: stopped (SIGTERM) before ZooKeeper started" >&2; kill $(jobs -p) 2>/dev/null; exit 143' TERM
  zk_parse_flags "$@"
  zk_defaults
  zk_validate
  rm -f "$ZOO_STATE_DIR/stopping" # leave.sh's mark from a stop before this restart in the same pod (/tmp stays)

  local host fqdn myid=0 headless namespace domain config mounted=""
  host=$(hostname)
  fqdn=$(hostname -f 2>/dev/null || echo "$host")
  mkdir -p "$ZOO_DATA_DIR" "$ZOO_CONF_DIR" ${ZOO_DATA_LOG_DIR:+"$ZOO_DATA_LOG_DIR"}
  config=$ZOO_CONF_DIR/zoo.cfg
  if [[ -e $config && ! -L $config ]] && ! grep -qxF "$GENERATED_MARK" "$config"; then
    mounted=1
    echo "start.sh: using the mounted $config as it is (its membership is yours to manage: no ensemble loop)" >&2
  fi
  if zk_dynamic; then # zk_validate made sure the hostname has an ordinal and the admin password is there
    ZK_ORDINAL=$(zk_ordinal "$host")
    ZK_MYID=$((ZK_ORDINAL + 1)) myid=$((ZK_ORDINAL + 1))
    ZK_STS=$(zk_statefulset "$host")
    headless=${ZOO_HEADLESS_SERVICE:-$(zk_fqdn_part "$fqdn" 2)}
    namespace=${POD_NAMESPACE:-$(zk_fqdn_part "$fqdn" 3)}
    domain=${ZOO_CLUSTER_DOMAIN:-$(zk_fqdn_part "$fqdn" 5)}
    ZK_PEER_DOMAIN="${headless:-$ZK_STS-headless}.${namespace:-default}.svc.${domain:-cluster.local}"
    zk_write_myid "$ZOO_DATA_DIR" "$myid"
    zk_setup_tls "$(zk_member_host "$ZK_ORDINAL")"
    ZK_ADMIN_PASSWORD=$(zk_admin_password)
    ZK_SUPER_DIGEST=$(zk_super_digest "$ZK_ADMIN_PASSWORD")
    if [[ -z $mounted ]]; then
      zk_prepare_membership
      config=$ZOO_DATA_DIR/zoo.cfg # beside it ZooKeeper writes every new membership: on the data volume
      zk_write_config "$config" "$myid" "" "$ZK_DYNAMIC_FILE"
      ln -sfn "$config" "$ZOO_CONF_DIR/zoo.cfg"
      zk_ensemble_loop $$ </dev/null &
    fi
  else
    zk_write_myid "$ZOO_DATA_DIR" 1
    zk_setup_tls "$fqdn"
    [[ -n $mounted ]] || zk_write_config "$config" 0 ""
  fi

  echo "start.sh: member ${myid} (0 = standalone)${ZK_JOINING_VERSION:+, joining}, heap $ZK_HEAP${ZOO_HEAP:+ (given)}," \
    "config $config" >&2
  zk_set_phase running # from here the JVM answers for the member (a stale `waiting` would keep it live)
  zk_server_command "$config"
  exec "${ZK_COMMAND[@]}"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
