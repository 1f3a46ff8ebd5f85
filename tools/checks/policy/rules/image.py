"""ZK-IMG: the image reference: a pinned tag or digest, a pull policy laptops can use, no placeholder registry."""

from __future__ import annotations

import re

from tools.checks.policy.context import Context
from tools.checks.policy.model import ERROR, LAPTOP_TYPES, WARNING, Hit
from tools.checks.policy.rules._helpers import all_containers
from tools.checks.policy.rules._registry import rule


def image_tag(image: str) -> tuple[str | None, bool]:
    """(tag, has digest) of an image reference."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    return (last.split(":", 1)[1] if ":" in last else None), bool(digest)


@rule("ZK-IMG-001", ERROR, "image has a pinned tag (not latest) or a digest")
def pinned_image(ctx: Context):
    for c in all_containers(ctx):
        image = str(c.spec.get("image") or "")
        tag, digest = image_tag(image)
        if digest:
            continue
        if tag is None:
            yield Hit(c.manifest, (*c.path, "image"), f"image {image!r} has no tag (means latest); pin a version "
                      "tag or a digest")
        elif tag == "latest":
            yield Hit(c.manifest, (*c.path, "image"), f"image {image!r} uses latest; pin a version tag or a digest")


@rule("ZK-IMG-002", ERROR, "laptop profiles use a locally loaded image (imagePullPolicy not Always)",
      types=LAPTOP_TYPES)
def laptop_pull_policy(ctx: Context):
    for c in all_containers(ctx):
        if c.spec.get("imagePullPolicy") == "Always":
            yield Hit(c.manifest, (*c.path, "imagePullPolicy"), "imagePullPolicy Always pulls an image that was only "
                      "loaded into the node (kind load / minikube image load); use IfNotPresent")


# Registries reserved for examples (RFC 2606): components/registry-image ships one until a user sets theirs.
PLACEHOLDER_REGISTRY = re.compile(r"(?:.+\.)?example(?:\.com|\.net|\.org)?")
REGISTRY_COMPONENT = "components/registry-image/kustomization.yaml"


@rule("ZK-IMG-003", WARNING, "the image does not come from a placeholder registry (registry.example.com)")
def placeholder_registry(ctx: Context):
    for c in all_containers(ctx):
        image = str(c.spec.get("image") or "")
        host = image.split("/", 1)[0] if "/" in image else ""
        if PLACEHOLDER_REGISTRY.fullmatch(host):
            yield Hit(c.manifest, (*c.path, "image"), f"image {image} names the placeholder registry {host}, which "
                      "no node can pull from; push the image to your registry (nox -s image -- --push REGISTRY) "
                      f"and set newName in {REGISTRY_COMPONENT} to it (image.repository for the chart)")
