"""ZK-ENS: the ensemble's shape: an odd member count, the count the members read, the governing headless Service and
its DNS records, a start order that lets a quorum form, no fixed server list."""

from __future__ import annotations

from tools.base.contract import ENSEMBLE_DIR, ENSEMBLE_KEY
from tools.checks.policy import reach
from tools.checks.policy.context import Context, probe_words
from tools.checks.policy.model import ERROR, WARNING, Hit, get, get_list, pod_labels
from tools.checks.policy.rules._helpers import (
    ensemble_containers,
    governing_services,
    headless,
    mounted_volume,
    replicas,
)
from tools.checks.policy.rules._registry import rule


@rule("ZK-ENS-001", ERROR, "replicas is odd and at least 3 (1 is a warning on laptop profiles)")
def odd_replicas(ctx: Context):
    for statefulset in ctx.by_kind["StatefulSet"]:
        size = replicas(statefulset)
        if size == 1:
            yield Hit(statefulset, ("spec", "replicas"), "a single member has no fault tolerance; use replicas: 3",
                      WARNING if ctx.is_laptop else None)
        elif size % 2 == 0 or size < 3:
            yield Hit(statefulset, ("spec", "replicas"), f"{size} members tolerate {(size - 1) // 2} failed "
                      f"member(s), no more than {size - 1} would; use an odd number >= 3 (3 or 5)")


@rule("ZK-ENS-002", ERROR, f"the member count the members read ({ENSEMBLE_DIR}/replicas) equals replicas")
def ensemble_count(ctx: Context):
    for c in ensemble_containers(ctx):
        size = replicas(c.manifest)
        volume, _ = mounted_volume(c, ENSEMBLE_DIR)
        name = get(volume, ("configMap", "name"))
        if not name:
            yield Hit(c.manifest, (*c.path, "volumeMounts"), f"container {c.name} mounts no ConfigMap at "
                      f"{ENSEMBLE_DIR}, so its members never learn how many voters the ensemble should have; mount "
                      f"one whose key replicas is {size} (the base's zookeeper-ensemble, the chart's "
                      "<fullname>-ensemble)")
            continue
        config_map = ctx.named("ConfigMap", name)
        if config_map is None:
            continue  # not among the checked objects (a ConfigMap of the user's): nothing to compare
        count = get(config_map.doc, ("data", ENSEMBLE_KEY))
        if count is None or str(count).strip() != str(size):
            got = "has no key replicas" if count is None else f"says replicas {count}"
            yield Hit(config_map, ("data", "replicas"), f"{config_map.ref} {got} but {c.manifest.ref} has replicas "
                      f"{size}: the members would grow or shrink the voting set to a count the StatefulSet does not "
                      "run; set both together (components/five-members, or the chart's replicas)")


@rule("ZK-ENS-003", ERROR, "serviceName names a headless Service in the manifests")
def headless_service(ctx: Context):
    for statefulset in ctx.by_kind["StatefulSet"]:
        name = get(statefulset.doc, ("spec", "serviceName"))
        service = ctx.named("Service", name)
        if not name:
            yield Hit(statefulset, ("spec", "serviceName"), "set serviceName to a headless Service: members find "
                      "each other by its DNS names")
        elif service is None:
            yield Hit(statefulset, ("spec", "serviceName"), f"serviceName {name} names no Service in these "
                      "manifests; add a headless Service (clusterIP: None) with that name")
        elif not headless(service):
            yield Hit(service, ("spec", "clusterIP"), f"{service.ref} is the StatefulSet's serviceName but not "
                      "headless; set clusterIP: None")


@rule("ZK-ENS-004", ERROR, "the headless Service publishes not-ready addresses")
def publishes_not_ready(ctx: Context):
    for _, service in governing_services(ctx):
        if get(service.doc, ("spec", "publishNotReadyAddresses")) is not True:
            yield Hit(service, ("spec", "publishNotReadyAddresses"), "set publishNotReadyAddresses: true so members "
                      "resolve each other before they are Ready (else a new ensemble cannot form a quorum)")


@rule("ZK-ENS-005", ERROR, "the headless Service's selector matches the pods")
def service_selects_pods(ctx: Context):
    for statefulset, service in governing_services(ctx):
        labels = pod_labels(statefulset)
        if not reach.selects(service, labels):
            yield Hit(service, ("spec", "selector"), f"{service.ref}'s selector does not match the pod labels "
                      f"{dict(labels)}; members get no DNS records: use the pod labels")


@rule("ZK-ENS-006", ERROR, "OrderedReady start is not combined with a quorum readiness probe")
def no_ordered_ready_deadlock(ctx: Context):
    for c in ensemble_containers(ctx):
        policy = get(c.manifest.doc, ("spec", "podManagementPolicy")) or "OrderedReady"
        command = get_list(c.spec, ("readinessProbe", "exec", "command"))
        if policy != "Parallel" and replicas(c.manifest) > 1 and "srvr" in probe_words(command):
            yield Hit(c.manifest, ("spec", "podManagementPolicy"), "readiness waits for a quorum (srvr) but "
                      "OrderedReady starts member 1 only after member 0 is Ready: it never is; set "
                      "podManagementPolicy: Parallel")


@rule("ZK-ENS-007", ERROR, "no fixed server list (ZOO_SERVERS, --servers) beside the count the members read")
def no_static_server_count(ctx: Context):
    for c in ensemble_containers(ctx):
        setting = ctx.flag(c, "servers") or ctx.env(c).get("ZOO_SERVERS")
        if setting is not None and mounted_volume(c, ENSEMBLE_DIR)[0] is not None:
            yield Hit(setting.manifest, setting.path, f"ZOO_SERVERS/--servers={setting.value} gives {c.manifest.ref} "
                      f"a fixed server list although its members read their count from {ENSEMBLE_DIR}: the pod "
                      "template then depends on the count, so every scaling restarts every member, and the list "
                      "fights the dynamic membership; remove it")
