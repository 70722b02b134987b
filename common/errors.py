"""Domain exceptions and the one place that turns them into HTTP answers.

Operations raise these; HTML views turn them into form errors or a flash, the JSON API into
`application/problem+json`. Messages are lazy strings, written and translated once.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, jsonify, make_response, render_template, request
from flask_babel import force_locale, get_locale, lazy_gettext as _l
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_accept_header

from common.extensions import db, login
from common.i18n import answer_as_public_page, is_public_page, select_locale
from common.negotiation import negotiated_on
from common.public import render_public


class DomainError(Exception):
    """Base of every error an operation raises on purpose. `status` is the HTTP code it maps to."""

    status = 422
    title = _l("The request could not be processed.")

    def __init__(self, message: Any = None, *, fields: dict[str, list[Any]] | None = None,
                 extra: dict[str, Any] | None = None):
        self.message = message if message is not None else self.title
        self.fields = fields or {}
        self.extra = extra or {}  # further members of the API's problem document
        super().__init__(str(self.message))


class ValidationFailed(DomainError):
    """Invalid input. `fields` maps each field at fault (dotted path for nested input) to its messages."""

    status = 422
    title = _l("Some fields are invalid.")

    def __init__(self, fields: dict[str, list[Any]] | None = None, message: Any = None):
        super().__init__(message if message is not None else self.title, fields=fields)

    @classmethod
    def single(cls, field: str, message: Any) -> "ValidationFailed":
        return cls({field: [message]})


class Conflict(DomainError):
    status = 409
    title = _l("This already exists.")


class NotFound(DomainError):
    status = 404
    title = _l("Not found.")


class Forbidden(DomainError):
    status = 403
    title = _l("You are not allowed to do this.")


class Unauthorized(DomainError):
    status = 401
    title = _l("Authentication required.")


class FieldErrors:
    """Collects messages per field while validating, then raises them all at once."""

    def __init__(self) -> None:
        self.fields: dict[str, list[Any]] = {}

    def add(self, field: str, message: Any) -> None:
        self.fields.setdefault(field, []).append(message)

    def __contains__(self, field: str) -> bool:
        return field in self.fields

    def raise_if_any(self) -> None:
        if self.fields:
            raise ValidationFailed(self.fields)


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    negotiated_on("Accept")
    return _prefers_json(request.headers.get("Accept", ""))


@lru_cache(maxsize=256)
def _prefers_json(accept: str) -> bool:
    """JSON rather than a page for this Accept header: JSON ranked above HTML. Browsers and clients send
    few distinct headers, so each is parsed once (a browser's is long; parsing it was a tenth of the
    verification page's cost)."""
    offered = parse_accept_header(accept, MIMEAccept)
    return (offered.best_match(["application/json", "text/html"]) == "application/json"
            and offered["application/json"] > offered["text/html"])


def problem(status: int, title: Any, detail: Any = None, fields: dict[str, list[Any]] | None = None,
            extra: dict[str, Any] | None = None):
    """An RFC 9457 problem document."""
    body: dict[str, Any] = {"type": "about:blank", "status": status, "title": str(title), **(extra or {})}
    if detail is not None:
        body["detail"] = str(detail)
    if fields:
        body["errors"] = {name: [str(m) for m in messages] for name, messages in fields.items()}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


HTTP_TITLES = {
    400: _l("Bad request."),
    401: _l("Authentication required."),
    403: _l("You are not allowed to do this."),
    404: _l("Not found."),
    405: _l("This method is not allowed here."),
    409: _l("This already exists."),
    413: _l("The upload is too large."),
    415: _l("Send JSON with Content-Type: application/json."),
    422: _l("Some fields are invalid."),
    429: _l("Too many requests. Wait a moment and try again."),
    500: _l("Something went wrong on our side. The error has been logged."),
    503: _l("The service cannot answer right now. Try again shortly."),
}


def error_page(status: int, message: Any) -> Response:
    """An error as a page. On a public page, and for a visitor without a session (someone who scanned a
    code, a crawler), in the public layout: it needs no session, so an error sets no cookie either, and it
    speaks the public pages' languages. Signed-in people keep the back office's layout."""
    if is_public_page() or current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        answer_as_public_page()
        with force_locale(select_locale()):
            message = str(message)
        return render_public("public/error.html", status, code=status, message=message)
    return make_response(render_template("errors/error.html", status=status, message=message), status)


DATABASE_RETRY_AFTER_SECONDS = 5  # a restart or failover usually takes a few seconds

# PostgreSQL gave up one of two transactions waiting on each other (deadlock) or could not serialise it: the
# request did nothing and may succeed at once if run again.
RETRYABLE_SQLSTATES = {"40P01", "40001"}
CONCURRENT_TITLE = _l("A change made at the same moment got in the way.")
CONCURRENT_CHANGE = _l("Another change to the same records was being saved at the same moment, and this one "
                       "could not be completed: nothing was saved. Reload the page and try again.")


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a database error (PostgreSQL's; None for SQLite's and others)."""
    return getattr(getattr(error, "orig", None), "sqlstate", None)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        if wants_json():
            return problem(error.status, error.title, error.message, error.fields, error.extra)
        return error_page(error.status, error.message)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        status = error.code or 500
        title = HTTP_TITLES.get(status, error.name)
        if wants_json():
            response = problem(status, title)
            if error.response is None and getattr(error, "retry_after", None):
                response.headers["Retry-After"] = str(error.retry_after)
            return response
        return error_page(status, title)

    # The database cannot be reached or dropped the connection (restart, failover, network): a clear 503 the
    # client can retry, not a 500. The pool discards the dead connections (pool_pre_ping checks the rest),
    # so the next request reconnects by itself once the database is back.
    @app.errorhandler(sa.exc.OperationalError)
    @app.errorhandler(sa.exc.InterfaceError)
    @app.errorhandler(sa.exc.DisconnectionError)
    def database_unavailable(error: Exception):
        if sqlstate(error) in RETRYABLE_SQLSTATES:
            return concurrent_change(error)
        forget_signed_in_user()
        try:
            db.session.rollback()
        except sa.exc.SQLAlchemyError:  # the connection is already gone; the session is reset at teardown
            pass
        app.logger.warning("Database unavailable on %s %s: %s", request.method, request.path,
                           str(error).splitlines()[0] if str(error) else type(error).__name__)
        if wants_json():
            response = problem(503, HTTP_TITLES[503])
        else:
            response = error_page(503, HTTP_TITLES[503])
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response

    # The connection can die after the view is done with it (a restart cuts it between two requests' work):
    # the session's ROLLBACK at teardown then raises, past every error handler, and the server answers its
    # own bare 500 in place of the app's. Flask runs teardowns in reverse order of registration, so this
    # one, registered after db.init_app, releases the session before Flask-SQLAlchemy's (then a no-op).
    @app.teardown_appcontext
    def release_session(_error: BaseException | None) -> None:
        try:
            db.session.remove()
        except (sa.exc.OperationalError, sa.exc.InterfaceError):
            db.session().invalidate()  # give the dead connection back to the pool to be discarded, no ROLLBACK
            db.session.remove()

    def concurrent_change(error: Exception):
        """A deadlock or serialization failure: the transaction was rolled back whole, so the view runs once
        more from the start (the request's body is kept); a second failure is a clear 409."""
        db.session.rollback()
        if not g.get("_database_retried"):
            g._database_retried = True
            app.logger.info("Retrying %s %s after %s", request.method, request.path, sqlstate(error))
            try:
                return app.dispatch_request()
            except Exception as again:  # answered by the same handlers (this one says 409 if it recurs)
                return app.handle_user_exception(again)
        app.logger.warning("Gave up %s %s after a second %s", request.method, request.path, sqlstate(error))
        if wants_json():
            return problem(409, CONCURRENT_TITLE, CONCURRENT_CHANGE)
        return error_page(409, CONCURRENT_CHANGE)

    def forget_signed_in_user() -> None:
        """The answer is written in the user's language and the page's header shows who is signed in, but
        the rollback expires the user (or loading them is what failed): settle the language now, from what
        is already loaded, then answer as to a visitor rather than ask the unreachable database again."""
        try:
            get_locale()  # Flask-Babel keeps it for the rest of the request
        except sa.exc.SQLAlchemyError:
            pass
        g.pop("api_user", None)
        g._login_user = login.anonymous_user()  # Flask-Login's per-request cache of current_user

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        if app.testing and app.config.get("PROPAGATE_UNEXPECTED", True):
            raise error
        if wants_json():
            return problem(500, HTTP_TITLES[500])
        return error_page(500, HTTP_TITLES[500])
