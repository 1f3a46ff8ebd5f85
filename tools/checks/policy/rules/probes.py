"""ZK-PRB: the liveness and readiness probes exist, and the four-letter words they send are whitelisted."""

from __future__ import annotations

from tools.base.contract import CLIENT_PORT, PROBE_SCRIPT
from tools.checks.policy.context import Context, probe_words
from tools.checks.policy.model import ERROR, Hit, get_list
from tools.checks.policy.rules._helpers import ensemble_containers
from tools.checks.policy.rules._registry import rule


@rule("ZK-PRB-001", ERROR, "liveness probe present")
def liveness_probe(ctx: Context):
    for c in ensemble_containers(ctx):
        if not c.spec.get("livenessProbe"):
            yield Hit(c.manifest, (*c.path, "livenessProbe"), f"container {c.name}: add a livenessProbe "
                      f"(exec {PROBE_SCRIPT} {CLIENT_PORT} live: ruok answers imok)")


@rule("ZK-PRB-002", ERROR, "readiness probe present")
def readiness_probe(ctx: Context):
    for c in ensemble_containers(ctx):
        if not c.spec.get("readinessProbe"):
            yield Hit(c.manifest, (*c.path, "readinessProbe"), f"container {c.name}: add a readinessProbe "
                      f"(exec {PROBE_SCRIPT} {CLIENT_PORT} ready: the member serves)")


@rule("ZK-PRB-003", ERROR, "every four-letter word the probes use is whitelisted")
def probe_words_whitelisted(ctx: Context):
    for c in ensemble_containers(ctx):
        whitelist, setting = ctx.whitelist(c)
        for probe in ("livenessProbe", "startupProbe", "readinessProbe"):
            command = get_list(c.spec, (probe, "exec", "command"))
            missing = sorted(probe_words(command) - whitelist) if "*" not in whitelist else []
            if missing:
                where = (f"the whitelist {','.join(sorted(whitelist))} set in {setting.where}" if setting else
                         "no 4lw.commands.whitelist (ZooKeeper >= 3.5 then allows only srvr)")
                yield Hit(c.manifest, (*c.path, probe, "exec", "command"), f"the {probe} sends "
                          f"{', '.join(missing)}, but the server has {where}; add {', '.join(missing)} to "
                          f"ZOO_4LW_COMMANDS_WHITELIST, or the probe always fails{ctx.unseen_config_maps(c)}")
