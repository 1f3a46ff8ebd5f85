"""One local Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok.

Everything listens on 127.0.0.1 only, on free ports picked at `up`. The state directory holds the PKI, the
kubeconfigs, one log and one PID file per process, etcd's data and `cluster.json`; `down` stops exactly the processes
whose PID files it finds (checking each PID still runs the binary it started) and removes the directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from tools.base import versions
from tools.base.contract import KWOK_NODE_ANNOTATION
from tools.base.errors import UserError
from tools.base.toolcache import cache_dir
from tools.cli.kubectl import Kubectl
from tools.cluster import build, pki
from tools.cluster.http import http_ok
from tools.cluster.node import config as node_config
from tools.cluster.node import host, real
from tools.render import crds

PROCESSES = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")  # start order
CONTEXT = "kube-zookeeper-local"
POD_CIDR = "10.244.0.0/16"
NODE_PREFIX = "kz-node-"
ZONES = "abcdefghijklmnopqrstuvwxyz"
DEFAULT_STORAGE_CLASS = build.STORAGE_CLASSES[0]
# The control plane's API users (tokens.csv): name -> (user, group).
_USERS = {
    "admin": ("kube-zookeeper-admin", "system:masters"),
    "controller-manager": ("system:kube-controller-manager", ""),
    "scheduler": ("system:kube-scheduler", ""),
    "kwok": ("kwok", "system:masters"),
}


def default_dir() -> Path:
    """KZ_CLUSTER_DIR, else <tool cache>/cluster."""
    return Path(os.environ.get("KZ_CLUSTER_DIR", cache_dir() / "cluster"))


@dataclass
class ClusterInfo:
    """What `up` decided, kept in cluster.json for `status`, `down` and the smoke target."""

    kubernetes_version: str
    nodes: list[str]
    zones: dict[str, str]  # node -> zone
    ports: dict[str, int]
    started_at: float
    timings: dict[str, float] = field(default_factory=dict)
    real_node: str = ""  # the real node's name (tools/cluster/node/) when it runs
    real_node_skipped: str = ""  # why `up --node real` started none: the missing pieces, one per line


class LocalCluster:
    def __init__(self, root: Path | None = None, progress: Callable[[str], None] = print):
        self.root = (root or default_dir()).resolve()
        self.progress = progress

    # -- paths -----------------------------------------------------------------------------------------------------

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    def pid_file(self, name: str) -> Path:
        return self.root / "pids" / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.root / "logs" / f"{name}.log"

    def info(self) -> ClusterInfo | None:
        path = self.root / "cluster.json"
        if not path.exists():
            return None
        return ClusterInfo(**json.loads(path.read_text()))

    # -- status ----------------------------------------------------------------------------------------------------

    def processes(self) -> tuple[str, ...]:
        """The control plane's processes, and the real node's when it has one (in start order)."""
        info = self.info()
        return PROCESSES + (real.PROCESSES if info and info.real_node else ())

    def running(self) -> dict[str, int | None]:
        """name -> PID for each process with a PID file, None where that process is gone."""
        found: dict[str, int | None] = {}
        for name in self.processes():
            path = self.pid_file(name)
            if path.exists():
                pid, binary = path.read_text().split("\n", 1)
                found[name] = int(pid) if _runs(int(pid), binary.strip()) else None
        return found

    def healthy(self) -> bool:
        running = self.running()
        info = self.info()
        return (
            info is not None
            and set(running) == set(self.processes())
            and all(running.values())
            and self._readyz(info.ports["apiserver"]) == "ok"
        )

    # -- up --------------------------------------------------------------------------------------------------------

    def up(self, nodes: int = 3, zones: int = 3, real_node: bool = False) -> ClusterInfo:
        """Start a cluster (with a real node beside the kwok ones when asked and possible), or reuse the healthy one
        already in root; raises UserError (one line) on failure."""
        if nodes < 1 or zones < 1:
            raise UserError(f"--nodes {nodes} --zones {zones}: both must be at least 1")
        if real_node and self.healthy() and not self.info().real_node:
            self.progress("cluster: the running cluster has no real node; stopping it to start one with a real node")
            self.down(quiet=True)
        if self.healthy():
            info = self.info()
            self.progress(f"cluster: already running in {self.root} with {len(info.nodes)} node(s); reusing it")
            if len(info.nodes) != nodes or len(set(info.zones.values())) != min(zones, nodes):
                self.progress(
                    f"cluster: note: it was started with {len(info.nodes)} node(s) in "
                    f"{len(set(info.zones.values()))} zone(s), not --nodes {nodes} --zones {zones}; "
                    "run `down` first to change that"
                )
            self._install_monitoring_crds()  # idempotent: a cluster started by an older checkout gets them too
            return info
        if self.root.exists():
            self.progress(f"cluster: {self.root} holds a stopped or partial cluster; removing it first")
            self.down(quiet=True)
        skipped = self._real_node_prerequisites() if real_node else ""
        binaries = build.ensure_binaries()
        node_binaries = build.ensure_node_binaries() if real_node and not skipped else None
        start = time.monotonic()
        try:
            info = self._start(binaries, nodes, zones, start, node_binaries)
            info.real_node_skipped = skipped
        except BaseException:
            try:
                self._stop_processes()
            except UserError as exc:
                self.progress(f"cluster: {exc}")
            self.progress(
                f"cluster: start failed; stopped what had started; logs stay in {self.root / 'logs'} "
                "until the next `up` or `down`"
            )
            raise
        info.timings["up"] = round(time.monotonic() - start, 1)
        self._write_info(info)
        real = f" and the real node {info.real_node}" if info.real_node else ""
        self.progress(
            f"cluster: up in {info.timings['up']:.1f} s: {len(info.nodes)} kwok node(s){real}, "
            f"Kubernetes {versions.KUBERNETES_VERSION}, API https://127.0.0.1:{info.ports['apiserver']}"
        )
        if skipped:
            self.progress(f"cluster: real node SKIPPED: {skipped.replace(chr(10), '; ')}")
        return info

    def _real_node_prerequisites(self) -> str:
        """'' when a real node can run on the host; else one line per missing piece (each also said as it is found)."""
        missing = real.missing_prerequisites(node_config.Layout(self.root / "node"))
        for line in missing:
            self.progress(f"cluster: real node: {line}")
        return "\n".join(missing)

    def _start(
        self,
        binaries: build.Binaries,
        nodes: int,
        zones: int,
        start: float,
        node_binaries: build.NodeBinaries | None = None,
    ) -> ClusterInfo:
        for sub in ("pids", "logs", "etcd", "pki", "certs"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        pki.make(self.root / "pki")
        names = ("etcd", "etcd-peer", "apiserver", "controller-manager", "scheduler")
        names += real.PORTS if node_binaries else ()
        ports = dict(zip(names, free_ports(len(names)), strict=True))
        users = {**_USERS, **(node_config.USERS if node_binaries else {})}
        self._write_auth({user: secrets.token_hex(16) for user in users}, ports["apiserver"], users)
        node_names = [f"{NODE_PREFIX}{n + 1}" for n in range(nodes)]
        info = ClusterInfo(
            kubernetes_version=versions.KUBERNETES_VERSION,
            nodes=node_names,
            zones={node: f"zone-{ZONES[n % min(zones, len(ZONES))]}" for n, node in enumerate(node_names)},
            ports=ports,
            started_at=time.time(),
            real_node=node_config.NODE_NAME if node_binaries else "",
        )
        self._write_info(info)

        self.spawn("etcd", self._etcd_argv(binaries, ports))
        self.wait("etcd", lambda: http_ok(f"http://127.0.0.1:{ports['etcd']}/health"), 60)
        info.timings["etcd"] = round(time.monotonic() - start, 1)
        self.spawn("kube-apiserver", self._apiserver_argv(binaries, ports))
        self.wait("kube-apiserver", lambda: self._readyz(ports["apiserver"]) == "ok", 180)
        info.timings["apiserver_ready"] = round(time.monotonic() - start, 1)
        self.spawn("kube-controller-manager", self._controller_manager_argv(binaries, ports))
        self.spawn("kube-scheduler", self._scheduler_argv(binaries, ports))
        self.spawn("kwok", self._kwok_argv(binaries, info))
        self.kubectl.apply(manifests=self._objects_yaml(info), timeout=60)
        self.wait("the nodes", lambda: self.nodes_ready(node_names), 180, watch=PROCESSES[2:])
        info.timings["nodes_ready"] = round(time.monotonic() - start, 1)
        if node_binaries:
            node_start = time.monotonic()
            info.timings.update(real.RealNode(self, self.progress).start(node_binaries, ports))
            info.timings["real_node_up"] = round(time.monotonic() - node_start, 1)
        self.wait(
            "the default ServiceAccount",
            lambda: self.kubectl.get("serviceaccount", "default", check=False).code == 0,
            120,
            watch=PROCESSES[2:],
        )
        info.timings["default_serviceaccount"] = round(time.monotonic() - start, 1)
        self._install_monitoring_crds()
        info.timings["monitoring_crds"] = round(time.monotonic() - start, 1)
        return info

    def _install_monitoring_crds(self) -> None:
        """The Prometheus Operator's CRDs (tools.render.crds), applied server-side as a platform cluster running
        the operator has them: production's ServiceMonitor and PrometheusRule apply only where they exist."""
        self.kubectl.apply(files=crds.crd_paths(), server_side=True, timeout=120)
        names = [f"crd/{plural}.{crds.GROUP}" for plural in crds.PLURALS]
        self.kubectl.wait(*names, condition="Established", timeout=60)
        self.progress(f"cluster: the Prometheus Operator's CRDs established ({', '.join(crds.PLURALS)})")

    # -- down ------------------------------------------------------------------------------------------------------

    def down(self, quiet: bool = False) -> list[str]:
        """Stop the processes this cluster started and remove its directory; returns what it stopped."""
        if not self.root.exists():
            if not quiet:
                self.progress(f"cluster: nothing to stop ({self.root} does not exist)")
            return []
        stopped = self._stop_processes()
        if host.mounts_under(self.root):  # never remove through a mount
            raise UserError(f"mounts are left under {self.root}: {', '.join(map(str, host.mounts_under(self.root)))}")
        shutil.rmtree(self.root)
        if not quiet:
            self.progress(
                f"cluster: stopped {', '.join(stopped) or 'nothing (no process was running)'}; removed {self.root}"
            )
        return stopped

    def _stop_processes(self) -> list[str]:
        """The real node first (it needs containerd, and cleans the machine up), then the control plane."""
        stopped, problem = [], None
        if (self.root / "node").exists():
            try:
                stopped += real.RealNode(self, self.progress).stop(build.node_binaries())
            except UserError as exc:  # stop the control plane all the same, then say what was left
                problem = exc
        for name in reversed(PROCESSES):
            if self.stop_process(name):
                stopped.append(name)
        if problem:
            raise problem
        return stopped

    def stop_process(self, name: str) -> bool:
        """Stop the process of that PID file if it still runs what was started; True when it was running."""
        path = self.pid_file(name)
        if not path.exists():
            return False
        pid, binary = path.read_text().split("\n", 1)
        running = _runs(int(pid), binary.strip())
        if running:
            _terminate(int(pid))
        path.unlink()
        return running

    # -- kubectl ---------------------------------------------------------------------------------------------------

    @property
    def kubectl(self) -> Kubectl:
        """kubectl with this cluster's admin kubeconfig."""
        return Kubectl(kubeconfig=str(self.kubeconfig))

    # -- plumbing --------------------------------------------------------------------------------------------------

    def _write_info(self, info: ClusterInfo) -> None:
        path = self.root / "cluster.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(info), indent=2) + "\n")
        tmp.replace(path)

    def _write_auth(self, tokens: dict[str, str], port: int, users: dict[str, tuple[str, str]]) -> None:
        lines = [
            f"{tokens[key]},{user},{key}" + (f',"{group}"' if group else "") for key, (user, group) in users.items()
        ]
        _write_private(self.root / "pki" / "tokens.csv", "\n".join(lines) + "\n")
        for key in users:
            path = self.kubeconfig if key == "admin" else self.root / f"{key}.kubeconfig"
            _write_private(
                path, kubeconfig_yaml(f"https://127.0.0.1:{port}", self.root / "pki" / "ca.crt", tokens[key])
            )

    def _etcd_argv(self, b: build.Binaries, ports: dict[str, int]) -> list[str]:
        client, peer = f"http://127.0.0.1:{ports['etcd']}", f"http://127.0.0.1:{ports['etcd-peer']}"
        return [
            str(b.etcd),
            "--name",
            "kz",
            "--data-dir",
            str(self.root / "etcd"),
            "--listen-client-urls",
            client,
            "--advertise-client-urls",
            client,
            "--listen-peer-urls",
            peer,
            "--initial-advertise-peer-urls",
            peer,
            "--initial-cluster",
            f"kz={peer}",
            "--unsafe-no-fsync",
            "--log-level",
            "warn",
        ]

    def _apiserver_argv(self, b: build.Binaries, ports: dict[str, int]) -> list[str]:
        p = self.root / "pki"
        return [
            str(b.kube_apiserver),
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={ports['apiserver']}",
            f"--etcd-servers=http://127.0.0.1:{ports['etcd']}",
            f"--tls-cert-file={p / 'apiserver.crt'}",
            f"--tls-private-key-file={p / 'apiserver.key'}",
            f"--kubelet-client-certificate={p / 'apiserver-kubelet-client.crt'}",
            f"--kubelet-client-key={p / 'apiserver-kubelet-client.key'}",
            "--kubelet-preferred-address-types=InternalIP",  # a real node's name resolves nowhere; its IP is local
            f"--client-ca-file={p / 'ca.crt'}",
            f"--token-auth-file={p / 'tokens.csv'}",
            "--authorization-mode=Node,RBAC",
            f"--service-account-key-file={p / 'sa.pub'}",
            f"--service-account-signing-key-file={p / 'sa.key'}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-cluster-ip-range={pki.SERVICE_CLUSTER_IP_RANGE}",
            "--endpoint-reconciler-type=none",
            f"--cert-dir={self.root / 'certs'}",
            "--profiling=false",
        ]

    def _controller_manager_argv(self, b: build.Binaries, ports: dict[str, int]) -> list[str]:
        p = self.root / "pki"
        return [
            str(b.kube_controller_manager),
            f"--kubeconfig={self.root / 'controller-manager.kubeconfig'}",
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            f"--secure-port={ports['controller-manager']}",
            f"--cert-dir={self.root / 'certs'}",
            "--use-service-account-credentials=true",
            f"--service-account-private-key-file={p / 'sa.key'}",
            f"--root-ca-file={p / 'ca.crt'}",
            f"--cluster-signing-cert-file={p / 'ca.crt'}",
            f"--cluster-signing-key-file={p / 'ca.key'}",
            "--allocate-node-cidrs=false",
            # kwok renews the nodes' leases; on a loaded 2-core machine a renewal can come late, and a node marked
            # NotReady marks its pods NotReady mid-scenario. Fake nodes never fail, so allow 2 minutes.
            "--node-monitor-grace-period=120s",
            "--profiling=false",
        ]

    def _scheduler_argv(self, b: build.Binaries, ports: dict[str, int]) -> list[str]:
        return [
            str(b.kube_scheduler),
            f"--kubeconfig={self.root / 'scheduler.kubeconfig'}",
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            f"--secure-port={ports['scheduler']}",
            f"--cert-dir={self.root / 'certs'}",
            "--profiling=false",
        ]

    def _kwok_argv(self, b: build.Binaries, info: ClusterInfo) -> list[str]:
        # No --server-address/--node-port: kwok then opens no port. Node IPs are loopback, so nothing the API
        # server might dial for a kwok node (exec, logs) leaves the host.
        return [
            str(b.kwok),
            f"--kubeconfig={self.root / 'kwok.kubeconfig'}",
            f"--config={self._kwok_stages(b, info)}",
            "--manage-all-nodes=false",
            f"--manage-nodes-with-annotation-selector={KWOK_NODE_ANNOTATION}=fake",
            "--node-ip=127.0.0.1",
            # Leases are the nodes' heartbeat (the stages renew node status only every 10 minutes); without them the
            # node lifecycle controller marks the nodes, and their pods, NotReady after 40 s.
            "--node-lease-duration-seconds=40",
            f"--cidr={POD_CIDR}",
        ]

    def _kwok_stages(self, b: build.Binaries, info: ClusterInfo) -> Path:
        """kwok's stages, deleting each pod once; with a real node, its volume stages leave the `standard` class to
        the real node."""
        stages = build.delete_pods_once(b.kwok_stages.read_text())
        if info.real_node:
            stages = build.restrict_volume_stages(stages, [DEFAULT_STORAGE_CLASS])
        path = self.root / "kwok-stages.yaml"
        path.write_text(stages)
        return path

    def spawn(self, name: str, argv: list[str]) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ETCD_")}  # etcd reads ETCD_* as flags
        with open(self.log_file(name), "ab") as log:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                env=env,
                start_new_session=True,
            )
        self.pid_file(name).write_text(f"{process.pid}\n{argv[0]}\n")
        self.progress(f"cluster: started {name} (pid {process.pid}, log {self.log_file(name)})")

    def wait(self, what: str, ready: Callable[[], bool], timeout: float, watch: tuple[str, ...] = ()) -> None:
        """Poll ready() until true; a watched (or the named) process that exits fails at once with its log."""
        start = time.monotonic()
        watched = watch or (what,)
        while True:
            for name in watched:
                if self.running().get(name, 0) is None:
                    raise UserError(
                        f"{name} exited during start: {last_error(self.log_file(name))} (log: {self.log_file(name)})"
                    )
            if ready():
                self.progress(f"cluster: {what} ready after {time.monotonic() - start:.1f} s")
                return
            if time.monotonic() - start > timeout:
                logs = ", ".join(str(self.log_file(n)) for n in watched if self.log_file(n).exists())
                raise UserError(f"{what} not ready within {timeout:.0f} s (logs: {logs or self.root / 'logs'})")
            time.sleep(0.5)

    def _readyz(self, port: int) -> str:
        context = ssl.create_default_context(cafile=str(self.root / "pki" / "ca.crt"))
        request = urllib.request.Request(f"https://127.0.0.1:{port}/readyz")
        try:
            with urllib.request.urlopen(request, context=context, timeout=3) as response:
                return response.read().decode().strip()
        except (urllib.error.URLError, OSError, ssl.SSLError) as exc:
            return str(exc)

    def nodes_ready(self, names: list[str]) -> bool:
        result = self.kubectl.get(
            "nodes",
            output='jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")]'
            '.status}{"\\n"}{end}',
            check=False,
        )
        ready = {line.split("=")[0] for line in result.stdout.split() if line.endswith("=True")}
        return result.code == 0 and set(names) <= ready

    def _objects_yaml(self, info: ClusterInfo) -> str:
        """The kwok nodes and the storage classes, as one YAML stream for `kubectl apply -f -`."""
        docs = []
        for name in info.nodes:
            docs.append(
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": {
                        "name": name,
                        "annotations": {KWOK_NODE_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
                        "labels": {
                            "kubernetes.io/hostname": name,
                            "kubernetes.io/os": "linux",
                            "kubernetes.io/arch": "amd64",
                            "topology.kubernetes.io/zone": info.zones[name],
                            "type": "kwok",
                        },
                    },
                    "status": {
                        "allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110"},
                        "capacity": {"cpu": "8", "memory": "32Gi", "pods": "110"},
                    },
                }
            )
        for name in build.STORAGE_CLASSES:
            if info.real_node and name == node_config.REAL_STORAGE_CLASS:
                docs.append(node_config.storage_class(name))  # served by local-path-provisioner on the real node
                continue
            annotations = (
                {"storageclass.kubernetes.io/is-default-class": "true"} if name == DEFAULT_STORAGE_CLASS else {}
            )
            docs.append(
                {
                    "apiVersion": "storage.k8s.io/v1",
                    "kind": "StorageClass",
                    "metadata": {"name": name, "annotations": annotations},
                    "provisioner": "kwok.x-k8s.io/volume",
                    "reclaimPolicy": "Delete",
                    "volumeBindingMode": "Immediate",
                }
            )
        return yaml.safe_dump_all(docs, sort_keys=False)


def kubeconfig_yaml(server: str, ca: Path, token: str) -> str:
    return (
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": CONTEXT, "cluster": {"server": server, "certificate-authority": str(ca)}}],
                "users": [{"name": CONTEXT, "user": {"token": token}}],
                "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT}}],
                "current-context": CONTEXT,
            },
            indent=2,
        )
        + "\n"
    )


def free_ports(count: int) -> list[int]:
    """count distinct ports free on 127.0.0.1 right now (held open together so they differ)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def last_error(log: Path) -> str:
    """The most telling line of a process's log: a bind failure, else the last error-looking line, else the last."""
    lines = (
        [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()] if log.exists() else []
    )
    for needle in ("address already in use", "error", "failed", "fatal"):
        hits = [line for line in lines if needle in line.lower()]
        if hits:
            return hits[-1][:400]
    return lines[-1][:400] if lines else "no output"


def _state(pid: int) -> str | None:
    """The process's state letter (R, S, Z, ...), None when there is no such process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _runs(pid: int, binary: str) -> bool:
    """Whether pid is alive and still the binary we started (not a reused PID)."""
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return False
    return _state(pid) not in (None, "Z") and exe.removesuffix(" (deleted)") == binary


def _terminate(pid: int, grace: float = 15) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _state(pid) not in (None, "Z"):
        time.sleep(0.1)
    if _state(pid) not in (None, "Z"):
        os.kill(pid, signal.SIGKILL)
    _reap(pid)


def listeners(pids: dict[str, int]) -> list[tuple[str, str, int]]:
    """(process, address, port) of every listening TCP socket the given processes hold, from /proc."""
    owner = {}
    for name, pid in pids.items():
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    owner[target[8:-1]] = name
        except OSError:
            continue
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] != "0A" or fields[9] not in owner:  # 0A: LISTEN
                continue
            address, port = fields[1].split(":")
            found.append((owner[fields[9]], _decode_address(address), int(port, 16)))
    return sorted(found)


def _decode_address(hex_address: str) -> str:
    """/proc/net/tcp{,6} addresses: 32-bit words in host (little-endian) order."""
    raw = b"".join(bytes.fromhex(hex_address[i : i + 8])[::-1] for i in range(0, len(hex_address), 8))
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, raw)


def _reap(pid: int) -> None:
    """Collect our own child's exit status (when `up` fails, the processes are still our children)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _write_private(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o600)
