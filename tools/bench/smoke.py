"""Smoke benchmark (a `nox -s bench` section): one local scenario run and how long the ensemble took at each fault."""

from __future__ import annotations

from tools.base.errors import UserError
from tools.base.profiles import Profile
from tools.cli.engine import Engine
from tools.image.build import ensure_image
from tools.smoke.scenario import Scenario
from tools.smoke.targets.local import LocalTarget

ROWS = [
    ("scenario_wall", "smoke: scenario wall time (local, 15 steps)"),
    ("quorum_at_start", "smoke: quorum at start (first container run -> all serving)"),
    ("quorum_after_first_stop", "smoke: quorum after one member stopped"),
    ("quorum_lost", "smoke: quorum lost after a second member stopped"),
    ("write_refused_after", "smoke: write without quorum refused after"),
    ("recovery", "smoke: recovery (two members restarted -> all serving)"),
    ("quorum_after_recreate", "smoke: quorum after the ensemble was recreated"),
]


def run() -> list[tuple[str, str]]:
    engine = Engine.detect()
    target = LocalTarget(engine, Profile("overlay", "kind"))
    ensure_image(engine, target.template.image)
    try:
        report = Scenario(target, progress=lambda line: None).run()
    finally:
        target.teardown(keep_volumes=False)
    if not report.ok:
        step = report.failed_step
        raise UserError(f"smoke benchmark: step {step.name!r} failed: {step.detail}")
    rows = [(label, f"{report.timings[key]:.1f} s") for key, label in ROWS]
    first = report.member_states["start"][-1]["mode"]  # the member stopped first is the highest ordinal
    rows.append(("smoke: member stopped first was", first))
    return rows


if __name__ == "__main__":
    for name, value in run():
        print(f"{name:62} {value}")
