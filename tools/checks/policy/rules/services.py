"""ZK-SVC: Service wiring: every Service selects exactly the members, its target ports exist, and the endpoints the
docs promise clients (docs/endpoints.yaml) are rendered."""

from __future__ import annotations

from tools import REPO_ROOT
from tools.checks.policy import reach
from tools.checks.policy.context import Context
from tools.checks.policy.model import ERROR, Hit, get, get_list, get_map, pod_labels
from tools.checks.policy.rules._helpers import governing_services, headless, unresolved_ports
from tools.checks.policy.rules._registry import rule
from tools.render.blocks import ENDPOINTS, promised_endpoints


def _governing(ctx: Context, service) -> bool:
    return any(s is service for _, s in governing_services(ctx))


@rule("ZK-SVC-001", ERROR, "every Service selects exactly the ensemble's pods (a client Service only serving members)")
def service_selects_the_ensemble(ctx: Context):
    statefulsets = ctx.by_kind["StatefulSet"]
    for service in ctx.by_kind["Service"]:
        selector = get_map(service.doc, ("spec", "selector"))
        if not selector:
            yield Hit(service, ("spec", "selector"), f"{service.ref} has no selector, so Kubernetes never fills its "
                      "endpoints: set it to the StatefulSet's pod labels")
            continue
        matched = reach.selected(ctx, service, statefulsets)
        if statefulsets and not matched and not _governing(ctx, service):  # ZK-ENS-005 reports the governing one
            names = ", ".join(f"{s.ref} {dict(pod_labels(s))}" for s in statefulsets)
            yield Hit(service, ("spec", "selector"), f"{service.ref}'s selector {dict(selector)} matches no pod of "
                      f"{names}: connections to it reach nothing; use the pod labels")
        others = [w.ref for w in reach.selected(ctx, service) if w not in statefulsets]
        if matched and others:
            yield Hit(service, ("spec", "selector"), f"{service.ref} also selects the pods of {', '.join(others)}: "
                      "clients would be sent to them too; select with the StatefulSet's selector labels")
        for statefulset in matched:
            missing = reach.wider_than(service, statefulset)
            if missing:
                yield Hit(service, ("spec", "selector"), f"{service.ref}'s selector is wider than {statefulset.ref}'s "
                          f"and may select other apps' pods; add {', '.join(missing)}")
        if not headless(service) and get(service.doc, ("spec", "publishNotReadyAddresses")) is True:
            yield Hit(service, ("spec", "publishNotReadyAddresses"), f"{service.ref} is a client Service but "
                      "publishes not-ready addresses, so clients reach members that serve no quorum; remove it "
                      "(only the headless Service needs it)")


@rule("ZK-SVC-002", ERROR, "every Service targetPort resolves to a port the selected containers declare")
def service_target_ports(ctx: Context):
    yield from unresolved_ports(ctx, "Service", "targetPort")


ENDPOINTS_FILE = ENDPOINTS.relative_to(REPO_ROOT).as_posix()


@rule("ZK-SVC-003", ERROR, "every Service port the docs promise clients (docs/endpoints.yaml) exists")
def documented_endpoints_exist(ctx: Context):
    for endpoint in promised_endpoints(ctx.source):
        name, port = endpoint.service, endpoint.port
        service = ctx.named("Service", name)
        where = (f"{ENDPOINTS_FILE}:{endpoint.line} promises {ctx.source} users {name}:{port} (the docs' \"Clients "
                 "connect to\" line)")
        if service is None:
            anchor = (ctx.by_kind["StatefulSet"] or ctx.manifests)[0]
            yield Hit(anchor, ("metadata", "name"), f"{where}, but no Service {name} is rendered; name the client "
                      f"Service so, or correct {ENDPOINTS_FILE} and run `nox -s lint -- --fix`")
        elif port not in [get(p, ("port",)) for p in get_list(service.doc, ("spec", "ports"))]:
            yield Hit(service, ("spec", "ports"), f"{where}, but {service.ref} has no port {port}; add it, or correct "
                      f"{ENDPOINTS_FILE} and run `nox -s lint -- --fix`")
