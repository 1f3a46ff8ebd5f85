"""Getting a cluster target ready: the tools it needs, its kubectl context, the image on its nodes.

cluster:   the local control plane of `nox -s cluster -- up` (kwok nodes), through its own kubeconfig.
kind:      a multi-node cluster from tools/smoke/kind-cluster.yaml (created if absent, deleted afterwards only if
           this run created it and --keep was not given); the image is loaded into its nodes.
minikube:  the running minikube profile; the image is loaded with `minikube image load`.
openshift: `oc` and its current (or --context) login; the image comes from the registry the overlay names.
current:   any kubectl context; the image must already be pullable by its nodes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tools import REPO_ROOT
from tools.base.errors import UserError
from tools.base.run import run, which
from tools.cli.engine import Engine
from tools.cli.kubectl import Kubectl
from tools.cluster.control_plane import LocalCluster
from tools.image.build import ensure_image
from tools.render.pod import manifest_image

KIND_CLUSTER = "kube-zookeeper-smoke"
KIND_CONFIG = Path(__file__).parents[1] / "kind-cluster.yaml"
TARGET_ENVIRONMENTS = {"kind": "kind", "minikube": "minikube", "openshift": "openshift"}  # current: --env

_HINTS = {
    "kubectl": "install kubectl 1.25 or newer",
    "oc": "install the OpenShift CLI (oc) and log in with `oc login`",
    "kind": "install kind (go install sigs.k8s.io/kind@latest) or use --target current",
    "minikube": "install minikube and run `minikube start`, or use --target current",
}


@dataclass
class Cluster:
    """What KubeTarget needs to know about the cluster, and how to undo what preparing it did."""

    env: str
    kubectl: Kubectl  # the cluster's kubectl (or oc), context and kubeconfig; no namespace yet
    timings: dict[str, float] = field(default_factory=dict)  # how long preparing it took, for the report
    nodes: str | None = None  # the local cluster: the members run on its "kwok" or its "real" node(s) only
    not_run: str = ""  # why the ZooKeeper steps cannot run there (a real node was asked for and is missing)
    cleanup_actions: list[Callable[[], None]] = field(default_factory=list)

    def cleanup(self) -> None:
        for action in reversed(self.cleanup_actions):
            action()


def tool(name: str) -> str:
    return which(name, _HINTS[name])


def prepare(
    target: str, env: str, context: str | None, keep: bool, progress: Callable[[str], None], node: str = "kwok"
) -> Cluster:
    """Check the tools, create/find the cluster, load the image; raises UserError (one line) when it cannot."""
    if target == "openshift":
        return Cluster("openshift", Kubectl(tool("oc"), context=context))
    kubectl = tool("kubectl")
    if target == "cluster":
        local = LocalCluster(progress=progress)
        if not local.healthy():
            raise UserError(f"no local cluster is running in {local.root}; start one with `nox -s cluster -- up`")
        info = local.info()
        cluster = Cluster(env, Kubectl(kubectl, kubeconfig=str(local.kubeconfig)), {"cluster_up": info.timings["up"]},
                          nodes=node)
        if node == "real" and not info.real_node:
            if not info.real_node_skipped:
                raise UserError("the local cluster has no real node; start one with `nox -s cluster -- up --node real`")
            cluster.nodes = "kwok"  # the scenario runs on the kwok nodes; its ZooKeeper steps say why they cannot
            cluster.not_run = f"no real node: {info.real_node_skipped.replace(chr(10), '; ')}"
            progress(f"smoke: real node SKIPPED ({cluster.not_run}); the members run on kwok nodes")
        elif node == "kwok" and info.real_node and env == "kind":
            raise UserError(
                "the kind profile's `standard` volumes are made on the real node of this cluster (local-path), not "
                "on kwok nodes: run it with --node real, or on a cluster started without --node real"
            )
        elif node == "real":
            cluster.timings.update({k: v for k, v in info.timings.items() if k.startswith(("real_node", "images"))})
        return cluster
    if target == "current":
        return Cluster(env, Kubectl(kubectl, context=context))
    if target == "minikube":
        minikube = tool("minikube")
        status = run([minikube, "status"], check=False, timeout=60)
        if status.code != 0:
            raise UserError(
                f"minikube is not running (`minikube status` exit {status.code}); start it with `minikube start`"
            )
        load_image("minikube", lambda archive: [minikube, "image", "load", str(archive)], progress)
        return Cluster("minikube", Kubectl(kubectl, context="minikube"))
    if target == "kind":
        return prepare_kind(kubectl, keep, progress)
    raise UserError(f"unknown target {target}")


def prepare_kind(kubectl: str, keep: bool, progress: Callable[[str], None]) -> Cluster:
    kind = tool("kind")
    engine = Engine.detect()
    kind_env = {"KIND_EXPERIMENTAL_PROVIDER": "podman"} if engine.name == "podman" else None
    cluster = Cluster("kind", Kubectl(kubectl, context=f"kind-{KIND_CLUSTER}"))
    existing = run([kind, "get", "clusters"], env=kind_env, timeout=60).stdout.split()
    if KIND_CLUSTER not in existing:
        progress(f"smoke: creating kind cluster {KIND_CLUSTER} from {KIND_CONFIG.relative_to(REPO_ROOT)}")
        run(kind_create_command(kind), env=kind_env, timeout=900)
        if not keep:
            cluster.cleanup_actions.append(
                lambda: run([kind, "delete", "cluster", "--name", KIND_CLUSTER], env=kind_env, check=False, timeout=300)
            )
    load_image("kind", lambda archive: kind_load_command(kind, archive), progress, engine, kind_env)
    return cluster


def kind_create_command(kind: str) -> list[str]:
    return [kind, "create", "cluster", "--name", KIND_CLUSTER, "--config", str(KIND_CONFIG), "--wait", "300s"]


def kind_load_command(kind: str, archive: Path) -> list[str]:
    return [kind, "load", "image-archive", str(archive), "--name", KIND_CLUSTER]


def load_image(
    where: str,
    command: Callable[[Path], list[str]],
    progress: Callable[[str], None],
    engine=None,
    env: dict[str, str] | None = None,
) -> None:
    """Save the locally built image under the name the manifests use and load it into the cluster's nodes.

    The archive carries `docker.io/library/<image>`, which is what a node's containerd calls the manifests'
    `kube-zookeeper:<tag>` (podman would otherwise save it as `localhost/...`).
    """
    engine = engine or Engine.detect()
    image = manifest_image("kind" if where == "kind" else "minikube")
    ensure_image(engine, image, progress)
    qualified = f"docker.io/library/{image}"
    engine.cli("tag", image, qualified, timeout=60)
    with tempfile.TemporaryDirectory(prefix="kz-smoke-image-") as tmp:
        archive = Path(tmp) / "image.tar"
        progress(f"smoke: loading {image} into {where}")
        engine.cli("save", "--output", str(archive), qualified, timeout=600)
        run(command(archive), env=env, timeout=900)
