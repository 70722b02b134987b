"""Security: CSRF on every form, headers on every response, sessions, sign-in throttling, rate limits,
the audit trail's hash chain, and bandit."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from audit.models import AuditEntry
from common.extensions import db
from tests.helpers import PASSWORD


@pytest.fixture
def csrf_app(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def _html_post_routes(app) -> list[str]:
    """Every form target of the web pages, placeholders filled with 1 (CSRF is checked before the view)."""
    routes = {re.sub(r"<(?:\w+:)?\w+>", "1", rule.rule) for rule in app.url_map.iter_rules()
              if "POST" in rule.methods and not rule.rule.startswith("/api/")}
    assert routes
    return sorted(routes)


def test_every_form_refuses_a_post_without_its_csrf_token(csrf_app, client, admin):
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    assert client.post("/login", data={"email": admin.email, "password": PASSWORD, "csrf_token": token}
                       ).status_code == 302
    for path in _html_post_routes(csrf_app):
        response = client.post(path, data={"anything": "x"})
        if path in CSRF_EXEMPT_ON_PURPOSE:
            assert response.status_code == 422, path  # reached the view, which refuses the missing file
        else:
            assert response.status_code == 400, path


# POST /verify checks an uploaded PDF: it changes nothing and reads no session (a public page), so a forged
# cross-site post gains nothing, and a token would force a session cookie on every visitor.
CSRF_EXEMPT_ON_PURPOSE = {"/verify"}


def test_security_headers_on_every_kind_of_response(client):
    for path in ("/login", "/api/v1/modules", "/static/kafaa.css", "/nowhere", "/healthz", "/verify"):
        with client.get(path) as response:
            headers = response.headers
            csp = headers["Content-Security-Policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "http" not in csp, path
            assert "frame-ancestors 'none'" in csp
            assert headers["X-Content-Type-Options"] == "nosniff"
            assert headers["X-Frame-Options"] == "DENY"
            assert headers["Referrer-Policy"]


def test_no_inline_script_in_any_template():
    for template in Path("templates").rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template
        assert not re.search(r"\son[a-z]+=\"", text), template  # no onclick= and friends


def test_cookies_are_secure_httponly_and_samesite(tmp_path, database_url, new_app):
    app = new_app({"DATABASE_URL": database_url, "BASE_URL": "https://kafaa.ma", "KEYS_DIR": str(tmp_path)})
    client = app.test_client()
    client.post("/language", data={"lang": "ar", "next": "/login"})
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.secure and cookie.http_only and cookie.same_site == "Lax"
    assert "Strict-Transport-Security" in client.get("/login").headers


def test_a_copied_session_cookie_dies_at_sign_out(client, admin):
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    stolen = client.get_cookie("session").value
    assert client.get("/modules").status_code == 200
    client.post("/logout")
    client.set_cookie("session", stolen)
    assert client.get("/modules").status_code == 302  # back to the login page


def test_idle_and_absolute_session_timeouts(client, admin):
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    with client.session_transaction() as session:
        session["seen_at"] -= 31 * 60
    assert client.get("/modules").status_code == 302
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    with client.session_transaction() as session:
        session["started_at"] -= 13 * 3600  # active all along, but past the absolute limit
    assert client.get("/modules").status_code == 302


def test_sign_in_is_throttled_per_account_and_address_without_locking_the_user_out(client, admin):
    for _ in range(5):
        assert client.post("/api/v1/tokens", json={"email": admin.email, "password": "wrong!"}).status_code == 401
    throttled = client.post("/api/v1/tokens", json={"email": admin.email, "password": "wrong!"})
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    assert throttled.mimetype == "application/problem+json"
    # The same account from another address signs in at once: an attacker cannot lock the user out.
    other = client.post("/api/v1/tokens", json={"email": admin.email, "password": PASSWORD},
                        environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 201
    # The web form shares the limits.
    assert client.post("/login", data={"email": admin.email, "password": "wrong!"}).status_code == 429


def test_successful_sign_ins_are_never_throttled(client, admin):
    for _ in range(12):
        assert client.post("/api/v1/tokens", json={"email": admin.email, "password": PASSWORD}).status_code == 201


def test_verification_is_rate_limited_and_the_limit_can_be_lifted(app, client):
    app.config["VERIFY_RATE_LIMIT"] = "3 per minute"
    statuses = [client.get("/v/123", headers={"Accept": "application/json"}).status_code for _ in range(4)]
    assert statuses[:3] == [400, 400, 400] and statuses[3] == 429


def test_rate_limits_lifted_by_configuration(database_url, tmp_path, new_app):
    app = new_app({"DATABASE_URL": database_url, "KEYS_DIR": str(tmp_path), "RATELIMIT_ENABLED": False,
                   "VERIFY_RATE_LIMIT": "1 per minute"})
    client = app.test_client()
    assert [client.get("/v/123").status_code for _ in range(3)] == [400, 400, 400]


@pytest.mark.parametrize("proxies, expected", [(1, [400, 429, 400]), (0, [400, 429, 429])])
def test_rate_limits_key_on_the_visitor_behind_trusted_proxies_only(database_url, tmp_path, new_app, proxies,
                                                                      expected):
    """Behind the load balancer every request comes from its address: with TRUSTED_PROXIES its
    X-Forwarded-For names the visitor; without, a forged header gains nothing."""
    app = new_app({"DATABASE_URL": database_url, "KEYS_DIR": str(tmp_path), "VERIFY_RATE_LIMIT": "1 per minute",
                   "TRUSTED_PROXIES": proxies})
    client = app.test_client()
    visitors = ["198.51.100.1", "198.51.100.1", "198.51.100.2"]
    assert [client.get("/v/1", headers={"X-Forwarded-For": v}).status_code for v in visitors] == expected


@pytest.mark.skipif(not __import__("os").environ.get("REDIS_URL"), reason="REDIS_URL is not set: the shared-limit "
                                                                         "test needs Redis")
def test_limits_hold_across_instances_with_redis(database_url, tmp_path, new_app):
    import os
    import uuid

    config = {"DATABASE_URL": database_url, "KEYS_DIR": str(tmp_path),
              "RATELIMIT_STORAGE_URI": os.environ["REDIS_URL"], "VERIFY_RATE_LIMIT": "2 per minute"}
    first, second = new_app(config), new_app(config)
    address = {"REMOTE_ADDR": f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"}
    statuses = [app.test_client().get("/v/1", environ_base=address).status_code for app in (first, second, first)]
    assert statuses == [400, 400, 429]


def test_audit_verify_names_an_altered_removed_or_reordered_entry(app, admin, make_module):
    for _ in range(4):
        make_module()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq)).all()
    third = entries[2]
    original = third.target_id
    db.session.execute(sa.update(AuditEntry).where(AuditEntry.id == third.id).values(target_id="tampered"))
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"entry #{third.seq}" in result.output and "altered" in result.output
    db.session.execute(sa.update(AuditEntry).where(AuditEntry.id == third.id).values(target_id=original))
    db.session.execute(sa.delete(AuditEntry).where(AuditEntry.id == entries[1].id))
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"#{entries[1].seq} is missing" in result.output


def test_audit_verify_notices_the_last_entries_removed(app, admin, make_module):
    make_module()
    make_module()
    last = db.session.scalar(sa.select(sa.func.max(AuditEntry.seq)))
    db.session.execute(sa.delete(AuditEntry).where(AuditEntry.seq == last))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "last entries were removed" in result.output


def test_admins_browse_the_audit_trail(client, login, admin, make_module):
    make_module(code="AUD-1")
    login(admin)
    page = client.get("/admin/audit?action=module.").get_data(as_text=True)
    assert "module.create" in page and "AUD-1" in page


@pytest.mark.skipif(shutil.which("bandit", path=str(Path(sys.executable).parent)) is None,
                    reason="bandit is not installed (make test installs it from requirements-dev.txt)")
def test_bandit_finds_nothing_of_medium_severity_or_above():
    # Every package of the app, found rather than listed, so a new one cannot be left out.
    packages = ["app.py", "worker.py"] + sorted(
        init.parent.name for init in Path(".").glob("*/__init__.py") if init.parent.name not in ("tests", "bench"))
    assert "transcripts" in packages and "certificates" in packages, packages
    result = subprocess.run([str(Path(sys.executable).parent / "bandit"), "-q", "-r", *packages, "-ll"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def _parallel_wrong_passwords(urls: list[str], email: str, attempts: int) -> dict[int, int]:
    """`attempts` wrong passwords for one account sent at once from as many threads, spread over the servers."""
    import threading
    from collections import Counter

    import requests

    statuses: list[int] = []
    start = threading.Barrier(attempts)

    def attempt(index: int) -> None:
        start.wait()
        response = requests.post(f"{urls[index % len(urls)]}/api/v1/tokens", json={"email": email, "password": "wrong!"},
                                 timeout=60)
        statuses.append(response.status_code)
    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return dict(Counter(statuses))


@pytest.mark.multiprocess
def test_parallel_wrong_passwords_are_counted_before_the_password_is_checked(app, live_url, admin):
    """48 wrong passwords at once on the threaded development server: only the limit (5) reach the
    password check (401); the rest are refused (429) before it. Flask-Limiter's deduct_when let 88 through."""
    tally = _parallel_wrong_passwords([live_url], admin.email, 48)
    print(f"\n48 parallel wrong passwords on the development server: {tally}")
    assert tally == {401: 5, 429: 43}


@pytest.mark.multiprocess
@pytest.mark.skipif(not __import__("os").environ.get("REDIS_URL"), reason="REDIS_URL is not set: counting across "
                                                                         "instances needs Redis")
def test_parallel_wrong_passwords_are_counted_across_instances(app, database_url, keys_dir, tmp_path, new_app,
                                                                admin):
    """Two instances sharing Redis, 48 wrong passwords at once spread over both: 5 processed in all."""
    import os
    import threading
    import uuid

    from werkzeug.serving import make_server

    from tests.helpers import QuietHandler

    from redis import Redis

    # This worker's own Redis database: the address limit counted by an earlier run (the SQLite one of this
    # very test, within its 15 minutes) must not refuse this run's first attempts.
    Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    email = admin.email
    config = {"DATABASE_URL": database_url, "KEYS_DIR": keys_dir, "RATELIMIT_STORAGE_URI": os.environ["REDIS_URL"],
              # a key of its own in Redis, so earlier runs' counts never touch this one
              "LOGIN_ACCOUNT_RATE_LIMIT": f"5 per {100 + uuid.uuid4().int % 800} minutes"}
    servers, urls = [], []
    for instance in (new_app(config), new_app(config)):
        server = make_server("127.0.0.1", 0, instance, threaded=True, request_handler=QuietHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        urls.append(f"http://127.0.0.1:{server.server_port}")
    try:
        tally = _parallel_wrong_passwords(urls, email, 48)
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
    print(f"\n48 parallel wrong passwords over two instances sharing Redis: {tally}")
    assert tally == {401: 5, 429: 43}


def test_a_successful_sign_in_gives_its_count_back(client, admin):
    for _ in range(4):
        assert client.post("/api/v1/tokens", json={"email": admin.email, "password": "wrong!"}).status_code == 401
    for _ in range(10):  # each success is counted first, then given back: the four failures stay four
        assert client.post("/api/v1/tokens", json={"email": admin.email, "password": PASSWORD}).status_code == 201
    assert client.post("/api/v1/tokens", json={"email": admin.email, "password": "wrong!"}).status_code == 401
    assert client.post("/api/v1/tokens", json={"email": admin.email, "password": "wrong!"}).status_code == 429


def test_answers_with_personal_data_are_never_stored_by_caches(client, login, admin, make_trainee, token_for):
    trainee = make_trainee()
    headers = token_for(admin)
    # Every API answer, a fresh token included.
    assert client.post("/api/v1/tokens", json={"email": admin.email, "password": PASSWORD}).headers[
        "Cache-Control"] == "no-store"
    for path in ("/api/v1/me", f"/api/v1/trainees/{trainee.id}", "/api/v1/trainees"):
        assert client.get(path, headers=headers).headers["Cache-Control"] == "no-store", path
    with client.get("/api/v1/exports/trainees.csv", headers=headers) as export:
        assert export.headers["Cache-Control"] == "no-store"
    # Every signed-in page, and what a signed-in person downloads.
    login(admin)
    for path in ("/trainees", f"/trainees/{trainee.id}", "/admin/users", "/admin/outbox", "/cohorts"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    with client.get("/exports/trainees.csv") as export:
        assert export.headers["Cache-Control"] == "no-store"
    # Public pages keep their own caching: the keys are public, static files are not personal.
    client.post("/logout")
    anonymous = client.application.test_client()
    assert anonymous.get("/.well-known/jwks.json").headers["Cache-Control"] == "public, max-age=300"
    with anonymous.get("/static/kafaa.css") as static:
        assert "no-store" not in static.headers.get("Cache-Control", "")
    assert "no-store" not in anonymous.get("/privacy").headers.get("Cache-Control", "")
