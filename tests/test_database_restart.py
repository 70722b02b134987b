"""PostgreSQL restarted under load: an app instance (a gunicorn process) keeps answering while its database
goes away and comes back. Requests caught by the outage get a clear 503 (problem+json from the API, the
translated "cannot check now" page for a verifier, the error page for a signed-in user), never a 500 and
never "valid"; once the database is back, the same instance answers 200 again by itself.

The database is a private, throwaway PostgreSQL cluster made for this module (the machine's shared server
is never touched), so this needs PostgreSQL's server binaries but not TEST_DATABASE_URL. This module's
`app` fixture points at that cluster, so the usual factories fill it."""
from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest
from flask_migrate import upgrade

from app import create_app
from bench.servers import free_port, gunicorn, http_request
from common.extensions import db
from tests.helpers import PASSWORD, TEST_CONFIG

PG_CTL = max(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), default=None)
RUN_AS_POSTGRES = os.geteuid() == 0  # PostgreSQL refuses to run as root
SKIP_REASON = (
    "needs PostgreSQL's server binaries (/usr/lib/postgresql/*/bin, Debian's postgresql package)" if PG_CTL is None
    else "running as root needs the `postgres` user and runuser to start a private cluster"
    if RUN_AS_POSTGRES and (shutil.which("runuser") is None or subprocess.run(
        ["id", "-u", "postgres"], capture_output=True).returncode != 0)
    else None)
# Its own cluster, restarted under load from client threads (this module has its own `app`).
pytestmark = [pytest.mark.multiprocess, pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or "")]

OUTAGE_SECONDS = 2.0
RECOVERY_SECONDS = 20.0  # PostgreSQL's start plus a few probe rounds, on a busy machine


class Cluster:
    """A PostgreSQL cluster in a temporary directory, on a free loopback port, trusting local connections."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="kafaa-pg-"))
        self.data, self.log = self.dir / "data", self.dir / "postgresql.log"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        if RUN_AS_POSTGRES:
            shutil.chown(self.dir, "postgres", "postgres")
        bin_dir = Path(PG_CTL).parent
        self.run(str(bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                 "--locale=C", "--no-sync")

    def run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if RUN_AS_POSTGRES else []
        done = subprocess.run(prefix + list(command), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"

    def pg_ctl(self, *args: str) -> None:
        self.run(PG_CTL, "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", *args)

    def start(self) -> None:
        # No durability needed for a throwaway cluster; the socket stays in its own directory.
        self.pg_ctl("-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("-m", mode, "stop")

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except AssertionError:  # already stopped
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster(keys_dir):
    cluster = Cluster()
    try:
        cluster.start()
        migrating = create_app({**TEST_CONFIG, "DATABASE_URL": cluster.url, "KEYS_DIR": keys_dir})
        with migrating.app_context():
            upgrade()
            db.engine.dispose()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def app(cluster, keys_dir, tmp_path):
    """The application of this test process, on the private cluster (the factories use it)."""
    application = create_app({**TEST_CONFIG, "DATABASE_URL": cluster.url, "KEYS_DIR": keys_dir,
                              "EXPORTS_DIR": str(tmp_path / "exports")})
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


def test_a_restart_under_load_answers_503_then_recovers_by_itself(app, client, cluster, admin, token_for, keys_dir,
                                                                  tmp_path, make_track, make_trainee, make_cohort):
    headers = token_for(admin)
    track = make_track(min_attendance=0)
    trainee = make_trainee()
    cohort = make_cohort(track=track, trainees=[trainee])
    assert client.put(f"/api/v1/cohorts/{cohort.code}/results", headers=headers, json={"records": [
        {"trainee_id": trainee.id, "module": m.code, "passed": True} for m in track.modules]}).status_code == 200
    issued = client.post("/api/v1/certificates", headers=headers, json={"trainee_id": trainee.id, "track": track.code})
    assert issued.status_code == 201, issued.json
    verify_path = "/v/" + issued.json["verify_url"].rsplit("/v/", 1)[1]
    probes = {  # name: (path, request headers)
        "verify json": (verify_path, {"Accept": "application/json"}),
        "verify page": (verify_path, {"Accept": "text/html", "Accept-Language": "en"}),
        "readyz": ("/readyz", {}),
        "api read": (f"/api/v1/certificates/{issued.json['serial']}", {**headers, "Accept-Language": "en"}),
    }
    env = {"DATABASE_URL": cluster.url, "KEYS_DIR": keys_dir, "SECRET_KEY": "restart-secret",
           "BASE_URL": app.config["BASE_URL"], "PDF_SIGNER_DEVELOPMENT": "1", "EXPORTS_DIR": str(tmp_path / "exports"), "RATELIMIT_ENABLED": "0",
           "REDIS_URL": ""}
    # probe: (phase when the request was sent, status, content type, body). A request sent during the outage
    # but answered once the restart had begun (it waited for a free worker) may rightly be served: its phase
    # is then "late", and only requests both sent and answered in the outage must be 503.
    answers: dict[str, list[tuple[str, int, str, str]]] = defaultdict(list)
    phase = ["before"]
    stop = threading.Event()

    def keep_asking(base: str, name: str) -> None:
        path, probe_headers = probes[name]
        while not stop.is_set():
            sent_in = phase[0]
            try:
                status, response_headers, body = http_request("GET", base + path, probe_headers, timeout=30)
            except OSError as error:  # the instance itself must never drop a request
                answers[name].append((sent_in, -1, "", repr(error)))
                continue
            if sent_in == "outage" and phase[0] != "outage":
                sent_in = "late"
            answers[name].append((sent_in, status, response_headers.get("Content-Type", ""),
                                  body.decode(errors="replace")))
            time.sleep(0.05)

    def answered(in_phase: str, status: int | None = None, count: int = 1) -> bool:
        return all(sum(a[0] == in_phase and status in (None, a[1]) for a in answers[name]) >= count
                   for name in probes)

    admin_email = admin.email
    db.session.remove()  # this process's own connection would be cut by the restart: give it back now
    db.engine.dispose()
    with gunicorn(env, tmp_path, name="instance") as base:
        probes["page signed in"] = ("/cohorts", {**sign_in(base, admin_email), "Accept-Language": "en"})
        threads = [threading.Thread(target=keep_asking, args=(base, name)) for name in probes]
        for thread in threads:
            thread.start()
        try:
            wait_for(lambda: answered("before", 200), 20, "every probe answers 200 before the restart")
            phase[0] = "stopping"
            cluster.stop("fast")  # in-flight queries are cut off, new connections refused
            phase[0] = "outage"
            wait_for(lambda: answered("outage", count=3), 20, "every probe is answered during the outage")
            time.sleep(OUTAGE_SECONDS)
            phase[0] = "starting"
            cluster.start()
            phase[0] = "after"
            wait_for(lambda: answered("after", 200, count=3), RECOVERY_SECONDS,
                     "every probe answers 200 again once PostgreSQL is back, without restarting the app")
        finally:
            stop.set()
            for thread in threads:
                thread.join()

    log = (tmp_path / "instance.log").read_text(errors="replace")
    for name, seen in answers.items():
        assert {status for _, status, _, _ in seen} <= {200, 503}, (
            name, [a for a in seen if a[1] not in (200, 503)], log[-3000:])
        assert all(status == 503 for sent_in, status, _, _ in seen if sent_in == "outage"), name
        after = [status for sent_in, status, _, _ in seen if sent_in == "after"]
        assert 200 in after and set(after[after.index(200):]) == {200}, (name, after)  # back, and stays back
        for _, status, content_type, body in seen:
            if status != 503:
                continue
            if name == "verify json":
                assert json.loads(body)["status"] == "unavailable"
            elif name == "verify page":
                assert "Cannot check now" in body and "Valid certificate" not in body
            elif name == "page signed in":
                assert "The service cannot answer right now" in body and admin_email not in body
            elif name == "api read":
                assert content_type == "application/problem+json"
                assert json.loads(body)["title"] == "The service cannot answer right now. Try again shortly."
            else:
                assert json.loads(body)["database"] == "unreachable"
    assert json.loads(answers["verify json"][-1][3])["status"] == "valid"
    assert "Unhandled error" not in log and "Traceback" not in log, log[-3000:]


def sign_in(base: str, email: str) -> dict[str, str]:
    """The session cookie of a user signed in through the instance's own form (CSRF token included)."""
    _, headers, body = http_request("GET", base + "/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body.decode()).group(1)
    status, headers, _ = http_request("POST", base + "/login", {"Cookie": headers["Set-Cookie"].split(";")[0]},
                                      form={"csrf_token": token, "email": email, "password": PASSWORD})
    assert status == 302, status
    return {"Cookie": headers["Set-Cookie"].split(";")[0]}


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds:g} s: {what}")
        time.sleep(0.1)
