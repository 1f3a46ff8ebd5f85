"""Pinned versions of every external tool and schema set: the one place to change them. The image's own version
is image/VERSION, read here."""

import re
from pathlib import Path

from tools import REPO_ROOT
from tools.base.errors import UserError

# The image is named kube-zookeeper and tagged with image/VERSION, `<ZooKeeper version>-<image build>`: the one place
# to change it. tools/image/build.py builds that tag (and passes it to Maven and to the Dockerfile's label);
# `nox -s lint -- --fix` writes it, or its ZooKeeper version, into the files Kustomize and Helm users read.
IMAGE_NAME = "kube-zookeeper"
IMAGE_VERSION_FILE = "image/VERSION"
IMAGE_VERSION_FORMAT = re.compile(r"(?P<zookeeper>[0-9]+\.[0-9]+\.[0-9]+)-(?P<build>[1-9][0-9]*)")


def image_version(root: Path = REPO_ROOT) -> str:
    """image/VERSION's one line, such as `3.8.4-2` (ZooKeeper 3.8.4, image build 2); a UserError naming the file
    when it is missing or malformed."""
    path = root / IMAGE_VERSION_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{IMAGE_VERSION_FILE}: cannot read: {exc.strerror}") from None
    if not IMAGE_VERSION_FORMAT.fullmatch(text.rstrip("\n")) or text.count("\n") > 1:
        raise UserError(f"{IMAGE_VERSION_FILE}:1: expected one line <ZooKeeper version>-<image build> such as "
                        f"3.8.4-2, got {text!r}")
    return text.rstrip("\n")


def zookeeper_version(image_tag: str) -> str:
    """The ZooKeeper release an image version carries: 3.8.4 of 3.8.4-2."""
    return image_tag.rsplit("-", 1)[0]


KUBECONFORM_MODULE = "github.com/yannh/kubeconform/cmd/kubeconform"
KUBECONFORM_VERSION = "v0.7.0"
HELM_MODULE = "helm.sh/helm/v3/cmd/helm"
HELM_VERSION = "v3.19.0"
# Prometheus tags its Go module v0.X.Y for release 3.X.Y (v0.316.0 is Prometheus 3.16.0).
PROMTOOL_MODULE = "github.com/prometheus/prometheus/cmd/promtool"
PROMTOOL_VERSION = "v0.316.0"
# The prometheus-operator Go module ships its CRDs (example/prometheus-operator-crd/); Sum is go.sum's hash of it.
PROMETHEUS_OPERATOR_MODULE = "github.com/prometheus-operator/prometheus-operator"
PROMETHEUS_OPERATOR_VERSION = "v0.94.0"
PROMETHEUS_OPERATOR_SUM = "h1:VxMKzqr8Xqw5/QInNT7a3B5XInPnHqE7SD2UIdwKpRM="
# checkov (PyPI) for its Kubernetes checks, in a virtual environment of its own: its pins clash with pytest's.
CHECKOV_VERSION = "3.3.30"

# Kubernetes minor versions validated against: 1.25 up to the newest the kubernetes-validate package ships.
KUBERNETES_MIN_MINOR = 25

# The Kubernetes version helm renders for without --kube-version, set at build time the way helm's Makefile does it:
# major.minor of the k8s.io/client-go that HELM_VERSION's go.mod requires (v0.34.0 -> 1.34).
HELM_KUBERNETES_VERSION = "1.34"

# The local control plane of `nox -s cluster` (tools/cluster/): the wrapper modules in tools/cluster/gomod/ pin the
# same versions in their go.mod files (a test checks they agree). Go's module proxy refuses kubernetes v1.32.12 and
# some v1.32.12+ staging releases (403 "This module version is not available"), so stay on v1.32.11.
KUBERNETES_VERSION = "v1.32.11"
ETCD_VERSION = "v3.5.16"
KWOK_MODULE = "sigs.k8s.io/kwok"
KWOK_VERSION = "v0.8.0"

# The real node of `nox -s cluster -- up --node real` (tools/cluster/node/): kubelet and kube-proxy are
# KUBERNETES_VERSION from the same wrapper module; these are `go install`ed. The module proxy refuses cri-tools v1.32.0
# (403) and v1.37.0 works with Debian's containerd 1.6; it refuses local-path-provisioner v0.0.31 too.
COREDNS_MODULE = "github.com/coredns/coredns"
COREDNS_VERSION = "v1.12.0"
CRICTL_MODULE = "sigs.k8s.io/cri-tools/cmd/crictl"
CRICTL_VERSION = "v1.37.0"
LOCAL_PATH_PROVISIONER_MODULE = "github.com/rancher/local-path-provisioner"
LOCAL_PATH_PROVISIONER_VERSION = "v0.0.30"
