"""The rule registry: `@rule(id, severity, title, types)` records a check as a Rule of the family module that defines
it; rules/__init__.py lists the family modules and gathers their rules, in id order, as RULES.

A rule yields Hits (object, field path, message); tools.checks.policy turns them into located Findings.
`types` limits a rule to some profile types (None: every profile).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType

from tools.checks.policy.context import Context
from tools.checks.policy.model import Hit


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    title: str
    types: tuple[str, ...] | None
    check: Callable[[Context], Iterator[Hit]]

    def applies_to(self, profile_type: str) -> bool:
        return self.types is None or profile_type in self.types


_BY_MODULE: dict[str, list[Rule]] = {}


def rule(rule_id: str, severity: str, title: str, types: tuple[str, ...] | None = None):
    def register(check: Callable[[Context], Iterator[Hit]]):
        _BY_MODULE.setdefault(check.__module__, []).append(Rule(rule_id, severity, title, types, check))
        return check

    return register


def rules_of(family: ModuleType) -> list[Rule]:
    """The rules a family module defines, in the order it defines them."""
    return list(_BY_MODULE.get(family.__name__, []))
