"""Benchmark the policy pass over every profile (rendering excluded; goal <= 0.5 s). Part of `nox -s bench`."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from tools.base.profiles import all_profiles
from tools.checks.policy import check
from tools.checks.policy.sources import tracer_for
from tools.render import render_all
from tools.render.manifests import forget_parsed, load_file

GOAL_SECONDS = 0.5


def _best(runs: int, action) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def run() -> list[tuple[str, str]]:
    """(label, value) rows: parsing, the whole pass as `nox -s policy` runs it, and tracing a finding's source."""
    with tempfile.TemporaryDirectory(prefix="kz-policy-bench-") as tmp:
        rendered = render_all(all_profiles(), Path(tmp))  # not timed
        label = f"{len(rendered)} profiles"
        parse = _best(5, lambda: (forget_parsed(), [load_file(path) for path in rendered.values()]))
        whole = _best(5, lambda: (forget_parsed(), check(rendered)))
        overlays = [(p, load_file(path)) for p, path in rendered.items() if p.source == "overlay"]

        def trace_one_finding_per_overlay() -> None:
            for profile, manifests in overlays:
                statefulset = next(m for m in manifests if m.kind == "StatefulSet")
                tracer_for(profile)(statefulset, ("spec", "replicas"))

        trace = _best(3, trace_one_finding_per_overlay)
    verdict = "meets" if whole <= GOAL_SECONDS else "misses"
    return [
        (f"policy: parse rendered YAML ({label}, best of 5)", f"{parse:.3f} s"),
        (f"policy: parse + all rules ({label}, best of 5; goal <= {GOAL_SECONDS} s)", f"{whole:.3f} s ({verdict})"),
        (f"policy: trace a first finding to its source ({len(overlays)} overlays, 1 kustomize build each)",
         f"{trace:.3f} s"),
    ]


if __name__ == "__main__":
    for name, value in run():
        print(f"{name:80} {value}")
