"""The image's contract: the paths, keys, ports and script names that image/ (start.sh, ready_live.sh, metrics.sh),
base/statefulset.yaml and tools/ agree on. Policy rules check the manifests keep it, the local ensembles and the
real node set it up, smoke and the image tests rely on it. image/ and the manifests are the source; change a value
here only with them."""

# The volumes a member's container mounts.
ENSEMBLE_DIR = "/etc/zookeeper/ensemble"  # the ensemble ConfigMap: the member count the voting set grows or shrinks to
ENSEMBLE_KEY = "replicas"  # its key, the file the members read: ENSEMBLE_DIR/replicas
ADMIN_DIR = "/etc/zookeeper/admin"  # the admin Secret: the super user the members reconfigure the ensemble as
ADMIN_KEY = "password"  # its key, the file: ADMIN_DIR/password
TLS_DIR = "/etc/zookeeper/tls"  # the TLS Secret (tls.crt, tls.key, ca.crt): when mounted, TLS for clients and quorum
DATA_VOLUME_DIR = "/var/lib/zookeeper"  # the data volume (the StatefulSet's volumeClaimTemplate)
DATA_DIR = f"{DATA_VOLUME_DIR}/data"  # start.sh's default ZOO_DATA_DIR, on that volume
ZK_HOME = "/opt/zookeeper"  # the image's ZooKeeper installation (bin/zk-common.sh, conf/)
CONF_DIR = f"{ZK_HOME}/conf"  # start.sh's ZOO_CONF_DIR: a scratch directory (an emptyDir) it writes zoo.cfg into

# start.sh's default ports (ZOO_CLIENT_PORT, ZOO_SERVER_PORT, ZOO_ELECTION_PORT, ZOO_METRICS_PORT).
CLIENT_PORT = 2181
SECURE_CLIENT_PORT = 2281  # TLS, when the TLS Secret is mounted (ZOO_SECURE_CLIENT_PORT)
SERVER_PORT = 2888  # quorum
ELECTION_PORT = 3888  # leader election
METRICS_PORT = 7000  # Prometheus /metrics

# The scripts on the image's PATH that probes and checks exec.
PROBE_SCRIPT = "ready_live.sh"  # `ready_live.sh PORT ready|live`
METRICS_SCRIPT = "metrics.sh"  # `metrics.sh PORT`: mntr
LEAVE_SCRIPT = "leave.sh"  # the preStop hook: a member a scale-down removes leaves the voters first

# The annotation of a node that kwok runs (value "fake"): its pods run no containers.
KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"
