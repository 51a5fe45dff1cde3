"""Settings for the Peppol bridge, read from the environment (12-factor).

Every variable is listed in ``.env.example``. The defaults need no server:
SQLite and a filesystem Celery broker under ``var/``. With DEBUG off the
portal refuses to start unless its secrets are set.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from portal import devkeys

env = environ.Env()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=True)

# --- Secrets -----------------------------------------------------------------
if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="") or devkeys.read_or_create(
        VAR_DIR / "secret_key", devkeys.generate_secret_key
    )
    FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="") or devkeys.read_or_create(
        VAR_DIR / "field_encryption_key", devkeys.generate_fernet_key
    )
else:
    _missing = [name for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY") if not env.str(name, default="")]
    if _missing:
        raise ImproperlyConfigured(
            "DEBUG is off, so the portal will not start without its secrets. "
            f"Set {' and '.join(_missing)} in the environment (see .env.example). "
            'Generate FIELD_ENCRYPTION_KEY with: python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"'
        )
    SECRET_KEY = env.str("SECRET_KEY")
    FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY")

# A comma-separated list rotates keys: the first encrypts, every one decrypts.
FIELD_ENCRYPTION_KEY = [key.strip() for key in FIELD_ENCRYPTION_KEY.split(",") if key.strip()]

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Applications ------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_celery_beat",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "portal.core",
    "portal.accounts",
    "portal.organisations",
    "portal.contacts",
    "portal.outgoing_invoices",
    "portal.incoming_invoices",
    "portal.documents",  # what sending and receiving share: lifecycle, retention, integrity
    "portal.events",
    "portal.reconciliation",  # issue 10: nightly reconciliation of eConnect, the portal and AFAS
    "portal.webhooks",  # eConnect PSB webhooks: received, stored, processed
    "portal.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "portal.core.middleware.NotFoundPageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.accounts.sessions.SessionIdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "portal.core.context_processors.peppol_rules",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: wait for locks instead of failing,
    # take the write lock at BEGIN, and let readers run beside the writer.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    if DATABASES["default"]["NAME"] != ":memory:":
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A database that accepts the connection but does not answer (restarting, overloaded) fails the attempt
    # instead of holding a worker process for good; the task is tried again as after any database error.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=10)
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Authentication ----------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 8)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# A session unused for this long ends (htmx polling does not count as use).
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
# Failed logins: after LOGIN_FAILURE_LIMIT failures for one username (or LOGIN_FAILURE_LIMIT_PER_IP from one
# address) within LOGIN_FAILURE_WINDOW_SECONDS, further attempts are refused for LOGIN_LOCKOUT_SECONDS.
# Counted in the database, so every web worker sees the same count.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_LIMIT_PER_IP = env.int("LOGIN_FAILURE_LIMIT_PER_IP", default=20)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=15 * 60)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60)
# Wrong two-factor codes per user within the same window before code entry is refused for the lockout.
OTP_FAILURE_LIMIT = env.int("OTP_FAILURE_LIMIT", default=5)
# The client address is REMOTE_ADDR, or the last X-Forwarded-For entry when a trusted proxy sets that header.
LOGIN_TRUST_X_FORWARDED_FOR = env.bool("LOGIN_TRUST_X_FORWARDED_FOR", default=False)
# Two-factor authentication (TOTP, optional for firm admins): the name authenticator apps show.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Peppol bridge")
# Set-password links for invited members stay valid this long (and only until used).
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 60 * 60)
# Mail (set-password links). Default: printed to the console.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Peppol bridge <noreply@localhost>")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# --- Internationalisation ----------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("nl", "Nederlands")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English dates as day month year (6 Dec 2026), never US month/day; Dutch uses Django's own formats.
FORMAT_MODULE_PATH = ["portal.formats"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True
# Numbers are not grouped by default, so an id in a URL or form value stays "1234"; amounts (the money filter) and
# counts (intcomma, the dashboard) are grouped the way the reader's language writes them: 1.234,56 in Dutch.
USE_THOUSAND_SEPARATOR = False

# --- Static files ------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "portal" / "static"]
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise expects it; production runs collectstatic
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Security (production defaults; DEBUG keeps local http working) ----------
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("USE_X_FORWARDED_PROTO", default=False) else None
)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy on every response (portal/core/middleware.py), also in development so a violation shows
# early: no inline scripts or styles anywhere (templates use static files; htmx's indicator <style> is switched off
# in base.html). The correlation id middleware goes first, so every log line of a request carries its id.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
MIDDLEWARE.insert(0, "portal.core.middleware.CorrelationIdMiddleware")
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "portal.core.middleware.ContentSecurityPolicyMiddleware",
)

# --- Celery ------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # acks_late: an unacknowledged task is redelivered after this many seconds.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
    if CELERY_BROKER_URL.startswith("redis://"):
        CELERY_BROKER_TRANSPORT = "portal.core.broker:Transport"  # a worker survives a Redis restart (see there)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 5
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = TIME_ZONE
# Database connections live across tasks (portal/celery_app.py); Celery's fixup renews them every 2 × this many.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=500)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Logging (portal/core/logging.py) ----------------------------------------
# JSON lines in production (time, level, logger, message, correlation_id), plain lines in development. The
# correlation id starts at a web request or a beat dispatch and follows the work into tasks and HTTP calls.
from portal.core.logging import logging_config  # noqa: E402 - kept with its block

LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = logging_config(log_format=LOG_FORMAT, level=env.str("LOG_LEVEL", default="INFO"))

# --- Peppol validation --------------------------------------------------------
# The official rules are versioned data: a pack laid out like shared/peppol (rules/*.xslt, xsd/ubl-2.1/,
# VERSIONS.txt). PEPPOL_RULES_DIR names the pack; without it, the pack installed with
# `manage.py peppol rules install` into PEPPOL_DATA_DIR is used; without either, validation is structural only.
PEPPOL_RULES_DIR = env.str("PEPPOL_RULES_DIR", default="")
PEPPOL_DATA_DIR = Path(env.str("PEPPOL_DATA_DIR", default=str(VAR_DIR / "peppol")))
PEPPOL_REQUIRE_RULES = env.bool("PEPPOL_REQUIRE_RULES", default=False)
PEPPOL_MAX_DOCUMENT_BYTES = env.int("PEPPOL_MAX_DOCUMENT_BYTES", default=20 * 1024 * 1024)

# --- AFAS and eConnect endpoints ---------------------------------------------
# With DEBUG on they default to the local simulators that `make run` starts; in production to the real services.
SIMULATOR_HOST = "http://127.0.0.1"
AFAS_BASE_URL_TEMPLATE = env.str(
    "AFAS_BASE_URL_TEMPLATE",
    default=f"{SIMULATOR_HOST}:8101/{{participant}}/{{rest_host}}/ProfitRestServices"
    if DEBUG
    else "https://{participant}.{rest_host}.afas.online/ProfitRestServices",
)
AFAS_SB_BASE_URL_TEMPLATE = env.str(
    "AFAS_SB_BASE_URL_TEMPLATE",
    default=f"{SIMULATOR_HOST}:8101/sb/{{domain}}/{{environment}}"
    if DEBUG
    else "https://{domain}.afasfocus.nl/{environment}",
)
ECONNECT_SOAP_URL = env.str(
    "ECONNECT_SOAP_URL", default=f"{SIMULATOR_HOST}:8102/soap/v3.1" if DEBUG else "https://api.everbinding.nl/soap/v3.1"
)
# eConnect has no API to release a document it flagged as duplicate (people do that in its platform). In
# development the simulator stands in for eConnect, so "mark as original" releases it there too.
ECONNECT_SIMULATOR_CONTROL_URL = env.str(
    "ECONNECT_SIMULATOR_CONTROL_URL", default=f"{SIMULATOR_HOST}:8102" if DEBUG else ""
)
ECONNECT_LOOKUP_URL = env.str(
    "ECONNECT_LOOKUP_URL", default=f"{SIMULATOR_HOST}:8102" if DEBUG else "https://psb.econnect.eu"
)
# eConnect's subscription key: sent as ?subscriptionKey= on every SOAP call, never logged. The simulator of
# `make run` accepts the development key below; a real one comes from eConnect with the connection.
SIMULATOR_SUBSCRIPTION_KEY = "simulator-subscription-key"
# eConnect PSB REST API (environments on the PSB transport): the API host and the OAuth2 identity host (its
# token endpoint is read from the host's OpenID configuration). The simulator serves both on one address.
ECONNECT_PSB_URL = env.str("ECONNECT_PSB_URL", default=f"{SIMULATOR_HOST}:8102" if DEBUG else "https://psb.econnect.eu")
ECONNECT_PSB_IDENTITY_URL = env.str(
    "ECONNECT_PSB_IDENTITY_URL", default=f"{SIMULATOR_HOST}:8102" if DEBUG else "https://identity.econnect.eu"
)
# The portal's own public address, where eConnect PSB posts webhooks (https://… in production). Empty: the portal
# cannot be reached from outside, so an environment on PSB cannot receive (its page says so).
PORTAL_PUBLIC_URL = env.str("PORTAL_PUBLIC_URL", default="http://127.0.0.1:8000" if DEBUG else "")
ECONNECT_SUBSCRIPTION_KEY = env.str("ECONNECT_SUBSCRIPTION_KEY", default=SIMULATOR_SUBSCRIPTION_KEY if DEBUG else "")
# The MasterTemplateId for credit notes, if eConnect gives one; empty: credit notes use the invoice template
# (none is published; see docs/vendor-contracts.md).
ECONNECT_CREDIT_NOTE_TEMPLATE_ID = env.str("ECONNECT_CREDIT_NOTE_TEMPLATE_ID", default="")
# The statuses (codes or names, first match wins) that tell eConnect a document is safely in AFAS, each looked up
# in the document's own allowed statuses. Empty: the portal's order (ACKNOWLEDGE_PREFERENCE in
# integrations/econnect/statuses.py).
ECONNECT_ACKNOWLEDGE_STATUSES = env.list("ECONNECT_ACKNOWLEDGE_STATUSES", default=[])
# AFAS asks partners to send their IntegrationId (<subscription>_<project>) on every call.
AFAS_INTEGRATION_ID = env.str("AFAS_INTEGRATION_ID", default="")

# --- Documents: sending and receiving (portal/documents/lifecycle.py) ----------
# Transient failures of a send or a delivery are retried with exponential backoff and jitter (at least what the
# remote's Retry-After asked), at most this many attempts. The OUTGOING_* names of earlier releases still work as
# deprecated aliases for one release.
DOCUMENT_MAX_ATTEMPTS = env.int("DOCUMENT_MAX_ATTEMPTS", default=env.int("OUTGOING_MAX_ATTEMPTS", default=8))
DOCUMENT_RETRY_BASE_SECONDS = env.float(
    "DOCUMENT_RETRY_BASE_SECONDS", default=env.float("OUTGOING_RETRY_BASE_SECONDS", default=30.0)
)
DOCUMENT_RETRY_MAX_SECONDS = env.float(
    "DOCUMENT_RETRY_MAX_SECONDS", default=env.float("OUTGOING_RETRY_MAX_SECONDS", default=3600.0)
)
OUTGOING_MAX_ATTEMPTS = DOCUMENT_MAX_ATTEMPTS  # deprecated aliases
OUTGOING_RETRY_BASE_SECONDS = DOCUMENT_RETRY_BASE_SECONDS
OUTGOING_RETRY_MAX_SECONDS = DOCUMENT_RETRY_MAX_SECONDS

# --- Sending -------------------------------------------------------------------
# A submitted invoice without a final status after this long is shown as stale (never resent automatically).
OUTGOING_STALE_AFTER_HOURS = env.float("OUTGOING_STALE_AFTER_HOURS", default=24.0)
# A submit or delivery that has not finished after this long (worker killed) is taken over by the sweeper.
# Longer than the task time limit, so work that is still running is never taken over.
DOCUMENT_STUCK_AFTER_SECONDS = env.int(
    "DOCUMENT_STUCK_AFTER_SECONDS",
    default=env.int("OUTGOING_STUCK_AFTER_SECONDS", default=CELERY_TASK_TIME_LIMIT * 2),
)
OUTGOING_STUCK_AFTER_SECONDS = DOCUMENT_STUCK_AFTER_SECONDS  # deprecated alias

# --- Contacts and Peppol readiness -------------------------------------------
# Debtors and creditors changed in AFAS are read this often per environment; all of them (which is how deleted
# ones are noticed) at most once per CONTACTS_FULL_SYNC_SECONDS.
CONTACTS_SYNC_SECONDS = env.int("CONTACTS_SYNC_SECONDS", default=900)
CONTACTS_FULL_SYNC_SECONDS = env.int("CONTACTS_FULL_SYNC_SECONDS", default=86400)
# A customer's Peppol lookup result is trusted this long; changed identifiers are looked up again at once.
PEPPOL_LOOKUP_TTL_SECONDS = env.int("PEPPOL_LOOKUP_TTL_SECONDS", default=7 * 86400)
# Directory requests per second per worker process (each asks about up to 10 identifiers), and how long one may take.
PEPPOL_LOOKUP_MAX_PER_SECOND = env.float("PEPPOL_LOOKUP_MAX_PER_SECOND", default=10.0)
PEPPOL_LOOKUP_TIMEOUT_SECONDS = env.float("PEPPOL_LOOKUP_TIMEOUT_SECONDS", default=5.0)
# A bulk lookup or write-back works in chunks of at most this many seconds, so it never holds a worker for long.
CONTACT_JOB_CHUNK_SECONDS = env.float("CONTACT_JOB_CHUNK_SECONDS", default=10.0)
# The organisation's own identifiers are looked up this often, to notice registrations at another access point.
ROUTE_CHECK_SECONDS = env.int("ROUTE_CHECK_SECONDS", default=86400)

# --- Document retention (portal/documents/retention.py) ---------------------------
# Received and sent documents (bytes + SHA-256) are kept this many full years after the end of the calendar year of
# the document (the later of its issue date and the day the portal stored it), then removed by a daily task. Dutch
# fiscal retention is 7 years; a firm whose fiscal year does not end on 31 December should set 8.
DOCUMENT_RETENTION_YEARS = env.int("DOCUMENT_RETENTION_YEARS", default=7)
if DOCUMENT_RETENTION_YEARS < 7:
    raise ImproperlyConfigured("DOCUMENT_RETENTION_YEARS must be at least 7 (the Dutch fiscal retention period).")

# --- Portal ------------------------------------------------------------------
# How long /healthz waits for the broker before calling it down.
HEALTHZ_BROKER_TIMEOUT_SECONDS = env.float("HEALTHZ_BROKER_TIMEOUT_SECONDS", default=2.0)
