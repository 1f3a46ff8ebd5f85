"""The rules' layout: one module per family (one id prefix) under tools/checks/policy/rules/, each module's rules in
id order, RULES in id order with unique ids, and no helper defined twice."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tools.checks.policy import RULES, RULES_BY_ID
from tools.checks.policy.rules import FAMILIES
from tools.checks.policy.rules._registry import rules_of

RULES_DIR = Path(__file__).resolve().parents[2] / "tools" / "checks" / "policy" / "rules"
RULE_ID = re.compile(r"^@?rule\(\s*\"(ZK-[A-Z]+-[0-9]{3})\"", re.MULTILINE)


def family_files() -> list[Path]:
    return sorted(p for p in RULES_DIR.glob("*.py") if not p.name.startswith("_"))


def test_rule_ids_are_unique_and_in_id_order():
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    assert ids == sorted(ids)
    assert {r.id: r for r in RULES} == RULES_BY_ID
    assert all(re.fullmatch(r"ZK-[A-Z]+-[0-9]{3}", i) for i in ids), ids


def test_every_family_module_is_listed_once():
    assert sorted(Path(m.__file__).name for m in FAMILIES.values()) == [p.name for p in family_files()]
    assert list(FAMILIES) == sorted(FAMILIES), "FAMILIES is in id order"


def test_each_family_file_holds_exactly_its_prefix_in_id_order():
    for prefix, module in FAMILIES.items():
        path = Path(module.__file__)
        written = RULE_ID.findall(path.read_text())
        assert written, f"{path.name} defines no rule"
        assert all(i.startswith(prefix + "-") for i in written), f"{path.name} holds {written}, not only {prefix}"
        assert written == sorted(written), f"{path.name}: rules out of id order: {written}"
        assert [r.id for r in rules_of(module)] == written, f"{path.name}: registered rules differ from the file"


def test_every_rule_comes_from_its_familys_module():
    for rule in RULES:
        prefix = rule.id.rsplit("-", 1)[0]
        assert prefix in FAMILIES, f"{rule.id}: no family module for {prefix}"
        assert rule.check.__module__ == FAMILIES[prefix].__name__, f"{rule.id} is defined in {rule.check.__module__}"
    for path in (RULES_DIR / "_helpers.py", RULES_DIR / "_registry.py", RULES_DIR / "__init__.py"):
        assert RULE_ID.findall(path.read_text()) == [], f"{path.name} defines a rule"


def test_no_helper_is_defined_twice():
    seen: dict[str, str] = {}
    for path in sorted(RULES_DIR.glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                assert node.name not in seen, f"{node.name} is defined in {seen.get(node.name)} and {path.name}"
                seen[node.name] = path.name
