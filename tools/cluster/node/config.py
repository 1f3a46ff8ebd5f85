"""The real node's configuration files, as text: containerd, CNI, kubelet, kube-proxy, CoreDNS, local-path-provisioner.

Pure functions of the paths and ports `up` chose; every path is under the node's own directory, so nothing of this
machine's own configuration (/etc/containerd, /etc/cni, /var/lib/kubelet) is read or written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from tools.cluster.pki import SERVICE_CLUSTER_IP_RANGE

NODE_NAME = "kz-real-1"
BRIDGE = "kzbr0"
POD_SUBNET = "10.250.0.0/24"  # the real node's pods; kwok's fake pod IPs come from 10.244.0.0/16
NODE_IP = "10.250.0.1"  # the bridge's address: the kubelet, CoreDNS and the node's InternalIP listen here
CLUSTER_DOMAIN = "cluster.local"
CNI_BIN_DIR = Path("/usr/lib/cni")  # Debian's containernetworking-plugins
CNI_PLUGINS = ("bridge", "host-local", "loopback")
PAUSE_IMAGE = "localhost/kube-zookeeper-pause:1"
HELPER_IMAGE = "localhost/kube-zookeeper-busybox:1"  # local-path-provisioner's helper pods (mkdir/rm of a volume)
REAL_STORAGE_CLASS = "standard"  # the kind profiles' class: real volumes on the real node (kwok keeps kwok-volume)
STORAGE_NAMESPACE = "local-path-storage"
PROVISIONER = "rancher.io/local-path"
PROVISIONER_SERVICE_ACCOUNT = "local-path-provisioner-service-account"
CONFIG_MAP = "local-path-config"
# API users (tokens.csv) of the node's processes, with their groups; RBAC below binds the two that need rules.
USERS = {
    "kubelet": (f"system:node:{NODE_NAME}", "system:nodes"),
    "kube-proxy": ("system:kube-proxy", ""),  # bound to system:node-proxier by the API server's default RBAC
    "coredns": ("kube-zookeeper:coredns", ""),
    "local-path-provisioner": ("kube-zookeeper:local-path-provisioner", ""),
}
APISERVER_KUBELET_CLIENT = "kube-apiserver-kubelet-client"  # the API server's client cert for exec, logs


@dataclass(frozen=True)
class Layout:
    """Where the node keeps everything, under <cluster>/node."""

    root: Path

    @property
    def socket(self) -> Path:
        return self.root / "containerd.sock"

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)


def containerd_toml(layout: Layout) -> str:
    """containerd 1.6 (config version 2): CRI with runc and cgroupfs, overlayfs, CNI from Debian's plugins.

    restrict_oom_score_adj: where root lacks CAP_SYS_RESOURCE (in a container or a restricted VM), no process may
    get a lower oom_score_adj than its parent; without it every sandbox fails with "can't get final child's PID
    from pipe"."""
    cri = '[plugins."io.containerd.grpc.v1.cri"'
    return f"""\
version = 2
root = "{layout.path('containerd', 'root')}"
state = "{layout.path('containerd', 'state')}"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = "{layout.socket}"

[metrics]
  address = ""

{cri}]
  sandbox_image = "{PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true

{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

{cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = "{layout.path('runc')}"

{cri}.cni]
  bin_dir = "{CNI_BIN_DIR}"
  conf_dir = "{layout.path('cni', 'net.d')}"
  max_conf_num = 1
"""


def cni_conflist(layout: Layout) -> str:
    """One bridge (created by `up` with NODE_IP, so the kubelet and CoreDNS can bind before the first pod). The pods'
    route to the Services' range goes through it, where kube-proxy's rules send a ClusterIP on (the `kubernetes`
    Service: the members' pre-stop hook asks the API server)."""
    return json.dumps(
        {
            "cniVersion": "1.0.0",
            "name": "kube-zookeeper",
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": BRIDGE,
                    "isGateway": True,
                    "ipMasq": False,
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": POD_SUBNET, "gateway": NODE_IP}]],
                        "routes": [{"dst": SERVICE_CLUSTER_IP_RANGE}],
                        "dataDir": str(layout.path("cni", "ipam")),
                    },
                }
            ],
        },
        indent=2,
    )


def kubelet_yaml(layout: Layout, ports: dict[str, int], ca: Path) -> str:
    """The KubeletConfiguration: cgroupfs (no systemd), CRI on our socket, DNS at the bridge, our own dirs."""
    config = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": NODE_IP,
        "port": ports["kubelet"],
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": ports["kubelet-healthz"],
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(ca)},
        },
        "authorization": {"mode": "Webhook"},
        "cgroupDriver": "cgroupfs",
        "cgroupsPerQOS": True,
        "failSwapOn": False,
        "containerRuntimeEndpoint": f"unix://{layout.socket}",
        "clusterDNS": [NODE_IP],
        "clusterDomain": CLUSTER_DOMAIN,
        "resolvConf": str(layout.path("resolv.conf")),
        "oomScoreAdj": 0,  # no CAP_SYS_RESOURCE: the kubelet cannot lower its own
        "makeIPTablesUtilChains": False,
        "volumePluginDir": str(layout.path("volume-plugins")),
        "podLogsDir": str(layout.path("pod-logs")),
        "imageGCHighThresholdPercent": 100,  # no image GC: nothing could be pulled back
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
        "serializeImagePulls": False,
        "maxPods": 30,
        "staticPodPath": "",
        "nodeStatusReportFrequency": "10s",
        "syncFrequency": "10s",
    }
    return yaml.safe_dump(config, sort_keys=False)


def kube_proxy_yaml(kubeconfig: Path, ports: dict[str, int]) -> str:
    """iptables mode; the host's conntrack settings and route_localnet left alone."""
    config = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(kubeconfig)},
        "hostnameOverride": NODE_NAME,
        "bindAddress": NODE_IP,
        "healthzBindAddress": f"127.0.0.1:{ports['kube-proxy-healthz']}",
        "metricsBindAddress": f"127.0.0.1:{ports['kube-proxy-metrics']}",
        "mode": "iptables",
        "clusterCIDR": POD_SUBNET,
        "oomScoreAdj": 0,
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
        "iptables": {"localhostNodePorts": False, "syncPeriod": "10s", "minSyncPeriod": "1s"},
        "nodePortAddresses": [f"{NODE_IP}/32"],
    }
    return yaml.safe_dump(config, sort_keys=False)


def corefile(kubeconfig: Path, ready_port: int) -> str:
    """CoreDNS on the bridge address: the cluster's names from the API, nothing forwarded upstream."""
    return f"""\
{CLUSTER_DOMAIN}:53 in-addr.arpa:53 ip6.arpa:53 {{
    bind {NODE_IP}
    errors
    ready 127.0.0.1:{ready_port}
    kubernetes {CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{
        kubeconfig {kubeconfig}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }}
    cache 5
}}
.:53 {{
    bind {NODE_IP}
    errors
    template ANY ANY {{
        rcode NXDOMAIN
    }}
}}
"""


def local_path_config(layout: Layout) -> str:
    return json.dumps(
        {"nodePathMap": [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": [str(layout.path("volumes"))]}]},
        indent=2,
    )


HELPER_POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "helper-pod"},
    "spec": {"containers": [{"name": "helper-pod", "image": HELPER_IMAGE, "imagePullPolicy": "Never"}]},
}


def node_objects(layout: Layout, apiserver_port: int) -> list[dict]:
    """The API objects the node's processes need: RBAC, the provisioner's namespace and config, the `standard`
    class it serves (WaitForFirstConsumer: a volume is made on the node the scheduler picked), and the endpoint of
    the `kubernetes` Service (api_endpoint_slice)."""
    rule = lambda groups, resources, verbs: {"apiGroups": groups, "resources": resources, "verbs": verbs}  # noqa: E731
    read = ["get", "list", "watch"]
    coredns_user, provisioner_user = USERS["coredns"][0], USERS["local-path-provisioner"][0]
    roles = {
        "kube-zookeeper:coredns": [
            rule([""], ["endpoints", "services", "pods", "namespaces"], ["list", "watch"]),
            rule(["discovery.k8s.io"], ["endpointslices"], ["list", "watch"]),
        ],
        "kube-zookeeper:local-path-provisioner": [
            rule([""], ["nodes", "persistentvolumeclaims", "configmaps", "pods/log"], read),
            rule([""], ["pods"], [*read, "create", "patch", "update", "delete"]),
            rule([""], ["persistentvolumes"], [*read, "create", "patch", "update", "delete"]),
            rule([""], ["events"], ["create", "patch"]),
            rule(["storage.k8s.io"], ["storageclasses"], read),
        ],
    }
    subjects = {
        "kube-zookeeper:coredns": coredns_user,
        "kube-zookeeper:local-path-provisioner": provisioner_user,
        "system:kubelet-api-admin": APISERVER_KUBELET_CLIENT,
    }
    docs: list[dict] = [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": name},
         "rules": rules}
        for name, rules in roles.items()
    ]
    docs += [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"kube-zookeeper:{user.split(':')[-1]}"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
        }
        for role, user in subjects.items()
    ]
    docs += [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": STORAGE_NAMESPACE}},
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": PROVISIONER_SERVICE_ACCOUNT, "namespace": STORAGE_NAMESPACE},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": CONFIG_MAP, "namespace": STORAGE_NAMESPACE},
            "data": {
                "config.json": local_path_config(layout),
                "setup": '#!/bin/sh\nset -eu\nmkdir -m 0777 -p "$VOL_DIR"\n',
                "teardown": '#!/bin/sh\nset -eu\nrm -rf "$VOL_DIR"\n',
                "helperPod.yaml": yaml.safe_dump(HELPER_POD, sort_keys=False),
            },
        },
        api_endpoint_slice(apiserver_port),
    ]
    return docs


def api_endpoint_slice(apiserver_port: int) -> dict:
    """Where the `kubernetes` Service leads (10.96.0.1:443 in every pod's environment): the API server's port on
    the bridge address, which forward.py passes to the API server on loopback. The API server runs with
    --endpoint-reconciler-type=none (its own address, 127.0.0.1, is no endpoint a pod can reach), so this slice
    is the only one; without it a pod's in-cluster API client finds no endpoint."""
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {
                "kubernetes.io/service-name": "kubernetes",
                "endpointslice.kubernetes.io/managed-by": "kube-zookeeper.local-cluster",
            },
        },
        "addressType": "IPv4",
        "endpoints": [{"addresses": [NODE_IP], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": apiserver_port, "protocol": "TCP"}],
    }


def storage_class(name: str) -> dict:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name, "annotations": {"defaultVolumeType": "local"}},
        "provisioner": PROVISIONER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
    }
