"""Where the scheduler put each member (production: one per node, spread over zones) and what the Services'
endpoints hold (on kwok nodes: a member marked not ready leaves the client Service, stays in the headless one)."""

from __future__ import annotations

import time

from tools.smoke.scenario import StepFailed
from tools.smoke.scenarios.kube import disruption
from tools.smoke.scenarios.kube.context import KubeContext

ZONE_LABEL = "topology.kubernetes.io/zone"


def scheduling(s: KubeContext) -> str:
    nodes = {n["metadata"]["name"]: n for n in s.get_json("nodes", namespaced=False)}
    placement = {p["metadata"]["name"]: p["spec"].get("nodeName", "") for p in s.pods()}
    zones = {pod: nodes[node]["metadata"]["labels"].get(ZONE_LABEL, "") for pod, node in placement.items()}
    schedulable = [name for name, node in nodes.items() if not node["spec"].get("unschedulable")]
    where = ", ".join(f"{pod} on {node} ({zones[pod] or 'no zone'})" for pod, node in sorted(placement.items()))
    if s.kube.env == "production":
        if len(set(placement.values())) != len(placement):
            raise StepFailed(f"required anti-affinity broken: {where}")
        cluster_zones = {nodes[n]["metadata"]["labels"].get(ZONE_LABEL) for n in schedulable} - {None}
        if len(cluster_zones) >= len(placement) and len(set(zones.values())) != len(placement):
            raise StepFailed(f"zone spread broken ({len(cluster_zones)} zones available): {where}")
    return f"{len(schedulable)} schedulable node(s){disruption.cordoned_words(s)}: {where}"


def service_endpoints(s: KubeContext) -> str:
    services = s.get_json("services")
    pods = {p["metadata"]["name"]: p for p in s.pods()}
    ips = {name: pod["status"].get("podIP") for name, pod in pods.items()}
    # The StatefulSet's own headless Service (production's metrics Service is headless too).
    governing = {statefulset["spec"].get("serviceName") for statefulset in s.get_json("statefulsets")}
    headless = [svc for svc in services if svc["spec"].get("clusterIP") == "None"
                and svc["metadata"]["name"] in governing]
    client = [svc for svc in services if svc["spec"].get("clusterIP") != "None"]
    if len(headless) != 1 or not client:
        raise StepFailed(
            f"expected one headless and a client Service, got {[svc['metadata']['name'] for svc in services]}"
        )
    for service in headless + client:
        wait_endpoints(s, service["metadata"]["name"], set(ips.values()), "all members Ready")
    detail = f"{len(ips)} members behind {', '.join(svc['metadata']['name'] for svc in headless + client)}"
    if s.members_run_containers():
        return detail + " (not-ready members: the kubelet owns readiness on a real node, not checked)"
    # kwok: mark one member not ready; the client Service must drop it, the headless one keep it.
    pod = s.kube.pod(s.kube.members - 1)
    set_ready(s, pod, False)
    try:
        for service in client:
            wait_endpoints(s, service["metadata"]["name"], set(ips.values()) - {ips[pod]}, f"{pod} not ready")
        wait_endpoints(s, headless[0]["metadata"]["name"], set(ips.values()), f"{pod} not ready")
    finally:
        set_ready(s, pod, True)
    return detail + f"; {pod} not ready: dropped by the client Service, kept by the headless one"


# -- helpers -----------------------------------------------------------------------------------------------------


def set_ready(s: KubeContext, pod: str, ready: bool) -> None:
    status = "True" if ready else "False"
    patch = {
        "status": {
            "conditions": [{"type": "Ready", "status": status}, {"type": "ContainersReady", "status": status}]
        }
    }
    with s.could(f"mark {pod} {'ready' if ready else 'not ready'}"):
        s.kube.kubectl.patch("pod", pod, patch, subresource="status")


def wait_endpoints(s: KubeContext, service: str, expected: set[str], when: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        slices = s.get_json("endpointslices", selector=f"kubernetes.io/service-name={service}")
        ready = {
            address
            for endpoint_slice in slices
            for e in endpoint_slice.get("endpoints") or []
            if (e.get("conditions") or {}).get("ready", True)  # publishNotReadyAddresses: ready for every pod
            for address in e.get("addresses", [])
        }
        if ready == expected:
            return
        if time.monotonic() > deadline:
            raise StepFailed(f"Service {service} ({when}): endpoints {sorted(ready)}, expected {sorted(expected)}")
        time.sleep(0.5)
