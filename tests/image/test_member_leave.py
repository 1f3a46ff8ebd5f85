"""MemberLeave (image/MemberLeave.java), the pre-stop hook's tool, against a real HTTPS API endpoint on loopback:
which count it follows (the ensemble ConfigMap's live `replicas`, not the copy in kubectl's annotation), what an
uninstall (404) and a refusal (403) make it do, and that it sends the pod's token. The tool runs as the image runs
it, compiled from image/ against the pinned jars; no ZooKeeper runs, so a member that must leave reports that it
could not reach one."""

from __future__ import annotations

import http.server
import json
import shutil
import ssl
import subprocess
import threading
from pathlib import Path

import pytest

from tests.certs import make_ca, make_member_cert
from tools import REPO_ROOT
from tools.image.build import fetch_jars

TOKEN = "projected-token-for-the-test"


@pytest.fixture(scope="module")
def classpath(tmp_path_factory) -> str:
    if not shutil.which("javac") or not shutil.which("mvn"):
        pytest.skip("javac and mvn are needed to compile the image's tools against the pinned jars")
    root = tmp_path_factory.mktemp("member-leave")
    jars = fetch_jars(root / "jars")
    classes = root / "classes"
    sources = [str(REPO_ROOT / "image" / name) for name in ("EnsembleReconfig.java", "MemberLeave.java")]
    subprocess.run(["javac", "--release", "17", "-cp", ":".join(map(str, jars)), "-d", str(classes), *sources],
                   check=True, capture_output=True, timeout=300)
    return ":".join([str(classes), *map(str, jars)])


class ApiServer:
    """An HTTPS endpoint answering GET .../configmaps/<name> with `status` and `body`; it records what it was asked."""

    def __init__(self, tmp_path: Path):
        ca = make_ca(tmp_path / "api-ca")
        serving = make_member_cert(tmp_path / "api", ca, ["localhost"])
        self.account = tmp_path / "serviceaccount"
        self.account.mkdir()
        (self.account / "token").write_text(TOKEN + "\n")
        (self.account / "ca.crt").write_bytes((ca / "ca.crt").read_bytes())
        self.status, self.body, self.asked = 200, "", []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the standard library's name)
                outer.asked.append((self.path, self.headers.get("Authorization")))
                data = outer.body.encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(serving / "tls.crt", serving / "tls.key")
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def api(tmp_path):
    server = ApiServer(tmp_path)
    yield server
    server.close()


def configmap(replicas: str, annotated: str) -> str:
    """A ConfigMap as the API server returns it, with kubectl's last-applied copy holding another count."""
    last_applied = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "data": {"replicas": annotated}})
    return json.dumps({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {
        "name": "zookeeper-ensemble", "namespace": "team-a",
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": last_applied}},
        "data": {"replicas": replicas}})


def leave(classpath: str, api: ApiServer, tmp_path: Path, myid: int, mounted: str = "5") -> subprocess.CompletedProcess:
    (tmp_path / "replicas").write_text(mounted + "\n")
    env = {"PATH": "/usr/bin:/bin", "KUBERNETES_SERVICE_HOST": "localhost", "KUBERNETES_SERVICE_PORT": str(api.port)}
    return subprocess.run(
        ["java", f"-Dkubezookeeper.serviceAccountDir={api.account}",
         f"-Dlogback.configurationFile={REPO_ROOT / 'image' / 'logback-cli.xml'}", "-cp", classpath,
         "io.kubezookeeper.admin.MemberLeave", "127.0.0.1:1", str(myid), "zookeeper", "team-a",
         str(tmp_path / "replicas"), "2"],
        input="the-password\n", capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


def test_a_member_below_the_live_count_stays_whatever_the_mounted_copy_and_the_annotation_say(classpath, api, tmp_path):
    api.body = configmap("3", annotated="1")
    result = leave(classpath, api, tmp_path, myid=3, mounted="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("member 3 stays a voter (replicas=3, the live count in ConfigMap "
                                     "zookeeper-ensemble): stopping without a change")
    assert api.asked == [("/api/v1/namespaces/team-a/configmaps/zookeeper-ensemble", f"Bearer {TOKEN}")]


def test_a_member_at_or_above_the_live_count_tries_to_leave_even_while_the_mounted_copy_lags(classpath, api, tmp_path):
    api.body = configmap("3", annotated="5")
    result = leave(classpath, api, tmp_path, myid=4, mounted="5")
    # no ZooKeeper on 127.0.0.1:1: the attempt fails, and says the leader's removal is the fallback
    assert result.returncode == 6
    assert result.stdout.startswith("member 4 could not leave: ") and "the leader removes it" in result.stdout


def test_an_uninstalled_ensemble_stops_without_leaving(classpath, api, tmp_path):
    api.status, api.body = 404, json.dumps({"kind": "Status", "code": 404})
    result = leave(classpath, api, tmp_path, myid=4, mounted="3")
    assert result.returncode == 0
    assert result.stdout.strip() == ("member 4 stops without leaving: ConfigMap team-a/zookeeper-ensemble is gone "
                                     "(an uninstall)")


def test_a_refused_question_falls_back_to_the_mounted_count_and_says_why(classpath, api, tmp_path):
    api.status, api.body = 403, json.dumps({"kind": "Status", "code": 403})
    result = leave(classpath, api, tmp_path, myid=2, mounted="3")
    assert result.returncode == 0
    assert result.stdout.strip() == ("member 2 stays a voter (replicas=3, the mounted count: the API server could not "
                                     "be asked (GET /api/v1/namespaces/team-a/configmaps/zookeeper-ensemble answered "
                                     "403)): stopping without a change")


def test_an_endpoint_whose_certificate_the_pods_ca_did_not_sign_is_not_believed(classpath, api, tmp_path):
    api.body = configmap("1", annotated="1")
    other = make_ca(tmp_path / "other")
    (api.account / "ca.crt").write_bytes((other / "ca.crt").read_bytes())
    result = leave(classpath, api, tmp_path, myid=2, mounted="3")
    assert result.returncode == 0
    assert "replicas=3, the mounted count: the API server could not be asked" in result.stdout
    assert api.asked == []  # the handshake failed: no request, no token sent
