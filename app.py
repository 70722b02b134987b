"""Kafaa application factory.

`flask --app app ...` finds `create_app` here. Extension objects live at module level and are bound to
the application in `register_extensions`, so models and views can import them without a circular import
(they are created before any blueprint module is imported).
"""
from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel, refresh as flask_babel_refresh
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names: Alembic can then drop and alter them, and SQLite batch migrations work.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """SQLite as a server would behave: foreign keys enforced, readers never blocked by the writer
    (WAL), commits without a disk sync each (NORMAL is durable in WAL mode), and a writer that waits
    for the lock instead of failing at once."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=10000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()
migrate = Migrate()
login = LoginManager()
csrf = CSRFProtect()
babel = Babel()

LANGUAGES = ("fr", "ar", "en")
RTL_LANGUAGES = frozenset({"ar"})
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
    CNDP_REFERENCE: str | None = None
    VERIFICATION_FLUSH_SECONDS = 5  # verification counts are written in batches (see VerificationCounter)
    PDF_SIGNER_CERT: str | None = None
    PDF_SIGNER_KEY: str | None = None
    PDF_SIGNER_KEY_PASSWORD: str | None = None
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
    # Retention (flask purge). Mails carry addresses and invitation links: a quarter is enough to answer
    # "did my mail go out?". An expired API token is useless; a month after expiry is kept for inquiries.
    # A trainee's personal data stays 5 years after their last activity and after their last certificate
    # expired, so they can still prove their training or renew it; a certificate still valid keeps it.
    RETENTION_OUTBOX_DAYS = 90
    RETENTION_API_TOKENS_DAYS = 30
    RETENTION_PERSON_YEARS = 5
    # How many reverse proxies (load balancer, TLS terminator) stand in front and set X-Forwarded-For and
    # X-Forwarded-Proto. 0 trusts neither header: behind a proxy, every visitor would then share the proxy's
    # address and its rate limits.
    TRUSTED_PROXIES = 0
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session; timeouts are the session's job
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024

    ENV_KEYS = ("DATABASE_URL", "SECRET_KEY", "BASE_URL", "MAIL_SERVER", "MAIL_PORT", "MAIL_USERNAME",
                "MAIL_PASSWORD", "MAIL_SENDER", "REDIS_URL", "KEYS_DIR", "EXPORTS_DIR", "ISSUER_NAME", "ISSUER_NAME_AR",
                "PDF_SIGNER_CERT", "PDF_SIGNER_KEY", "PDF_SIGNER_KEY_PASSWORD", "PRIVACY_CONTROLLER",
                "PRIVACY_CONTACT_EMAIL", "CNDP_REFERENCE", "RETENTION_OUTBOX_DAYS", "RETENTION_API_TOKENS_DAYS",
                "RETENTION_PERSON_YEARS", "TRUSTED_PROXIES", "VERIFICATION_FLUSH_SECONDS",
                "LOGIN_ACCOUNT_RATE_LIMIT", "LOGIN_ADDRESS_RATE_LIMIT", "VERIFY_RATE_LIMIT")
    INTEGER_KEYS = ("MAIL_PORT", "RETENTION_OUTBOX_DAYS", "RETENTION_API_TOKENS_DAYS", "RETENTION_PERSON_YEARS",
                    "TRUSTED_PROXIES", "VERIFICATION_FLUSH_SECONDS")


def _config_from_env(app: Flask) -> None:
    for key in Config.ENV_KEYS:
        value = os.environ.get(key)
        if value:
            app.config[key] = int(value) if key in Config.INTEGER_KEYS else value
    if os.environ.get("RATELIMIT_ENABLED") is not None:
        app.config["RATELIMIT_ENABLED"] = os.environ["RATELIMIT_ENABLED"] not in ("0", "false", "no")
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


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
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
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app)
    app.config["BASE_URL"] = app.config["BASE_URL"].rstrip("/")
    app.config["SESSION_COOKIE_SECURE"] = app.config["BASE_URL"].startswith("https://")

    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        proxies = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_template_helpers(app)
    register_shutdown(app)
    from common import logs

    logs.install()
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)
    return app


def normalise_database_url(url: str) -> str:
    """Accept the usual postgres:// and postgresql:// spellings and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    login.init_app(app)
    login.login_view = "accounts.login"
    login.login_message_category = "warning"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    from common import security

    security.init_app(app)
    # Flask-Babel caches the locale on the app context, which can outlive one request (tests, jobs):
    # decide it afresh for every request.
    app.before_request(flask_babel_refresh)

    from accounts.models import User  # noqa: F401 - models must be imported for Alembic and the loader
    import audit.models  # noqa: F401
    import certificates.bulk  # noqa: F401 - registers the bulk issuance job
    import certificates.models  # noqa: F401
    import governance.models  # noqa: F401
    import governance.reporting  # noqa: F401 - registers the report job
    import jobs.models  # noqa: F401
    import privacy.models  # noqa: F401
    import skills.models  # noqa: F401

    @login.user_loader
    def load_user(session_id: str) -> User | None:
        user_id, _, token = session_id.partition("-")
        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        if user is None or not user.active or (user.session_token or "") != token:
            return None
        return user


def select_locale() -> str:
    """The language a person chose (account, then cookie), else the browser's, else French (and French
    outside a request: command-line output)."""
    if not has_request_context():
        return "fr"
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    user = g.get("api_user")
    if user is not None and user.locale in LANGUAGES:
        return user.locale
    return request.accept_languages.best_match(LANGUAGES) or "fr"


# Web pages (session cookie, CSRF-protected forms) and JSON APIs under /api/v1 (bearer tokens only, so
# exempt from CSRF). One line per blueprint, "module:attribute".
WEB_BLUEPRINTS = (
    "common.health:bp",
    "accounts.views:bp",
    "skills.views:bp",
    "certificates.views:bp",
    "governance.views:bp",
    "checkin.views:bp",
    "jobs.views:bp",
    "audit.views:bp",
    "certificates.openbadges_views:bp",
    "exchange.views:bp",
    "privacy.views:bp",
    "common.apidocs:bp",
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
    "common.apidocs:api_bp",
)


def register_blueprints(app: Flask) -> None:
    from werkzeug.routing import IntegerConverter
    from werkzeug.utils import import_string

    from skills.validation import ID_MAX

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
    from common.errors import register_error_handlers

    register_error_handlers(app)


def register_commands(app: Flask) -> None:
    from accounts.cli import users_cli
    from audit.cli import audit_cli
    from certificates.cli import certificates_cli, keys_cli
    from governance.cli import report_cli
    from maintenance.cli import backup_command, purge_command, restore_command
    from skills.cli import demo_command

    for command in (users_cli, demo_command, certificates_cli, keys_cli, report_cli, audit_cli, backup_command,
                    restore_command, purge_command):
        app.cli.add_command(command)


def register_shutdown(app: Flask) -> None:
    """Write the verification counts still buffered when the process ends."""
    import atexit

    from certificates.operations import verification_counter

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
    from common import templating

    templating.init_app(app)
