"""ZK-NET: NetworkPolicies: they select the members, name declared ports, exist in production, let members reach each
other on the quorum, election and client ports, and do not open the client port to every source."""

from __future__ import annotations

from tools.base.contract import CLIENT_PORT, ELECTION_PORT, SERVER_PORT
from tools.checks.policy import reach
from tools.checks.policy.context import Context
from tools.checks.policy.model import (
    ERROR,
    WARNING,
    Container,
    Hit,
    get,
    get_list,
    get_map,
    pod_labels,
    pod_spec_path,
    selector_matches,
)
from tools.checks.policy.reach import workloads
from tools.checks.policy.rules._helpers import ensemble_containers, unresolved_ports
from tools.checks.policy.rules._registry import rule


@rule("ZK-NET-001", ERROR, "a NetworkPolicy's pod selector selects pods in these manifests")
def network_policy_selects(ctx: Context):
    for policy in ctx.by_kind["NetworkPolicy"]:
        if workloads(ctx) and not reach.selected(ctx, policy):
            yield Hit(policy, ("spec", "podSelector"), f"{policy.ref}'s podSelector matches none of the pods here "
                      f"({', '.join(f'{w.ref} {dict(pod_labels(w))}' for w in workloads(ctx))}), so it protects "
                      "nothing of the ensemble; use the pod labels")


@rule("ZK-NET-002", ERROR, "every NetworkPolicy port resolves to a port the pods it concerns declare")
def network_policy_ports(ctx: Context):
    yield from unresolved_ports(ctx, "NetworkPolicy", "port")


def policies_for(ctx: Context, statefulset) -> list:
    return [p for p in ctx.by_kind["NetworkPolicy"] if reach.selects(p, pod_labels(statefulset))]


def policy_types(policy) -> set[str]:
    """The directions a NetworkPolicy restricts (Kubernetes' default: Ingress, plus Egress when it has egress)."""
    listed = get_list(policy.doc, ("spec", "policyTypes"))
    if listed:
        return {str(t) for t in listed}
    return {"Ingress"} | ({"Egress"} if get(policy.doc, ("spec", "egress")) is not None else set())


QUORUM_PORTS = (("ZOO_SERVER_PORT", SERVER_PORT, "quorum"), ("ZOO_ELECTION_PORT", ELECTION_PORT, "leader election"),
                ("ZOO_CLIENT_PORT", CLIENT_PORT, "the ensemble loop's checks of its peers"))
QUORUM_HARM = {"the ensemble loop's checks of its peers": "members cannot tell which peers are up, so the "
               "ensemble never grows or shrinks to replicas"}


def member_port(ctx: Context, container: Container, variable: str, default: int) -> tuple[int, set[str]]:
    """A port start.sh listens on (its ZOO_* setting, else the default) and the names the pod declares for it."""
    setting = ctx.env(container).get(variable)
    number = int(setting.value) if setting and setting.value.strip().isdigit() else default
    return number, {str(p["name"]) for _, p in reach.declared_ports(container.manifest, number) if p.get("name")}


def port_listed(ports: list, number: int, names: set[str]) -> bool:
    """A NetworkPolicy rule's ports admit TCP `number` (no ports: every port; a named port: by container port name)."""
    if not ports:
        return True
    for entry in ports:
        entry = entry if isinstance(entry, dict) else {}
        if str(entry.get("protocol", "TCP")) != "TCP":
            continue
        port, end = entry.get("port"), entry.get("endPort")
        if port is None or str(port) in names or str(port) == str(number):
            return True
        if isinstance(port, int) and isinstance(end, int) and port <= number <= end:
            return True
    return False


def peer_is_member(peer, labels: dict) -> bool:
    """A peer that surely includes the members: a podSelector matching them in the same namespace (no
    namespaceSelector) or in every namespace (namespaceSelector: {})."""
    if not isinstance(peer, dict) or "ipBlock" in peer:
        return False
    namespaces = peer.get("namespaceSelector")
    if namespaces is not None and (get_map(peer, ("namespaceSelector",)) or not isinstance(namespaces, dict)):
        return False
    pods = peer.get("podSelector")
    return pods is None and namespaces is not None or selector_matches(pods, labels)


def admits_members(policies: list, direction: str, labels: dict, number: int, names: set[str]) -> bool:
    """Some rule of these policies lets the members reach each other on the port (in one direction)."""
    peers_key = "from" if direction == "ingress" else "to"
    for policy in policies:
        for entry in get_list(policy.doc, ("spec", direction)):
            if not port_listed(get_list(entry, ("ports",)), number, names):
                continue
            peers = get_list(entry, (peers_key,))
            if not peers or any(peer_is_member(peer, labels) for peer in peers):
                return True
    return False


@rule("ZK-NET-003", ERROR, "production: a NetworkPolicy selects the members", types=("production",))
def production_network_policy(ctx: Context):
    for statefulset in ctx.by_kind["StatefulSet"]:
        if not [p for p in policies_for(ctx, statefulset) if "Ingress" in policy_types(p)]:
            yield Hit(statefulset, (*pod_spec_path(statefulset)[:-1], "metadata", "labels"),
                      f"no NetworkPolicy selects the pods of {statefulset.ref}: any pod may reach the quorum and "
                      "election ports; add one (components/network-policy, or networkPolicy.enabled in the chart)")


@rule("ZK-NET-004", ERROR, "NetworkPolicies let members reach each other on the quorum, election and client ports")
def members_reach_each_other(ctx: Context):
    for c in ensemble_containers(ctx):
        labels, policies = pod_labels(c.manifest), policies_for(ctx, c.manifest)
        for direction, kind in (("ingress", "Ingress"), ("egress", "Egress")):
            restricting = [p for p in policies if kind in policy_types(p)]
            if not restricting:
                continue
            for variable, default, purpose in QUORUM_PORTS:
                number, names = member_port(ctx, c, variable, default)
                if not admits_members(restricting, direction, labels, number, names):
                    shown = "/".join([str(number), *sorted(names)])
                    harm = QUORUM_HARM.get(purpose, "the ensemble cannot form a quorum")
                    yield Hit(restricting[0], ("spec", direction), f"no {direction} rule of "
                              f"{', '.join(p.ref for p in restricting)} admits the members {dict(labels)} to each "
                              f"other on port {shown} ({purpose}): {harm}; add a rule for this port with a "
                              "podSelector of the pod labels")


@rule("ZK-NET-005", WARNING, "the client port is open only to the clients named, not to every source")
def client_port_not_open_to_all(ctx: Context):
    for c in ensemble_containers(ctx):
        number, names = member_port(ctx, c, "ZOO_CLIENT_PORT", CLIENT_PORT)
        for policy in policies_for(ctx, c.manifest):
            for index, entry in enumerate(get_list(policy.doc, ("spec", "ingress"))):
                if not port_listed(get_list(entry, ("ports",)), number, names):
                    continue
                peers = get_list(entry, ("from",))
                anyone = not peers or any(
                    isinstance(peer, dict) and (peer.get("namespaceSelector") == {} and not peer.get("podSelector")
                                                or get(peer, ("ipBlock", "cidr")) in ("0.0.0.0/0", "::/0"))
                    for peer in peers)
                if anyone:
                    yield Hit(policy, ("spec", "ingress", index), f"this rule admits every source to the client port "
                              f"{number}; list the client pods or namespaces in `from` instead")
