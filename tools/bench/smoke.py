"""The `smoke` section: one local scenario run (overlay kind on the local container ensemble) and how long the
ensemble took at each fault. The scenario says each step and its time as it goes."""

from __future__ import annotations

from tools.base import progress
from tools.base.errors import UserError
from tools.base.profiles import Profile
from tools.bench.measure import Measure, Options
from tools.bench.report import nested
from tools.cli.engine import Engine
from tools.image.build import ensure_image
from tools.smoke.scenario import Scenario
from tools.smoke.targets.local import LocalTarget

# The scenario's timings, in the order it takes them.
TIMINGS = [
    ("scenario_wall", "scenario wall time (local, every step)"),
    ("quorum_at_start", "quorum at start (first container run -> all serving)"),
    ("quorum_after_first_stop", "quorum after one member stopped"),
    ("quorum_lost", "quorum lost after a second member stopped"),
    ("write_refused_after", "write without quorum refused after"),
    ("recovery", "recovery (two members restarted -> all serving)"),
    ("quorum_after_recreate", "quorum after the ensemble was recreated"),
]


def run(options: Options) -> list[Measure]:
    """One run whatever --repeat says: the scenario is a minute of faults, not a quick timing to repeat."""
    engine = Engine.detect()
    target = LocalTarget(engine, Profile("overlay", "kind"))
    ensure_image(engine, target.template.image, progress=nested)
    with progress.step("the local scenario (overlay kind)"):
        try:
            report = Scenario(target, progress=nested).run()
        finally:
            target.teardown(keep_volumes=False)
    if not report.ok:
        step = report.failed_step
        raise UserError(f"smoke benchmark: step {step.name!r} failed: {step.detail}")
    first = report.member_states["start"][-1]["mode"]  # the member stopped first is the highest ordinal
    return [Measure(label, report.timings[key], "s",
                    note=f"the member stopped first was the {first}" if key == "quorum_after_first_stop" else "")
            for key, label in TIMINGS]
