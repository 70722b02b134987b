"""Security on every response and every session: headers, idle and absolute session timeouts, and the
rate limits on sign-in and on the public verification pages."""
from __future__ import annotations

from datetime import datetime, timezone
from functools import wraps

from flask import Flask, current_app, request, session
from flask_limiter.util import get_remote_address
from flask_login import current_user, logout_user

from common.extensions import limiter

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


def enforce_session_timeouts() -> None:
    """Sign out a session idle for too long, or older than the absolute limit, whatever its activity."""
    if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return  # no session, nobody signed in: no need to load a user (public pages, probes, API calls)
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


def login_limits(view):
    """Both sign-in limits (per account and address, and per address), shared by the sign-in form and
    the token endpoint: trying one after the other gains nothing."""
    view = limiter.shared_limit(lambda: current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"], "login-account",
                                key_func=account_and_address, deduct_when=failed_sign_in, methods=["POST"])(view)
    return limiter.shared_limit(lambda: current_app.config["LOGIN_ADDRESS_RATE_LIMIT"], "login-address",
                                deduct_when=failed_sign_in, methods=["POST"])(view)


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
    app.before_request(enforce_session_timeouts)
    app.after_request(security_headers)
