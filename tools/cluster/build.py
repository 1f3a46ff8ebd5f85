"""The control plane's binaries, built once from the Go module proxy into the tool cache.

kube-apiserver, kube-controller-manager and kube-scheduler come from the wrapper module gomod/kube (k8s.io/kubernetes
cannot be `go install`ed: its go.mod replaces its staging modules with local paths), etcd from gomod/etcd, kwok with
`go install`. kwok's pod, node and volume stages are copied from the kwok module itself, so they match its version.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from tools.base import versions
from tools.base.errors import UserError
from tools.base.run import run
from tools.base.toolcache import NICE, build_once, cache_dir, go_binary, go_install

GOMOD = Path(__file__).with_name("gomod")
KUBE_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
NODE_COMMANDS = ("kubelet", "kube-proxy")  # the real node's, from the same wrapper module, in a cache dir of their own
_GO_FLAGS = ["-trimpath"]

# The kwok stages the project's cluster uses: pods become Running/Ready and go away when deleted, nodes become Ready and
# renew their leases, PVCs of the kwok storage classes get a bound PV.
KWOK_STAGES = (
    "node/fast/node-initialize.yaml",
    "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "pod/fast/pod-ready.yaml",
    "pod/fast/pod-complete.yaml",
    "pod/fast/pod-delete.yaml",
    "volume/fast/pv-bind.yaml",
    "volume/fast/pv-delete.yaml",
    "volume/fast/pvc-provision.yaml",
    "volume/fast/pvc-delete.yaml",
)
# kwok's pod-delete stage deletes by name, with no uid precondition (a kubelet deletes with one), and kwok matches it
# again on the grace-0 update its own delete makes just before the pod goes: that second delete, when the StatefulSet
# controller has recreated the pod in between, removes the replacement (Ready or not), and the controller, having
# seen it Ready, may already be replacing the next member. A pod whose grace period is 0 is being removed by the API
# server itself, so the stage leaves it alone.
POD_DELETE_STAGE = "  name: pod-delete\n"
POD_DELETE_TEST = "    - key: '.metadata.deletionTimestamp'\n      operator: 'Exists'\n"
POD_DELETE_ONCE = (
    "    - key: '.metadata.deletionGracePeriodSeconds | tostring'\n"
    "      operator: 'NotIn'\n"
    "      values:\n"
    "      - '0'\n"
)
# kwok's volume stages serve only its own `kwok-volume` class; in this cluster they serve every class it defines.
KWOK_STORAGE_CLASS_TEST = "self.spec.storageClassName == 'kwok-volume'"
STORAGE_CLASSES = ("kwok-volume", "standard")  # the default class, and the one the kind overlay names


@dataclass(frozen=True)
class Binaries:
    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path
    kube_scheduler: Path
    kwok: Path
    kwok_stages: Path


@dataclass(frozen=True)
class NodeBinaries:
    """What the real node runs besides Debian's containerd: built once, each into a cache directory of its own."""

    kubelet: Path
    kube_proxy: Path
    coredns: Path
    crictl: Path
    local_path_provisioner: Path


def _kube_ldflags() -> str:
    """Stamp the version, as Kubernetes' own build does (kubectl version and the API's /version show it)."""
    version = versions.KUBERNETES_VERSION
    major, minor = version.lstrip("v").split(".")[:2]
    stamps = [
        f"-X {package}.{key}={value}"
        for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
        for key, value in (("gitVersion", version), ("gitMajor", major), ("gitMinor", minor), ("gitTreeState", "clean"))
    ]
    return " ".join(["-s -w", *stamps])


def _bin_dir(name: str, version: str) -> Path:
    return cache_dir() / "bin" / f"{name}-{version}"


def ensure_binaries() -> Binaries:
    """Every binary the cluster runs, each built once (the first time takes long: about 20 minutes on 2 cores)."""
    go = go_binary("the local Kubernetes control plane")
    kube_dir = _bin_dir("kubernetes", versions.KUBERNETES_VERSION)
    build_once(
        kube_dir,
        f"kube-apiserver, kube-controller-manager and kube-scheduler {versions.KUBERNETES_VERSION}",
        lambda tmp: _go_build(
            go, GOMOD / "kube", tmp, [f"k8s.io/kubernetes/cmd/{c}" for c in KUBE_COMMANDS], _kube_ldflags()
        ),
        expect="15-30 minutes",
    )
    etcd_dir = _bin_dir("etcd", versions.ETCD_VERSION)
    build_once(
        etcd_dir,
        f"etcd {versions.ETCD_VERSION}",
        lambda tmp: _go_build(go, GOMOD / "etcd", tmp / "etcd", ["."], "-s -w"),
        expect="2-5 minutes",
    )
    kwok_dir = _bin_dir("kwok", versions.KWOK_VERSION)
    build_once(kwok_dir, f"kwok {versions.KWOK_VERSION}", lambda tmp: _build_kwok(go, tmp), expect="5-15 minutes")
    return Binaries(
        etcd=etcd_dir / "etcd",
        kube_apiserver=kube_dir / "kube-apiserver",
        kube_controller_manager=kube_dir / "kube-controller-manager",
        kube_scheduler=kube_dir / "kube-scheduler",
        kwok=kwok_dir / "kwok",
        kwok_stages=kwok_dir / "stages.yaml",
    )


def ensure_node_binaries() -> NodeBinaries:
    """kubelet, kube-proxy, CoreDNS, crictl and local-path-provisioner, each built once (niced: `nice -n 10`)."""
    go = go_binary("the real node of the local cluster")
    paths = node_binaries()
    build_once(
        paths.kubelet.parent,
        f"kubelet and kube-proxy {versions.KUBERNETES_VERSION}",
        lambda tmp: _go_build(
            go, GOMOD / "kube", tmp, [f"k8s.io/kubernetes/cmd/{c}" for c in NODE_COMMANDS], _kube_ldflags(), nice=True
        ),
        expect="10-20 minutes cold, under a minute after the control plane's build",
    )
    for binary, module, version in (
        (paths.coredns, versions.COREDNS_MODULE, versions.COREDNS_VERSION),
        (paths.crictl, versions.CRICTL_MODULE, versions.CRICTL_VERSION),
        (paths.local_path_provisioner, versions.LOCAL_PATH_PROVISIONER_MODULE, versions.LOCAL_PATH_PROVISIONER_VERSION),
    ):
        name = binary.name
        build_once(
            binary.parent,
            f"{name} {version} with go install",
            lambda tmp, package=f"{module}@{version}": go_install(
                go, package, tmp, [*_GO_FLAGS, "-ldflags=-s -w"], nice=True
            ),
            expect="2-10 minutes",
        )
    return paths


def _go_build(go: str, module: Path, output: Path, packages: list[str], ldflags: str, nice: bool = False) -> None:
    run(
        [*(NICE if nice else []), go, "build", *_GO_FLAGS, f"-ldflags={ldflags}", "-o", str(output), *packages],
        cwd=module,
        env={"CGO_ENABLED": "0"},
        timeout=7200,
    )


def _build_kwok(go: str, out: Path) -> None:
    package = f"{versions.KWOK_MODULE}/cmd/kwok@{versions.KWOK_VERSION}"
    go_install(go, package, out, [*_GO_FLAGS, "-ldflags=-s -w"])
    source = _module_dir(go, versions.KWOK_MODULE, versions.KWOK_VERSION)
    (out / "stages.yaml").write_text(kwok_stages(source / "kustomize" / "stage"))


def _module_dir(go: str, module: str, version: str) -> Path:
    """The module's source in the Go module cache (downloaded by the build just before)."""
    result = run([go, "mod", "download", "-json", f"{module}@{version}"], timeout=600, env={"GOFLAGS": "-mod=mod"})
    return Path(json.loads(result.stdout)["Dir"])


def kwok_stages(stage_root: Path) -> str:
    """kwok's own stage files, joined into one --config document stream, volume stages widened to our classes."""
    documents = []
    for relative in KWOK_STAGES:
        path = stage_root / relative
        if not path.is_file():
            raise UserError(f"kwok {versions.KWOK_VERSION} has no stage {relative} (looked in {stage_root})")
        text = path.read_text()
        if relative.startswith("volume/"):
            if KWOK_STORAGE_CLASS_TEST not in text:
                raise UserError(f"{path}: expected the test {KWOK_STORAGE_CLASS_TEST!r} to widen it; kwok changed")
            classes = ", ".join(f"'{name}'" for name in STORAGE_CLASSES)
            text = text.replace(KWOK_STORAGE_CLASS_TEST, f"self.spec.storageClassName in [{classes}]")
        documents.append(f"# from kwok {versions.KWOK_VERSION} kustomize/stage/{relative}\n{text.strip()}\n")
    return "---\n".join(documents)


def delete_pods_once(stages: str) -> str:
    """The joined stages (kwok_stages) with the pod-delete stage matching a pod only until its grace period is 0 (so
    kwok deletes each pod once, never its replacement of the same name). Applied at every `up`: the joined stages are
    cached with the kwok binary."""
    documents = stages.split("\n---\n")
    matching = [i for i, document in enumerate(documents) if POD_DELETE_STAGE in document]
    if len(matching) != 1 or POD_DELETE_TEST not in documents[matching[0]]:
        raise UserError(f"kwok's stages lack the pod-delete stage testing {POD_DELETE_TEST.strip()!r}; kwok changed")
    if POD_DELETE_ONCE not in documents[matching[0]]:
        documents[matching[0]] = documents[matching[0]].replace(POD_DELETE_TEST, POD_DELETE_TEST + POD_DELETE_ONCE)
    return "\n---\n".join(documents)


def restrict_volume_stages(stages: str, classes: list[str]) -> str:
    """The joined stages (kwok_stages) with the volume stages narrowed to `classes` (a real node serves the rest)."""
    widened = "self.spec.storageClassName in [" + ", ".join(f"'{name}'" for name in STORAGE_CLASSES) + "]"
    if widened not in stages:
        raise UserError(f"kwok's stages lack the storage class test {widened!r}; rebuild them (remove the kwok cache)")
    return stages.replace(widened, "self.spec.storageClassName in [" + ", ".join(f"'{n}'" for n in classes) + "]")


def node_binaries() -> NodeBinaries:
    """Where ensure_node_binaries puts the real node's binaries (which may not be built yet)."""
    node_dir = _bin_dir("kubernetes-node", versions.KUBERNETES_VERSION)
    return NodeBinaries(
        kubelet=node_dir / "kubelet",
        kube_proxy=node_dir / "kube-proxy",
        coredns=_bin_dir("coredns", versions.COREDNS_VERSION) / "coredns",
        crictl=_bin_dir("crictl", versions.CRICTL_VERSION) / "crictl",
        local_path_provisioner=_bin_dir("local-path-provisioner", versions.LOCAL_PATH_PROVISIONER_VERSION)
        / "local-path-provisioner",
    )


def built() -> bool:
    """Whether every binary is already in the cache (nothing to build)."""
    return all(
        _bin_dir(name, version).is_dir()
        for name, version in (
            ("kubernetes", versions.KUBERNETES_VERSION),
            ("etcd", versions.ETCD_VERSION),
            ("kwok", versions.KWOK_VERSION),
        )
    )


def gomod_requirement(module_dir: Path, module: str) -> str:
    """The version a wrapper module's go.mod requires of `module` ('' when it does not)."""
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(module)}\s+(v\S+)", (module_dir / "go.mod").read_text(), re.M)
    return match.group(1) if match else ""
