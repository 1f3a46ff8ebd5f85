"""ZK-ADM: the admin Secret that makes reconfiguration a super user's act, ACLs left on, no known password."""

from __future__ import annotations

import base64
import binascii
import re

import yaml

from tools import REPO_ROOT
from tools.base.contract import ADMIN_DIR, ADMIN_KEY
from tools.checks.policy.context import JVM_OPTION_VARS, Context, Setting
from tools.checks.policy.model import ERROR, Hit, command_item, command_text, get, get_list
from tools.checks.policy.rules._helpers import ensemble_containers, mounted_volume
from tools.checks.policy.rules._registry import rule


@rule("ZK-ADM-001", ERROR, f"the reconfiguration authority (a Secret with key password) is mounted at {ADMIN_DIR}")
def admin_secret_mounted(ctx: Context):
    for c in ensemble_containers(ctx):
        volume, index = mounted_volume(c, ADMIN_DIR)
        if not get(volume, ("secret", "secretName")):
            what = "nothing" if volume is None else "no Secret"
            yield Hit(c.manifest, (*c.path, "volumeMounts", *(() if index is None else (index,))),
                      f"container {c.name} mounts {what} at {ADMIN_DIR}: without the admin password the ensemble "
                      "has no super user, so reconfiguration is open to every client; mount a Secret with the key "
                      "password there (the base's zookeeper-admin, the chart's <fullname>-admin or "
                      "auth.existingSecret)")
            continue
        items = get_list(volume, ("secret", "items"))
        if items and not any(get(i, ("key",)) == ADMIN_KEY and get(i, ("path",)) == ADMIN_KEY for i in items):
            index = get_list(c.manifest.doc, (*c.pod_path, "volumes")).index(volume)
            yield Hit(c.manifest, (*c.pod_path, "volumes", index, "secret", "items"),
                      f"the Secret volume's items leave out {ADMIN_DIR}/password; drop items, or map the key "
                      "password to the path password")


SKIP_ACL = re.compile(r"-Dzookeeper\.skipACL=(\S+)")


@rule("ZK-ADM-002", ERROR, "ACLs are enforced (no -Dzookeeper.skipACL)")
def no_skip_acl(ctx: Context):
    for c in ensemble_containers(ctx):
        env = ctx.env(c)
        settings = [env[var] for var in JVM_OPTION_VARS if var in env]
        if SKIP_ACL.search(command_text(c)):
            settings.append(Setting(command_text(c), c.manifest, command_item(c, r"skipACL")))
        for setting in settings:
            for match in SKIP_ACL.finditer(setting.value):
                if match.group(1).strip("'\"").lower() in ("yes", "true"):
                    yield Hit(setting.manifest, setting.path, f"{match.group(0)} turns every ACL off: any client "
                              "may reconfigure the ensemble (reconfig), delete any znode and read every secret kept "
                              "in it; remove it (the members reconfigure as the super user of the admin Secret)")


def dev_admin_password() -> str | None:
    """The password components/dev-admin-secret ships (known to anyone who reads the repository)."""
    path = REPO_ROOT / DEV_ADMIN_COMPONENT
    if not path.exists():
        return None
    for generator in get_list(yaml.safe_load(path.read_text(encoding="utf-8")), ("secretGenerator",)):
        for literal in get_list(generator, ("literals",)):
            key, _, value = str(literal).partition("=")
            if key == ADMIN_KEY:
                return value
    return None


DEV_ADMIN_COMPONENT = "components/dev-admin-secret/kustomization.yaml"


@rule("ZK-ADM-003", ERROR, "a shared cluster's admin Secret does not carry the repository's laptop password",
      types=("production", "openshift"))
def no_known_admin_password(ctx: Context):
    known = dev_admin_password()
    if known is None:
        return
    for secret in ctx.by_kind["Secret"]:
        for field in ("stringData", "data"):
            value = get(secret.doc, (field, ADMIN_KEY))
            if value is None:
                continue
            text = str(value)
            if field == "data":
                try:
                    text = base64.b64decode(text, validate=True).decode("utf-8", "replace")
                except (binascii.Error, ValueError):
                    continue
            if text == known:
                yield Hit(secret, (field, ADMIN_KEY), f"{secret.ref} carries the laptop password of "
                          f"{DEV_ADMIN_COMPONENT}, which anyone who reads the repository knows, and with it may "
                          "reconfigure the ensemble; drop that component and create the Secret yourself (README, "
                          "\"The admin Secret\")")
