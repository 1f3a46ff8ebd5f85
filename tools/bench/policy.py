"""The `policy` section: parsing the rendered profiles, the policy pass over them as `nox -s policy` runs it (goal
<= 0.5 s), and tracing a finding to its source file. Rendering is done once first and not timed."""

from __future__ import annotations

import tempfile
from pathlib import Path

from tools.base import progress
from tools.base.profiles import all_profiles
from tools.bench import timing
from tools.bench.measure import Measure, Options
from tools.checks.policy import check
from tools.checks.policy.sources import tracer_for
from tools.render import render_all
from tools.render.manifests import forget_parsed, load_file

GOAL_SECONDS = 0.5
REPEAT = 5  # best of
TRACE_REPEAT = 3  # each one runs a kustomize build per overlay


def run(options: Options) -> list[Measure]:
    repeat, trace_repeat = options.times(REPEAT), options.times(TRACE_REPEAT)
    profiles = all_profiles()
    with tempfile.TemporaryDirectory(prefix="kz-bench-policy-") as tmp:
        with progress.step(f"rendering {len(profiles)} profiles (not timed)", quiet_under=2):
            rendered = render_all(profiles, Path(tmp))
        label = f"{len(rendered)} profiles"
        with progress.step(f"parsing and checking {label}, best of {repeat}", quiet_under=2):
            parse = timing.best(repeat, lambda: (forget_parsed(), [load_file(path) for path in rendered.values()]))
            whole = timing.best(repeat, lambda: (forget_parsed(), check(rendered)))
        overlays = [(profile, load_file(path)) for profile, path in rendered.items() if profile.source == "overlay"]

        def trace_one_finding_per_overlay() -> None:
            for profile, manifests in overlays:
                statefulset = next(m for m in manifests if m.kind == "StatefulSet")
                tracer_for(profile)(statefulset, ("spec", "replicas"))

        with progress.step(f"tracing a finding in {len(overlays)} overlays, best of {trace_repeat}", quiet_under=2):
            trace = timing.best(trace_repeat, trace_one_finding_per_overlay)
    return [
        Measure(f"parse the rendered YAML ({label}, best of {repeat})", parse, "s"),
        Measure(f"parse + every rule, as `nox -s policy` ({label}, best of {repeat})", whole, "s", goal=GOAL_SECONDS),
        Measure(f"trace a first finding to its source ({len(overlays)} overlays, a kustomize build each, best of "
                f"{trace_repeat})", trace, "s"),
    ]
