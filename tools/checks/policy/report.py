"""Reports: a table grouped by profile for people, JSON and JUnit XML for CI."""

from __future__ import annotations

import json
from collections import Counter
from xml.etree import ElementTree as ET

from tools.checks.policy.model import ERROR, WARNING, Finding

FORMATS = ("table", "json", "junit")
COLUMNS = ("RULE", "SEVERITY", "OBJECT", "FIELD", "LOCATION", "MESSAGE")


def _profiles(findings) -> list[str]:
    """Profiles in the order they were checked (those without findings included when known)."""
    names = list(getattr(findings, "checked", {}))
    return names + [p for p in dict.fromkeys(f.profile for f in findings) if p not in names]


def _counts(findings, profile: str) -> Counter:
    return Counter(f.severity for f in findings if f.profile == profile)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary_line(findings, profile: str) -> str:
    counts = _counts(findings, profile)
    return f"{profile}: {_plural(counts[ERROR], 'error')}, {_plural(counts[WARNING], 'warning')}"


def location(finding: Finding) -> str:
    return finding.location + (f" (from {finding.source})" if finding.source else "")


def table(findings) -> str:
    out = []
    for profile in _profiles(findings):
        rows = [(f.rule, f.severity, f.object, f.path, location(f), f.message)
                for f in findings if f.profile == profile]
        out.append(f"== {summary_line(findings, profile)}")
        if rows:
            widths = [max(len(r[i]) for r in [COLUMNS, *rows]) for i in range(len(COLUMNS) - 1)]
            for row in [COLUMNS, *rows]:
                out.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1])
        out.append("")
    totals = Counter(f.severity for f in findings)
    out.append(f"policy: {_plural(len(_profiles(findings)), 'profile')}, {_plural(totals[ERROR], 'error')}, "
               f"{_plural(totals[WARNING], 'warning')}")
    return "\n".join(out) + "\n"


def as_json(findings) -> str:
    summary = {p: {ERROR: _counts(findings, p)[ERROR], WARNING: _counts(findings, p)[WARNING]}
               for p in _profiles(findings)}
    return json.dumps({"summary": summary, "findings": [f.to_dict() for f in findings]}, indent=2) + "\n"


def junit(findings) -> str:
    """One testsuite per profile, one testcase per rule that ran; error findings are failures, warnings output."""
    suites = ET.Element("testsuites", name="policy")
    for profile in _profiles(findings):
        mine = [f for f in findings if f.profile == profile]
        rule_ids = list(getattr(findings, "checked", {}).get(profile, [])) or sorted({f.rule for f in mine})
        errors = [f for f in mine if f.severity == ERROR]
        suite = ET.SubElement(suites, "testsuite", name=profile, tests=str(len(rule_ids)),
                              failures=str(len({f.rule for f in errors})), errors="0", skipped="0")
        for rule_id in rule_ids:
            case = ET.SubElement(suite, "testcase", classname=f"policy.{profile}", name=rule_id)
            hits = [f for f in mine if f.rule == rule_id]
            failed = [f for f in hits if f.severity == ERROR]
            if failed:
                failure = ET.SubElement(case, "failure", type=rule_id, message=failed[0].message)
                failure.text = "\n".join(f"{f.object} {f.path} at {location(f)}: {f.message}" for f in failed)
            warned = [f for f in hits if f.severity == WARNING]
            if warned:
                ET.SubElement(case, "system-out").text = "\n".join(
                    f"warning: {f.object} {f.path} at {location(f)}: {f.message}" for f in warned)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def format_report(findings, fmt: str = "table") -> str:
    if fmt == "table":
        return table(findings)
    if fmt == "json":
        return as_json(findings)
    if fmt == "junit":
        return junit(findings)
    raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
