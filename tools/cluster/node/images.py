"""The images the real node runs, moved into its containerd: the node pulls nothing.

- the pod sandbox (pause): pause.c built with `gcc -static` into a FROM-scratch image, once, kept as an archive in
  the tool cache;
- local-path-provisioner's helper: Debian's static busybox in a FROM-scratch image, once, the same way;
- the project's image: built by tools.image when podman lacks it, saved under the name containerd gives the
  manifests' bare `kube-zookeeper:<tag>` (docker.io/library/...).

Each goes in with `podman save` and `ctr -n k8s.io images import`.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from tools.base.errors import ToolMissing
from tools.base.run import run
from tools.base.toolcache import build_once, cache_dir
from tools.cli.engine import Engine, docker_reference
from tools.cluster.node import config
from tools.image.build import ensure_image
from tools.render.pod import manifest_image

PAUSE_SOURCE = Path(__file__).with_name("pause.c")
BUSYBOX = Path("/bin/busybox")  # Debian's busybox-static
HELPER_APPLETS = ("sh", "mkdir", "rm", "chmod")  # what local-path-provisioner's setup and teardown scripts run
RECIPE = "2"  # bump when an image's recipe changes: the cached archives are named after it


def _scratch_image(engine, context: Path, tag: str, files: dict[str, str], archive: Path, entrypoint: str) -> None:
    """A FROM-scratch image of the files in context (name in context -> path in the image), saved to archive."""
    lines = ["FROM scratch", "ENV PATH=/bin"]
    lines += [f"COPY {name} {target}" for name, target in files.items()]
    lines.append(f'ENTRYPOINT ["{entrypoint}"]')  # containerd refuses a sandbox image without one
    (context / "Containerfile").write_text("\n".join(lines) + "\n")
    engine.build(context, tag, dockerfile=context / "Containerfile", timeout=300)
    engine.save(tag, archive)


def _pause_dir() -> Path:
    return cache_dir() / "bin" / f"pause-image-{RECIPE}"


def _helper_dir() -> Path:
    return cache_dir() / "bin" / f"busybox-image-{RECIPE}"


def pause_cached() -> bool:
    return _pause_dir().is_dir()


def helper_cached() -> bool:
    return _helper_dir().is_dir()


def pause_archive(engine) -> Path:
    target = _pause_dir()

    def build(tmp: Path) -> None:
        gcc = shutil.which("gcc")
        if not gcc:
            raise ToolMissing("gcc not found: it builds the pod sandbox (pause) once; apt-get install gcc libc6-dev")
        context = tmp / "context"
        context.mkdir()
        run([gcc, "-static", "-O2", "-s", "-o", context / "pause", PAUSE_SOURCE], timeout=120)
        _scratch_image(engine, context, config.PAUSE_IMAGE, {"pause": "/pause"}, tmp / "image.tar", "/pause")
        shutil.rmtree(context)

    build_once(target, f"the pod sandbox image {config.PAUSE_IMAGE}", build, expect="a few seconds")
    return target / "image.tar"


def helper_archive(engine) -> Path:
    target = _helper_dir()

    def build(tmp: Path) -> None:
        if not BUSYBOX.is_file():
            raise ToolMissing(f"{BUSYBOX} not found: it makes the volume helper image; apt-get install busybox-static")
        context = tmp / "context"
        context.mkdir()
        for applet in HELPER_APPLETS:  # busybox runs the applet its file is named after
            shutil.copy(BUSYBOX, context / applet)
        files = {applet: f"/bin/{applet}" for applet in HELPER_APPLETS}
        _scratch_image(engine, context, config.HELPER_IMAGE, files, tmp / "image.tar", "/bin/sh")
        shutil.rmtree(context)

    build_once(target, f"the volume helper image {config.HELPER_IMAGE}", build, expect="a few seconds")
    return target / "image.tar"


def import_archive(ctr: str, socket: Path, archive: Path) -> None:
    run([ctr, "--address", str(socket), "-n", "k8s.io", "images", "import", str(archive)], timeout=600)


def load_all(ctr: str, socket: Path, progress: Callable[[str], None]) -> list[str]:
    """Every image the node needs, imported into its containerd; returns their names."""
    engine = Engine.detect()
    for archive in (pause_archive(engine), helper_archive(engine)):
        import_archive(ctr, socket, archive)
    image = manifest_image("kind")
    ensure_image(engine, image, progress)
    with tempfile.TemporaryDirectory(prefix="kz-node-image-") as tmp:
        archive = Path(tmp) / "image.tar"
        progress(f"cluster: loading {image} into the real node's containerd (podman save, ctr images import)")
        engine.save(image, archive)
        import_archive(ctr, socket, archive)
    return [config.PAUSE_IMAGE, config.HELPER_IMAGE, docker_reference(image)]
