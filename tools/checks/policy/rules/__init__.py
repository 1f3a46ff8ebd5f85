"""The policy rules: plain functions over one profile's parsed objects, each with a stable id and a severity, one
module per family (one id prefix), each module's rules in id order:

    admin.py ZK-ADM   affinity.py ZK-AFF   ensemble.py ZK-ENS   image.py ZK-IMG      network.py ZK-NET
    openshift.py ZK-OCP   disruption.py ZK-PDB   probes.py ZK-PRB   resources.py ZK-RES   security.py ZK-SEC
    services.py ZK-SVC

_registry.py holds Rule and the `@rule` decorator, _helpers.py what several families share. A new family is a new
module in this package and an entry in FAMILIES (tests/policy/test_registry.py fails on a module left out or a rule
out of order).
"""

from __future__ import annotations

from tools.checks.policy.rules import (
    admin,
    affinity,
    disruption,
    ensemble,
    image,
    network,
    openshift,
    probes,
    resources,
    security,
    services,
)
from tools.checks.policy.rules._registry import Rule, rules_of
from tools.checks.policy.rules.resources import headroom

# Id prefix -> the module holding exactly that family's rules, in id order (so RULES is in id order too).
FAMILIES = {
    "ZK-ADM": admin,
    "ZK-AFF": affinity,
    "ZK-ENS": ensemble,
    "ZK-IMG": image,
    "ZK-NET": network,
    "ZK-OCP": openshift,
    "ZK-PDB": disruption,
    "ZK-PRB": probes,
    "ZK-RES": resources,
    "ZK-SEC": security,
    "ZK-SVC": services,
}

RULES: list[Rule] = [r for family in FAMILIES.values() for r in rules_of(family)]
RULES_BY_ID = {r.id: r for r in RULES}

__all__ = ["FAMILIES", "RULES", "RULES_BY_ID", "Rule", "headroom"]
