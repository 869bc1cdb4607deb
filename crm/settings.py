"""
Settings for the lead-distribution CRM.

One file, driven by environment variables (see README "Configuration"). Every value
is read through a small typed helper, so a bad value fails at start-up with a
message that names the variable instead of surfacing later as a strange error.
"""

import os
import sys
from pathlib import Path

import dj_database_url
import phonenumbers
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value == "":
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1 or 0 (got {value!r}).")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number (got {value!r}).") from None


def envregion(name: str) -> str | None:
    """A two-letter region code that phonenumbers knows ("GB", "US"), or None when unset."""
    value = os.environ.get(name, "").strip().upper()
    if value == "":
        return None
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ImproperlyConfigured(
            f"{name} must be a two-letter region code such as GB or US (got {value!r})."
        )
    return value


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", False)
_COMMAND = sys.argv[1] if len(sys.argv) > 1 and sys.argv[0].endswith("manage.py") else ""
# The test suite's settings module (crm/settings_test.py, chosen by pytest's
# configuration) is the only way to get test settings.
TESTING = os.environ.get("DJANGO_SETTINGS_MODULE") == "crm.settings_test"
# Commands that only read the code (migrations) neither serve nor sign anything, so they
# need no key; everything else, the servers above all, refuses to start without one.
_KEYLESS_COMMANDS = {"makemigrations", "showmigrations", "sqlmigrate", "help"}

SECRET_KEY = os.environ.get("SECRET_KEY", "").strip()
if not SECRET_KEY:
    if not (DEBUG or TESTING or _COMMAND in _KEYLESS_COMMANDS):
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG=0. Generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    # Only for local development, tests and the code-only commands above.
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
for _origin in CSRF_TRUSTED_ORIGINS:
    if "://" not in _origin:
        raise ImproperlyConfigured(
            "CSRF_TRUSTED_ORIGINS entries need a scheme, like https://crm.example.com "
            f"(got {_origin!r})."
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # Django's form templates, for the project's form renderer (FORM_RENDERER below).
    "django.forms",
    "django_htmx",
    "template_partials",
    "ninja",
    "axes",
    "csp",
    "distribution",
]

# An API call with a bearer token goes around the three crm.middleware classes (Django's
# session, authentication and message middleware): it needs no session, login or
# messages, and ignores cookies (crm/middleware.py says why that is safe). Everything
# else here serves it too.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "crm.middleware.NeverCacheMiddleware",
    "crm.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "crm.middleware.AuthenticationMiddleware",
    "crm.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # AxesMiddleware must come last: it turns a lockout into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

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
                "distribution.context_processors.roles",
            ],
        },
    },
]

# Forms render with the project's templates: one field template and one error list for
# every form (see crm/renderers.py).
FORM_RENDERER = "crm.renderers.FormRenderer"

# Database: DATABASE_URL, or a SQLite file in the project root.
_database_url = os.environ.get("DATABASE_URL", "").strip() or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
try:
    _database = dj_database_url.parse(_database_url, conn_max_age=envint("CONN_MAX_AGE", 60))
except Exception as exc:  # dj-database-url raises several types for a malformed URL.
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None

if _database["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite allows one writer at a time. IMMEDIATE makes every transaction take the
    # write lock when it begins, so two assignments can never read the same load and
    # both write; WAL lets readers go on while a writer holds it; the busy timeout
    # makes a second writer wait instead of failing with "database is locked".
    # Writers queue for that lock in crm/sqlite_backend (a lock of our own taken before
    # BEGIN) instead of sleeping in SQLite's busy handler; SQLITE_WRITE_QUEUE=0 turns the
    # queue off. Either way a writer waits at most SQLITE_BUSY_TIMEOUT seconds.
    _database["ENGINE"] = "crm.sqlite_backend"
    _database["CONN_MAX_AGE"] = 0 if TESTING else _database["CONN_MAX_AGE"]
    _database["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "write_queue": envbool("SQLITE_WRITE_QUEUE", True),
        "timeout": envint("SQLITE_BUSY_TIMEOUT", 20),
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
    # Tests use a file (not :memory:) so that threads and server processes share it;
    # one per test run, so that two runs on one machine do not collide.
    _database["TEST"] = {"NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")}
elif _database["ENGINE"] == "django.db.backends.postgresql":
    # A database that does not answer must not hold a worker past its timeout: a new
    # connection gives up after DATABASE_CONNECT_TIMEOUT seconds (the request is a 503),
    # and a persistent one is checked before each request and replaced when it died
    # (CONN_HEALTH_CHECKS), so workers serve again as soon as the database is back.
    _database.setdefault("OPTIONS", {})
    _database["OPTIONS"].setdefault("connect_timeout", envint("DATABASE_CONNECT_TIMEOUT", 5))
    _database["CONN_HEALTH_CHECKS"] = True
else:
    raise ImproperlyConfigured(
        f"DATABASE_URL must point to SQLite or PostgreSQL (got engine {_database['ENGINE']!r})."
    )
DATABASES = {"default": _database}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out client before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Under /api/ a failed CSRF check answers JSON like the rest of the API.
CSRF_FAILURE_VIEW = "distribution.views.errors.csrf_failure"

# E-mail: only for password reset links, which are offered only when EMAIL_HOST is set.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "").strip()
EMAIL_PORT = envint("EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "crm@localhost")
PASSWORD_RESET_BY_EMAIL = bool(EMAIL_HOST)
# Reset requests per client address an hour (each may send an e-mail).
PASSWORD_RESET_RATE = envint("PASSWORD_RESET_RATE", 5)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "distribution:dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# The country of lead identifiers written as national phone numbers ("020 7946 0000"):
# with it they are keyed in E.164 like "+44 20 7946 0000"; without it only numbers
# written with "+" or "00" are (distribution/identity.py). Changing it later does not
# re-key existing leads.
CRM_PHONE_REGION = envregion("CRM_PHONE_REGION")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Login throttling: after AXES_FAILURE_LIMIT failed logins for one user name from one
# address, that pair is refused for AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = envint("AXES_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Behind PROXY_COUNT proxies the client address is the X-Forwarded-For entry that the
# outermost of them appended; with no proxy it is the socket's address, and a client's
# own X-Forwarded-For is ignored (it could otherwise dodge the lock-out by changing it).
PROXY_COUNT = envint("PROXY_COUNT", 0)
if PROXY_COUNT < 0:
    raise ImproperlyConfigured(f"PROXY_COUNT must be 0 or more (got {PROXY_COUNT}).")
AXES_CLIENT_IP_CALLABLE = "crm.proxy.client_ip"

# Content-Security-Policy: everything from our own origin; htmx needs no inline code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

# HTTPS behind a proxy: the proxy terminates TLS and says so in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG and not TESTING)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = not DEBUG and not TESTING
CSRF_COOKIE_SECURE = not DEBUG and not TESTING
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
# Asking browsers to preload HSTS commits the whole domain, subdomains included, to
# HTTPS for months; that is for the domain's owner to decide (SECURE_HSTS_PRELOAD=1),
# so `check --deploy` does not insist on it.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
