"""Which pods and ports an object reaches. Services, PodDisruptionBudgets and NetworkPolicies all select pods by label
and name ports by name or number; one resolver answers for all three, so their rules agree on what "the ensemble's
pods" and "a declared port" are."""

from __future__ import annotations

from dataclasses import dataclass

from tools.checks.policy.context import Context
from tools.checks.policy.model import (
    Path,
    containers,
    get,
    get_list,
    get_map,
    map_selector_matches,
    pod_labels,
    pod_spec_path,
    selector_keys,
    selector_matches,
)
from tools.render.manifests import Manifest

# Where each kind keeps its pod selector, and whether it is a plain label map (Service) or a LabelSelector.
SELECTOR = {
    "Service": (("spec", "selector"), "map"),
    "PodDisruptionBudget": (("spec", "selector"), "label"),
    "NetworkPolicy": (("spec", "podSelector"), "label"),
}


@dataclass(frozen=True)
class PortRef:
    """A port an object sends traffic to (a Service's targetPort, a NetworkPolicy's port) and where it is written."""

    manifest: Manifest
    path: Path  # the field naming the port
    target: str | int
    pods: tuple[Manifest, ...]  # the workloads whose containers must declare it

    @property
    def by_name(self) -> bool:
        return isinstance(self.target, str) and not self.target.isdigit()

    def missing_in(self) -> list[Manifest]:
        """The workloads none of whose containers declare this port."""
        return [w for w in self.pods if not declared_ports(w, self.target)]


def workloads(ctx: Context) -> list[Manifest]:
    return [m for m in ctx.manifests if pod_spec_path(m)]


def selector_of(manifest: Manifest):
    path, _ = SELECTOR[manifest.kind]
    return get(manifest.doc, path)


def selects(manifest: Manifest, labels: dict) -> bool:
    """Whether the object's pod selector matches these pod labels. A Service's missing or empty selector matches
    nothing (its endpoints are managed by hand); a LabelSelector's empty one matches every pod."""
    _, style = SELECTOR[manifest.kind]
    selector = selector_of(manifest)
    if style == "map":
        return map_selector_matches(selector, labels)
    if manifest.kind == "NetworkPolicy" and selector == {}:
        return True  # podSelector: {} is every pod in the namespace
    return selector_matches(selector, labels)


def selected(ctx: Context, manifest: Manifest, among: list[Manifest] | None = None) -> list[Manifest]:
    """The workloads (StatefulSet, Pod, Deployment...) whose pods the object selects."""
    return [w for w in (workloads(ctx) if among is None else among) if selects(manifest, pod_labels(w))]


def wider_than(manifest: Manifest, statefulset: Manifest) -> list[str]:
    """The StatefulSet's selector keys the object's selector leaves out (so it can select other apps' pods too)."""
    _, style = SELECTOR[manifest.kind]
    selector = selector_of(manifest)
    keys = set(selector) if style == "map" and isinstance(selector, dict) else selector_keys(selector)
    return sorted(selector_keys(get(statefulset.doc, ("spec", "selector"))) - keys)


def declared_ports(workload: Manifest, target: str | int) -> list[tuple[str, dict]]:
    """(container name, port) for every container port of the workload that `target` names, by name or number."""
    found = []
    for container in containers(workload, lists=("containers",)):
        for port in get_list(container.spec, ("ports",)):
            if not isinstance(port, dict):
                continue
            if isinstance(target, str) and not target.isdigit():
                hit = port.get("name") == target
            else:
                hit = str(port.get("containerPort")) == str(target)
            if hit:
                found.append((container.name, port))
    return found


def port_list(workload: Manifest) -> str:
    """The declared ports, for messages: `client 2181, server 2888` (or `none`)."""
    ports = [f"{p.get('name') or '(unnamed)'} {p.get('containerPort')}" for c in containers(workload, ("containers",))
             for p in get_list(c.spec, ("ports",)) if isinstance(p, dict)]
    return ", ".join(ports) or "none"


def service_ports(ctx: Context, service: Manifest) -> list[PortRef]:
    """Each Service port's target (targetPort, else port) against the pods the Service selects."""
    pods = tuple(selected(ctx, service))
    refs = []
    for index, port in enumerate(get_list(service.doc, ("spec", "ports"))):
        port = get_map(port)
        if port.get("targetPort") is not None:
            refs.append(PortRef(service, ("spec", "ports", index, "targetPort"), port["targetPort"], pods))
        elif port.get("port") is not None:
            refs.append(PortRef(service, ("spec", "ports", index, "port"), port["port"], pods))
    return refs


def network_policy_ports(ctx: Context, policy: Manifest) -> list[PortRef]:
    """Ingress ports against the pods the policy protects; egress ports against the peer pods it allows traffic to,
    where those peers are among the checked objects (a peer elsewhere, such as DNS, cannot be resolved here)."""
    refs = []
    protected = tuple(selected(ctx, policy))
    for index, rule in enumerate(get_list(policy.doc, ("spec", "ingress"))):
        for number, port in enumerate(get_list(rule, ("ports",))):
            if get(port, ("port",)) is not None:
                refs.append(PortRef(policy, ("spec", "ingress", index, "ports", number, "port"), port["port"],
                                    protected))
    for index, rule in enumerate(get_list(policy.doc, ("spec", "egress"))):
        peers = []
        for peer in get_list(rule, ("to",)):
            selector = get(peer, ("podSelector",))
            if isinstance(selector, dict) and get(peer, ("namespaceSelector",)) is None:
                peers += [w for w in workloads(ctx) if selector == {} or selector_matches(selector, pod_labels(w))]
        for number, port in enumerate(get_list(rule, ("ports",))):
            if peers and get(port, ("port",)) is not None:
                refs.append(PortRef(policy, ("spec", "egress", index, "ports", number, "port"), port["port"],
                                    tuple(dict.fromkeys(peers))))
    return refs


def ports_reached(ctx: Context, manifest: Manifest) -> list[PortRef]:
    if manifest.kind == "Service":
        return service_ports(ctx, manifest)
    if manifest.kind == "NetworkPolicy":
        return network_policy_ports(ctx, manifest)
    return []  # a PodDisruptionBudget reaches pods, not ports
