"""What several rule families share: the containers they look at, replicas, securityContext paths, mounted volumes,
the governing (headless) Service, and Service/NetworkPolicy ports that reach no declared port."""

from __future__ import annotations

from collections.abc import Iterator

from tools.checks.policy import reach
from tools.checks.policy.context import Context
from tools.checks.policy.model import Container, Hit, containers, get, get_list
from tools.checks.policy.reach import workloads


def all_containers(ctx: Context) -> Iterator[Container]:
    for manifest in workloads(ctx):
        yield from containers(manifest)


def ensemble_containers(ctx: Context) -> Iterator[Container]:
    """The StatefulSets' main containers (not init containers)."""
    for statefulset in ctx.by_kind["StatefulSet"]:
        yield from containers(statefulset, lists=("containers",))


def replicas(statefulset) -> int:
    value = get(statefulset.doc, ("spec", "replicas"))
    return value if isinstance(value, int) else 1


def sc_path(c: Container, key: str, pod: bool = False) -> tuple:
    return (*(c.pod_path if pod else c.path), "securityContext", key)


def mounted_volume(c: Container, mount_path: str) -> tuple[dict | None, int | None]:
    """The pod volume the container mounts at mount_path (None if nothing is), and the mount's index."""
    for index, mount in enumerate(get_list(c.spec, ("volumeMounts",))):
        if isinstance(mount, dict) and str(mount.get("mountPath", "")).rstrip("/") == mount_path:
            volumes = get_list(c.manifest.doc, (*c.pod_path, "volumes"))
            volume = next((v for v in volumes if isinstance(v, dict) and v.get("name") == mount.get("name")), None)
            return volume or {}, index
    return None, None


def headless(service) -> bool:
    """clusterIP: None (a missing clusterIP means the API server assigns one: not headless)."""
    return get(service.doc, ("spec", "clusterIP")) == "None"


def governing_services(ctx: Context):
    for statefulset in ctx.by_kind["StatefulSet"]:
        service = ctx.named("Service", get(statefulset.doc, ("spec", "serviceName")))
        if service is not None:
            yield statefulset, service


def unresolved_ports(ctx: Context, kind: str, what: str):
    for manifest in ctx.by_kind[kind]:
        for ref in reach.ports_reached(ctx, manifest):
            for workload in ref.missing_in():
                how = "names no port of" if ref.by_name else "is no containerPort of"
                yield Hit(manifest, ref.path, f"{what} {ref.target!r} {how} {workload.ref}'s containers (declared: "
                          f"{reach.port_list(workload)}): traffic through {manifest.ref} to it reaches nothing; use a "
                          "declared port's name or number")
