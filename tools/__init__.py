"""kube-zookeeper's toolchain: render, validate, policy, parity, image, smoke, bench."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
