"""Security on every response and every session: headers, idle and absolute session timeouts, and the
rate limits on sign-in and on the public verification pages."""
from __future__ import annotations

import math
import time
from datetime import datetime, timezone
from functools import wraps

from flask import Flask, current_app, g, make_response, request, session
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse as parse_limit
from werkzeug.exceptions import TooManyRequests
from flask_login import current_user, logout_user

from common import validation as v
from common.api import API_PREFIX
from common.errors import NotFound, ValidationFailed
from common.i18n import is_public_page
from common.extensions import limiter

# The largest page number a web list accepts: past it, 404 (an offset that big overflows the database's
# integers; no list here has a million pages). The API says the same with a 422 (common.api.page_args).
PAGE_MAX = 10**6

# Only our own origin: no inline script, no third-party anything. Inline SVG is markup, not script.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
))


def security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


# Public pages that answer any path with their own verdict: the verification URL /v/<token> checks the token's
# signature before anything reaches the database, and says "not genuine" to a relying party rather than 404.
VIEW_JUDGES_ITS_PATH = frozenset({"certificates.verify_token"})


def carries_personal_data() -> bool:
    """Whether this answer may hold someone's data: every API answer (a token, a record), and every answer
    to a request with a session (a signed-in page, an export, a PDF, a job's download)."""
    if request.endpoint == "static":
        return False
    if request.path.startswith(API_PREFIX) or g.get("api_user") is not None:
        return True
    if current_app.config["SESSION_COOKIE_NAME"] in request.cookies or session.modified:
        return True
    user = g.get("_login_user")  # Flask-Login's per-request cache: read only if the request loaded it
    # is_anonymous, not is_authenticated: the latter reads `active`, a database load that fails (and turns the
    # answer into a bare 500) when the database has just gone away and the rollback expired the user.
    return bool(user is not None and not user.is_anonymous)


def no_store_personal_data(response):
    """Cache-Control: no-store on every answer that may carry personal data, so neither a shared cache
    nor the browser's back button keeps it. A view that chose public caching on purpose (the public
    verification pages and keys, the API description) keeps its choice; send_file's no-cache does not count."""
    chosen = response.headers.get("Cache-Control", "")
    if carries_personal_data() and "public" not in chosen and "no-store" not in chosen:
        response.headers["Cache-Control"] = "no-store"
    return response


def _strings(value, path: str):
    """Every string in a JSON document, with where it is (a key's own text counts too)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield path, str(key)
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}.{index}" if path else str(index))


def _field_name(name: str) -> str:
    return v.CONTROL_RE.sub("", name)[:60] or "?"


def guard_request() -> None:
    """The one gate every request passes: no control character (NUL and the like) in the query string, the
    form fields or a JSON body, whatever the view does next. Refused with 422 in the reader's language, as
    problem+json on the API; in a path segment (a code, a serial), 404: such a path names nothing. Field-level rules (names refuse direction marks as well) stay in
    common.validation, which the operations call. Uploaded files are not read here: imports check every
    cell (exchange.imports.read_table)."""
    if request.endpoint not in VIEW_JUDGES_ITS_PATH and any(
            v.has_control(value) for value in (request.view_args or {}).values()):
        raise NotFound()  # a path naming nothing that can exist
    sources = [(key, key) for key in request.args] + list(request.args.items(multi=True))
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            sources += [(key, key) for key in request.form] + list(request.form.items(multi=True))
        elif request.is_json:
            sources += list(_strings(request.get_json(silent=True), ""))
    for name, value in sources:
        if v.has_control(value):
            raise ValidationFailed({_field_name(name): [v.CONTROL_MESSAGE]}, message=v.CONTROL_MESSAGE)
    if not request.path.startswith(API_PREFIX):
        for name, value in request.args.items(multi=True):
            if name.endswith("page") and value.strip().isdigit() and not 1 <= int(value) <= PAGE_MAX:
                raise NotFound()


def forget_previous_request() -> None:
    """Who is asking is decided afresh for every request. In production each request has its own app
    context (and g); where several requests share one (tests, a request made inside a job), Flask-Login's
    cached user or the last bearer token's user would otherwise carry over from one request to the next."""
    for name in ("_login_user", "api_user", "api_token"):
        g.pop(name, None)


def enforce_session_timeouts() -> None:
    """Sign out a session idle for too long, or older than the absolute limit, whatever its activity."""
    if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return  # no session, nobody signed in: no need to load a user (public pages, probes, API calls)
    if is_public_page():
        return  # public pages neither read nor refresh a session: a scan is not activity in the back office
    if not current_user.is_authenticated:
        return
    now = datetime.now(timezone.utc).timestamp()
    started, seen = session.get("started_at", now), session.get("seen_at", now)
    config = current_app.config
    if now - seen > config["SESSION_IDLE_MINUTES"] * 60 or now - started > config["SESSION_ABSOLUTE_HOURS"] * 3600:
        logout_user()
        session.clear()
        return
    session.setdefault("started_at", now)
    session["seen_at"] = now


def start_session() -> None:
    """Call right after login_user: a fresh session (no fixation) with its clocks started."""
    now = datetime.now(timezone.utc).timestamp()
    session["started_at"] = session["seen_at"] = now


def failed_sign_in(response) -> bool:
    """Only failed attempts count toward the sign-in limits: a user who types correctly is never slowed."""
    return response.status_code in (401, 422)


def account_and_address() -> str:
    """Throttle a given account from a given address: an attacker elsewhere cannot lock the user out."""
    data = request.get_json(silent=True) if request.is_json else request.form
    email = str((data or {}).get("email", "")).strip().lower()[:254]
    return f"{email}|{get_remote_address()}"


def _sign_in_limits() -> list[tuple[RateLimitItem, str, str]]:
    config = current_app.config
    return [(parse_limit(config["LOGIN_ACCOUNT_RATE_LIMIT"]), "login-account", account_and_address()),
            (parse_limit(config["LOGIN_ADDRESS_RATE_LIMIT"]), "login-address", get_remote_address())]


def login_limits(view):
    """Both sign-in limits (per account and address, and per address), shared by the sign-in form and
    the token endpoint: trying one after the other gains nothing.

    An attempt is counted before the password is checked (count_or_refuse, Redis across instances): of N
    simultaneous wrong attempts, at most the limit get to the password. A
    successful sign-in gives its count back, so only failures add up. (Flask-Limiter's deduct_when checks
    before the request and counts after it: parallel requests all passed the check.)"""
    @wraps(view)
    def limited(*args, **kwargs):
        if request.method != "POST" or not current_app.config["RATELIMIT_ENABLED"]:
            return view(*args, **kwargs)
        counted = _sign_in_limits()
        retry_after = count_or_refuse(counted)
        if retry_after is not None:
            raise TooManyRequests(retry_after=retry_after)
        response = make_response(view(*args, **kwargs))  # an exception (401 on the API) stays counted
        if not failed_sign_in(response):
            for given_back in counted:
                limiter.limiter.hit(*given_back, cost=-1)
        return response
    return limited


def count_or_refuse(limits: list[tuple[RateLimitItem, str, str]]) -> int | None:
    """Count one attempt against each (limit, scope, key), each by one atomic increment in the limiter's
    storage. None when every limit still allows it; else the seconds to wait, and nothing stays counted
    (a refused attempt is not one: the count stays at the limit)."""
    strategy = limiter.limiter
    counted: list[tuple[RateLimitItem, str, str]] = []
    for item, scope, key in limits:
        allowed = strategy.hit(item, scope, key)
        counted.append((item, scope, key))
        if not allowed:
            for given_back in counted:
                strategy.hit(*given_back, cost=-1)
            reset = strategy.get_window_stats(item, scope, key).reset_time
            return max(1, math.ceil(reset - time.time()))
    return None


def password_reset_refused(email: str) -> int | None:
    """Count a "forgot password" request against its two limits: per address asked about (wherever the
    requests come from, so nobody is flooded with mail) and per visitor's address. Every request counts,
    whether or not the account exists, so being refused tells nothing either. Seconds to wait, or None."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return None
    config = current_app.config
    email = str(email or "").strip().lower()[:254]
    return count_or_refuse([
        (parse_limit(config["PASSWORD_RESET_ACCOUNT_RATE_LIMIT"]), "reset-account", email),
        (parse_limit(config["PASSWORD_RESET_ADDRESS_RATE_LIMIT"]), "reset-address", get_remote_address())])


def verification_limit(view):
    limited = limiter.limit(lambda: current_app.config["VERIFY_RATE_LIMIT"], scope="verify")(view)

    @wraps(view)
    def checked(*args, **kwargs):
        # Flask-Limiter evaluates a decorated view's limits even when limits are lifted; skip that work.
        return limited(*args, **kwargs) if current_app.config["RATELIMIT_ENABLED"] else view(*args, **kwargs)
    return checked


def init_app(app: Flask) -> None:
    config = app.config
    config.setdefault("RATELIMIT_STORAGE_URI", config.get("REDIS_URL") or "memory://")
    config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # The limiter object is shared by every app of the process: say "enabled" explicitly, or an app built
    # with limits lifted would leave them lifted for the next one.
    config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
    app.before_request(forget_previous_request)
    app.before_request(guard_request)
    app.before_request(enforce_session_timeouts)
    app.after_request(security_headers)
    app.after_request(no_store_personal_data)
