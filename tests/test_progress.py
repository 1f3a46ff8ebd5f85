"""tools.base.progress: a slow step says what it does, that it happens once, that it is still running, and how long it
took; a failed step says so and the error goes on."""

import threading
import time

import pytest

from tools.base import progress, toolcache


@pytest.fixture
def lines():
    seen: list[str] = []
    previous = progress.set_sink(seen.append)
    yield seen
    progress.set_sink(previous)


def test_a_step_announces_itself_and_ends_with_the_elapsed_time(lines):
    with progress.step("building helm v3.19.0 with go install", note="once; cached in /cache"):
        time.sleep(0.05)
    assert lines[0] == "==> building helm v3.19.0 with go install (once; cached in /cache) ..."
    assert lines[-1].startswith("==> building helm v3.19.0 with go install: done in 0.")
    assert lines[-1].endswith(" s")


def test_a_long_step_says_it_is_still_running(lines):
    with progress.step("making the base", heartbeat=0.05):
        time.sleep(0.3)
    still = [line for line in lines if "still making the base" in line]
    assert len(still) >= 2 and still[0].startswith("    ... still making the base: 0.")


def test_a_failed_step_says_it_failed_and_the_error_goes_on(lines):
    with pytest.raises(RuntimeError, match="boom"), progress.step("fetching the jars"):
        raise RuntimeError("boom")
    assert lines[-1].startswith("==> fetching the jars: failed after ")
    assert not any("done in" in line for line in lines)


def test_a_step_that_may_be_quick_is_silent_when_it_is(lines):
    with progress.step("building 1 offline JSON schemas", quiet_under=0.5):
        pass
    assert lines == []
    with progress.step("building 26 offline JSON schemas", quiet_under=0.05):
        time.sleep(0.2)
    assert lines[0] == "==> building 26 offline JSON schemas ..."
    assert lines[-1].startswith("==> building 26 offline JSON schemas: done in 0.")


@pytest.mark.parametrize(("seconds", "text"), [(4.25, "4.2 s"), (59.94, "59.9 s"), (61, "1m01s"), (990, "16m30s")])
def test_elapsed_reads_as_seconds_then_minutes(seconds, text):
    assert progress.elapsed(seconds) == text


def test_lines_go_to_stderr_so_stdout_stays_clean(capsys):
    previous = progress.set_sink(None)
    try:
        with progress.step("building 3 offline JSON schemas"):
            pass
    finally:
        progress.set_sink(previous)
    captured = capsys.readouterr()
    assert captured.out == "" and "==> building 3 offline JSON schemas: done in" in captured.err


def test_threads_of_one_process_build_once_and_only_the_builder_speaks(lines, tmp_path):
    """validate renders in parallel threads: one builds helm, the others wait without a misleading line."""
    calls = []

    def build(tmp):
        calls.append(tmp)
        time.sleep(0.2)
        (tmp / "tool").write_text("built")

    threads = [threading.Thread(target=toolcache.build_once, args=(tmp_path / "tool-v1", "tool v1", build))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and (tmp_path / "tool-v1" / "tool").read_text() == "built"
    assert [line.split(" (")[0].split(":")[0] for line in lines] == ["==> building tool v1", "==> building tool v1"]


def test_a_failed_build_says_so_and_leaves_nothing_behind(lines, tmp_path):
    def build(tmp):
        (tmp / "half").write_text("x")
        raise RuntimeError("compile error")

    with pytest.raises(RuntimeError):
        toolcache.build_once(tmp_path / "tool-v1", "tool v1", build)
    assert list(tmp_path.iterdir()) == [tmp_path / ".tool-v1.lock"]
    assert lines[-1].startswith("==> building tool v1: failed after ")
