"""The member pod of a rendered profile: what a container needs from the StatefulSet and its ConfigMap (the local
target and the cluster's real node run the image from it)."""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from tools.base.errors import UserError
from tools.base.profiles import Profile
from tools.render import render

NAMESPACE = "default"  # the namespace of the pods a local run imitates (metadata.namespace, the members' FQDNs)
CLUSTER_DOMAIN = "cluster.local"


@dataclass(frozen=True)
class PodTemplate:
    """What a member container needs from the rendered StatefulSet and its ConfigMap."""

    statefulset: str
    service: str
    image: str
    command: list[str]
    env: dict[str, str]
    user: str | None
    read_only: bool
    data_mount: str
    scratch_mounts: list[str] = field(default_factory=list)
    replicas: int = 3
    namespace: str = NAMESPACE  # the pods' metadata.namespace: part of every member's FQDN
    pre_stop: list[str] = field(default_factory=list)  # the container's preStop exec command, run before a stop

    def hostname(self, member: int) -> str:
        return f"{self.statefulset}-{member}"

    def fqdn(self, member: int) -> str:
        return f"{self.hostname(member)}.{self.service}.{self.namespace}.svc.{CLUSTER_DOMAIN}"


def pod_template(manifests: str, source: str) -> PodTemplate:
    """Read the StatefulSet (and the ConfigMap its container takes envFrom) out of rendered manifests."""
    docs = [doc for doc in yaml.safe_load_all(manifests) if doc]
    statefulsets = [doc for doc in docs if doc.get("kind") == "StatefulSet"]
    if len(statefulsets) != 1:
        raise UserError(f"{source}: expected one StatefulSet, found {len(statefulsets)}")
    sts = statefulsets[0]
    pod = sts["spec"]["template"]["spec"]
    container = pod["containers"][0]
    configmaps = {doc["metadata"]["name"]: doc.get("data", {}) for doc in docs if doc.get("kind") == "ConfigMap"}
    env: dict[str, str] = {}
    for source_ref in container.get("envFrom", []):
        name = source_ref.get("configMapRef", {}).get("name")
        if name not in configmaps:
            raise UserError(
                f"{source}: StatefulSet {sts['metadata']['name']} takes envFrom ConfigMap {name!r}, "
                "which the manifests do not contain"
            )
        env.update({key: str(value) for key, value in configmaps[name].items()})
    for item in container.get("env", []):
        field_path = item.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
        if field_path == "metadata.namespace":
            env[item["name"]] = NAMESPACE
        elif "value" in item:
            env[item["name"]] = str(item["value"])
    security = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
    uid = security.get("runAsUser")
    user = f"{uid}:{security.get('runAsGroup', 0)}" if uid is not None else None
    claim = sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"]
    mounts = {mount["name"]: mount["mountPath"] for mount in container.get("volumeMounts", [])}
    empty_dirs = [volume["name"] for volume in pod.get("volumes", []) if "emptyDir" in volume]
    return PodTemplate(
        statefulset=sts["metadata"]["name"],
        service=sts["spec"]["serviceName"],
        image=container["image"],
        command=list(container.get("command", [])) + list(container.get("args", [])),
        env=env,
        user=user,
        read_only=bool(security.get("readOnlyRootFilesystem")),
        data_mount=mounts[claim],
        scratch_mounts=[mounts[name] for name in empty_dirs if name in mounts],
        replicas=int(sts["spec"].get("replicas", 1)),
        pre_stop=list(container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])),
    )


def manifest_image(env: str) -> str:
    """The image the environment's overlay runs (what the local build must provide)."""
    profile = Profile("overlay", env)
    return pod_template(render(profile), profile.name).image
