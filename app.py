"""Kafaa application factory: the top floor.

`flask --app app ...` finds `create_app` here. The extension objects live in common.extensions and are bound
to the application in `register_extensions`; nothing imports this module but the entry points (wsgi.py and
worker.py), so every package below can be imported on its own.
"""
from __future__ import annotations

import atexit
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l, refresh as flask_babel_refresh
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter
from werkzeug.utils import import_string

# The models of every package, so that Alembic and the mappers see the whole schema.
import audit.models  # noqa: F401
import certificates.models  # noqa: F401
import governance.models  # noqa: F401
import jobs.models  # noqa: F401
import privacy.models  # noqa: F401
import skills.models  # noqa: F401
import transcripts.models  # noqa: F401
from accounts.cli import users_cli
from accounts.models import User
from accounts.roles import ROLES
from audit.cli import audit_cli
from certificates import bulk, keys, queries as certificate_queries
from certificates.cli import certificates_cli, keys_cli
from certificates.operations import verification_counter
from common import logs, negotiation, security, templating
from common.database import normalise_database_url
from common.errors import register_error_handlers
from common.extensions import babel, csrf, db, login, migrate
from common.i18n import select_locale
from common.validation import ID_MAX
from demo.cli import demo_command
from exchange.imports import jobs as import_jobs
from governance import reporting, trained
from governance.cli import report_cli
from jobs import runner
from maintenance.cli import backup_command, purge_command, restore_command
from skills import queries as skills_queries, signals as skills_signals, views as skills_views, vocab
from transcripts import views as transcript_views

PROJECT_ROOT = Path(__file__).resolve().parent


class Config:
    """Defaults; every value can be overridden from the environment (see README, Configuration)."""

    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Africa/Casablanca"
    BABEL_TRANSLATION_DIRECTORIES = str(PROJECT_ROOT / "translations")
    BASE_URL = "http://127.0.0.1:5000"
    MAIL_SERVER: str | None = None
    MAIL_PORT = 587
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_USE_TLS = True
    MAIL_SENDER = "Kafaa <no-reply@kafaa.ma>"
    ISSUER_NAME = "Programme national Kafaa — Ministère de la Transition numérique et de la Réforme de l'Administration"
    ISSUER_NAME_AR = "البرنامج الوطني كفاءة — وزارة الانتقال الرقمي وإصلاح الإدارة"
    # Law 09-08: who controls the personal data, whom to write to, the CNDP's reference for the processing
    # (shown on the privacy notice once set). How long records are kept is RETENTION_PERSON_YEARS below.
    PRIVACY_CONTROLLER = "Ministère de la Transition numérique et de la Réforme de l'Administration"
    PRIVACY_CONTACT_EMAIL = "donnees-personnelles@kafaa.ma"
    # Whom a certificate's holder writes to about it (named in the revocation mail and on "My certificates").
    CONTACT_EMAIL = "contact@kafaa.ma"
    CNDP_REFERENCE: str | None = None
    VERIFICATION_FLUSH_SECONDS = 5  # verification counts are written in batches (see VerificationCounter)
    PDF_SIGNER_CERT: str | None = None
    PDF_SIGNER_KEY: str | None = None
    PDF_SIGNER_KEY_PASSWORD: str | None = None
    # An RFC 3161 timestamp authority: signatures then carry a trusted time (PAdES B-T, B-LT when the
    # chain in PDF_SIGNER_CERT ends with its root). See docs/operations.md.
    TSA_URL: str | None = None
    # Lets an https instance start without PDF_SIGNER_CERT, signing with a generated development
    # certificate that says so in its subject. For test and staging instances only.
    PDF_SIGNER_DEVELOPMENT = False
    PER_PAGE = 25
    API_MAX_PER_PAGE = 200
    INVITATION_MAX_AGE_DAYS = 7
    API_TOKEN_DAYS = 30
    # argon2id parameters (RFC 9106 second recommended option); tests lower them to stay fast.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_IDLE_MINUTES = 30
    SESSION_ABSOLUTE_HOURS = 12
    # Rate limits (Flask-Limiter strings). RATELIMIT_ENABLED=0 in the environment lifts them (benchmarks).
    LOGIN_ACCOUNT_RATE_LIMIT = "5 per 15 minutes"
    LOGIN_ADDRESS_RATE_LIMIT = "30 per 15 minutes"
    VERIFY_RATE_LIMIT = "120 per minute"
    # "Forgot password": requests per address asked about (a mailbox is not flooded) and per visitor.
    PASSWORD_RESET_ACCOUNT_RATE_LIMIT = "3 per hour"
    PASSWORD_RESET_ADDRESS_RATE_LIMIT = "10 per hour"
    PASSWORD_RESET_MINUTES = 60  # how long a reset link works (once)
    # Retention (flask purge). Mails carry addresses and invitation links: a quarter is enough to answer
    # "did my mail go out?". An expired API token is useless; a month after expiry is kept for inquiries.
    # A trainee's personal data stays 5 years after their last activity and after their last certificate
    # expired, so they can still prove their training or renew it; a certificate still valid keeps it.
    RETENTION_OUTBOX_DAYS = 90
    RETENTION_API_TOKENS_DAYS = 30
    RETENTION_PERSON_YEARS = 5
    # Files in EXPORTS_DIR hold names too: a bulk issuance's ZIP of PDFs and a quarterly report live
    # RETENTION_JOB_FILES_DAYS (time to download and print them; a job can be run again), an uploaded import
    # file RETENTION_UPLOADS_HOURS (between its dry run and its import). `flask purge` deletes them.
    RETENTION_JOB_FILES_DAYS = 30
    RETENTION_UPLOADS_HOURS = 24
    # How many reverse proxies (load balancer, TLS terminator) stand in front and set X-Forwarded-For and
    # X-Forwarded-Proto. 0 trusts neither header: behind a proxy, every visitor would then share the proxy's
    # address and its rate limits.
    TRUSTED_PROXIES = 0
    # Background jobs: a running job writes a heartbeat this often; one silent for JOB_STALE_SECONDS (its
    # worker killed, crashed or restarted) is marked failed, and an admin can start it again.
    JOB_HEARTBEAT_SECONDS = 15
    JOB_STALE_SECONDS = 120
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session; timeouts are the session's job
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024

    ENV_KEYS = ("DATABASE_URL", "SECRET_KEY", "BASE_URL", "MAIL_SERVER", "MAIL_PORT", "MAIL_USERNAME",
                "MAIL_PASSWORD", "MAIL_SENDER", "REDIS_URL", "KEYS_DIR", "EXPORTS_DIR", "ISSUER_NAME", "ISSUER_NAME_AR",
                "PDF_SIGNER_CERT", "PDF_SIGNER_KEY", "PDF_SIGNER_KEY_PASSWORD", "TSA_URL", "PDF_SIGNER_DEVELOPMENT", "PRIVACY_CONTROLLER",
                "PRIVACY_CONTACT_EMAIL", "CNDP_REFERENCE", "RETENTION_OUTBOX_DAYS", "RETENTION_API_TOKENS_DAYS",
                "RETENTION_PERSON_YEARS", "RETENTION_JOB_FILES_DAYS", "RETENTION_UPLOADS_HOURS", "TRUSTED_PROXIES", "VERIFICATION_FLUSH_SECONDS",
                "LOGIN_ACCOUNT_RATE_LIMIT", "LOGIN_ADDRESS_RATE_LIMIT", "VERIFY_RATE_LIMIT", "JOB_HEARTBEAT_SECONDS",
                "JOB_STALE_SECONDS", "PASSWORD_RESET_ACCOUNT_RATE_LIMIT", "PASSWORD_RESET_ADDRESS_RATE_LIMIT",
                "PASSWORD_RESET_MINUTES", "CONTACT_EMAIL")
    INTEGER_KEYS = ("MAIL_PORT", "RETENTION_OUTBOX_DAYS", "RETENTION_API_TOKENS_DAYS", "RETENTION_PERSON_YEARS",
                    "RETENTION_JOB_FILES_DAYS", "RETENTION_UPLOADS_HOURS",
                    "TRUSTED_PROXIES", "VERIFICATION_FLUSH_SECONDS", "JOB_HEARTBEAT_SECONDS", "JOB_STALE_SECONDS",
                    "PASSWORD_RESET_MINUTES")


def _config_from_env(app: Flask) -> None:
    # `PORT=8080 make run` with no BASE_URL: links and QR codes must lead to the port actually served, since
    # they are printed for ever into PDFs. An explicit BASE_URL (a proxy, a domain) always wins.
    port = os.environ.get("PORT", "").strip()
    if port and not os.environ.get("BASE_URL"):
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"PORT must be a TCP port number (1-65535), not {port!r}.")
        app.config["BASE_URL"] = f"http://127.0.0.1:{int(port)}"
    for key in Config.ENV_KEYS:
        value = os.environ.get(key)
        if value:
            app.config[key] = int(value) if key in Config.INTEGER_KEYS else value
    if os.environ.get("RATELIMIT_ENABLED") is not None:
        app.config["RATELIMIT_ENABLED"] = os.environ["RATELIMIT_ENABLED"] not in ("0", "false", "no")
    if os.environ.get("PDF_SIGNER_DEVELOPMENT") is not None:
        app.config["PDF_SIGNER_DEVELOPMENT"] = os.environ["PDF_SIGNER_DEVELOPMENT"] not in ("0", "false", "no", "")
    if os.environ.get("MAIL_USE_TLS") is not None:
        app.config["MAIL_USE_TLS"] = os.environ["MAIL_USE_TLS"] not in ("0", "false", "no")


def _secret_key(app: Flask) -> str:
    """SECRET_KEY from the environment, else one generated once into instance/ and kept."""
    path = Path(app.instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _owner_only(app: Flask) -> None:
    """Every file this process writes holds personal data or keys (the SQLite database and its -wal/-shm,
    certificate ZIPs, reports, uploads, backups): readable by its owner only, 0600, folders 0700. A database
    made by an older version is closed to others too (SQLite gives its side files the database's mode)."""
    os.umask(0o077)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    instance.chmod(0o700)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and uri != "sqlite:///:memory:":
        database = Path(uri.removeprefix("sqlite:///"))
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            if path.exists():
                path.chmod(0o600)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    os.umask(0o077)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_object(Config)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'kafaa.db'}"
    app.config["KEYS_DIR"] = str(Path(app.instance_path) / "keys")
    app.config["EXPORTS_DIR"] = str(Path(app.instance_path) / "exports")
    _config_from_env(app)
    if config:
        app.config.update(config)
    if app.config.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["DATABASE_URL"])
    # SQL parameters hold names and emails: never in an error message or a log.
    engine_options = {"hide_parameters": True}
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # A server can drop idle connections; SQLite has none to lose, so it skips the extra round trip.
        engine_options["pool_pre_ping"] = True
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**engine_options, **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})}
    _owner_only(app)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app)
    app.config["BASE_URL"] = app.config["BASE_URL"].rstrip("/")
    app.config["SESSION_COOKIE_SECURE"] = app.config["BASE_URL"].startswith("https://")
    keys.check_signer_settings(app.config)  # refuse to start rather than sign with a look-alike

    if app.config["TRUSTED_PROXIES"]:
        proxies = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_template_helpers(app)
    register_reactions(app)
    register_shutdown(app)
    logs.install()
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    login.init_app(app)
    login.login_view = "accounts.login"
    login.login_message_category = "warning"
    login.login_message = _l("Please sign in to see this page.")
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    security.init_app(app)
    negotiation.init_app(app)
    # Flask-Babel caches the locale on the app context, which can outlive one request (tests, jobs):
    # decide it afresh for every request.
    app.before_request(flask_babel_refresh)

    @login.user_loader
    def load_user(session_id: str) -> User | None:
        user_id, _, token = session_id.partition("-")
        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        if user is None or not user.active or (user.session_token or "") != token:
            return None
        return user


# Web pages (session cookie, CSRF-protected forms) and JSON APIs under /api/v1 (bearer tokens only, so
# exempt from CSRF). One line per blueprint, "module:attribute".
WEB_BLUEPRINTS = (
    "common.health:bp",
    "accounts.views:bp",
    "skills.views:bp",
    "certificates.views:bp",
    "certificates.admin_views:bp",
    "governance.views:bp",
    "checkin.views:bp",
    "jobs.views:bp",
    "audit.views:bp",
    "certificates.openbadges_views:bp",
    "exchange.views:bp",
    "privacy.views:bp",
    "apidocs.views:bp",
    "transcripts.views:bp",
)
API_BLUEPRINTS = (
    "accounts.api:bp",
    "skills.api:bp",
    "certificates.api:bp",
    "governance.api:bp",
    "checkin.api:bp",
    "jobs.views:api_bp",
    "certificates.openbadges_views:api_bp",
    "exchange.api:bp",
    "privacy.api:bp",
    "apidocs.views:api_bp",
    "transcripts.api:bp",
)


def register_blueprints(app: Flask) -> None:
    class RowIdConverter(IntegerConverter):
        """Every <int:...> in a route is a row's id: a number past ID_MAX names nothing (404) rather than
        overflowing the database driver (500)."""

        def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = ID_MAX,
                     signed: bool = False) -> None:
            super().__init__(map, fixed_digits, min, max, signed)

    app.url_map.converters["int"] = RowIdConverter

    for name in WEB_BLUEPRINTS:
        app.register_blueprint(import_string(name))
    for name in API_BLUEPRINTS:
        bp = import_string(name)
        app.register_blueprint(bp)
        csrf.exempt(bp)


def register_errorhandlers(app: Flask) -> None:
    register_error_handlers(app)


def register_commands(app: Flask) -> None:
    for command in (users_cli, demo_command, certificates_cli, keys_cli, report_cli, audit_cli, backup_command,
                    restore_command, purge_command):
        app.cli.add_command(command)


def register_shutdown(app: Flask) -> None:
    """Write the verification counts still buffered when the process ends."""
    def flush() -> None:
        try:
            with app.app_context():
                verification_counter.flush()
                db.session.commit()
        except Exception:  # the database may be gone at exit; a lost count is not worth a traceback
            app.logger.warning("Could not write the last verification counts at exit.")

    if not app.testing:
        atexit.register(flush)


def register_template_helpers(app: Flask) -> None:
    templating.init_app(app, vocabularies=dict(
        ROLES=ROLES, SECTORS=vocab.SECTORS, REGIONS=vocab.REGIONS, CATEGORIES=vocab.CATEGORIES,
        GENDERS=vocab.GENDERS, TRAINING_LANGUAGES=vocab.TRAINING_LANGUAGES,
        ATTENDANCE_STATUSES=vocab.ATTENDANCE_STATUSES))


# Background jobs: kind -> the function a worker runs (jobs.runner).
JOB_TASKS = {
    "certificates.issue_cohort": bulk.issue_cohort_job,
    "governance.quarterly_report": reporting.quarterly_report_job,
    "exchange.import_trainees": import_jobs.import_trainees_job,
}


def register_reactions(app: Flask) -> None:
    """How packages react to each other, wired here rather than by importing for side effects."""
    for kind, function in JOB_TASKS.items():
        runner.register_task(kind, function)
    trained.install()  # trained_periods follow every flush of certificates, trainees, tracks and cohorts
    skills_signals.trainees_written.connect(trained.refresh_written)  # ... and skills' bulk trainee writes
    skills_signals.recognitions_changed.connect(trained.refresh_recognised)  # ... and recognitions
    skills_queries.PREREQUISITE_HOLDINGS = certificate_queries.prerequisite_holdings  # eligibility asks certificates
    skills_views.TRAINEE_PAGE_EXTRAS["certificates"] = certificate_queries.certificates_on_page
    skills_views.TRAINEE_PAGE_EXTRAS["transcript_action"] = transcript_views.page_action
