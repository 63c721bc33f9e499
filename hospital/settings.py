"""Django settings, read from the environment with safe defaults.

Every variable read here is listed with its default in README.md and .env.example.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    """Read a string; unset and empty both mean the default (so a blank line in .env is harmless)."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_bool(name: str, default: bool = False) -> bool:
    """Read a boolean flag: 1/true/yes/on are true."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


VAR_DIR = Path(env_str("HOSPITAL_VAR_DIR") or BASE_DIR / "var")
DEBUG = env_bool("DJANGO_DEBUG", False)

# Required when debug is off, by every process that serves or signs: gunicorn, runserver and the
# Celery worker and beat refuse to start without it (hospital.security.require_secret_key), and
# `check --deploy` reports it. Commands that sign nothing (makemigrations, migrate) run without it
# on a random key of their own.
SECRET_KEY_FROM_ENVIRONMENT = bool(env_str("DJANGO_SECRET_KEY"))
if SECRET_KEY_FROM_ENVIRONMENT:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY")
elif DEBUG:
    SECRET_KEY = "insecure-debug-only-key"  # noqa: S105 - debug only
else:
    SECRET_KEY = get_random_secret_key()

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "jazzmin",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "django_celery_beat",
    "axes",
    "hospital",
    "staff",
    "appointments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves collected static files (the admin's) from gunicorn, compressed and cache-busted.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # API responses carry personal data and tokens: never stored by a browser or a proxy.
    "hospital.middleware.ApiNoStoreMiddleware",
    # Last: turns an admin login that django-axes refused into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hospital.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "hospital" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "hospital.wsgi.application"

# With no DATABASE_URL the project runs on an SQLite file under var/ so that a machine with
# nothing but Python can run and test it; PostgreSQL is the production database.
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
            # Persistent connections are checked before reuse, so a PostgreSQL restart costs
            # errors only while it is down.
            conn_health_checks=True,
        )
    }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "db.sqlite3"),
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DATABASES["default"].setdefault("TEST", {})

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "staff.User"

# Jazzmin's login form has no `next` field: a direct /admin/login/ lands on the dashboard.
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"

AUTHENTICATION_BACKENDS = [
    # First: refuses any login (API or admin) for a username locked out by repeated failures.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Proxies in front of the web processes that append the client's address to X-Forwarded-For
# (0: none, REMOTE_ADDR is the client; compose's own layout has none, a TLS proxy in front is 1).
# The login throttle and the lockout both read the client's address through it.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Repeated failed logins lock the username out until the cool-off passes or an administrator
# deletes its access attempts in the admin (or runs `manage.py axes_reset_username <name>`).
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
# Locked is a username *from an address*: an anonymous attacker elsewhere cannot lock the owner out,
# while a burst against one account from one address is stopped (and every address is throttled).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_SENSITIVE_PARAMETERS = ["password"]
AXES_VERBOSE = False
# The same client address as the login throttle's (hospital.security.client_address).
AXES_CLIENT_IP_CALLABLE = "hospital.security.client_address"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Time: stored in UTC, planned and shown in the clinic's zone.
USE_TZ = True
TIME_ZONE = env_str("TIME_ZONE", "Europe/Moscow")

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "hospital.storage.StaticFilesStorage"
    },
}

# Caps on what a request may carry (bytes; fields in a form).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

CACHE_URL = env_str("CACHE_URL")
if CACHE_URL:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    CACHES = {
        "default": {
            # Fails open: while Redis is down, login throttling pauses instead of every login
            # failing with a 500; the short timeouts keep a request from hanging on a dead Redis.
            "BACKEND": "hospital.cache.FailOpenRedisCache",
            "LOCATION": CACHE_URL,
            # No retries inside a request: the cache is optional, and the next request tries again.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1, "retry": Retry(NoBackoff(), 0)},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- REST API ------------------------------------------------------------------------------
TOKEN_TTL_HOURS = env_int("TOKEN_TTL_HOURS", 12)
LOGIN_THROTTLE_RATE = env_str("LOGIN_THROTTLE_RATE", "10/min")
API_PAGE_SIZE = env_int("API_PAGE_SIZE", 50)
API_MAX_PAGE_SIZE = 500

REST_FRAMEWORK = {
    # Token first: an anonymous API call gets 401 with WWW-Authenticate, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "staff.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "hospital.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's JSON parser with a nesting limit: a deeply nested body is a 400, not a 500.
    "DEFAULT_PARSER_CLASSES": ["hospital.parsers.JSONParser"],
    # The client address for throttling is REMOTE_ADDR unless the deployment says how many proxies
    # in front of it append to X-Forwarded-For (a spoofed header is then the far end, not trusted).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "EXCEPTION_HANDLER": "hospital.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"login_username": LOGIN_THROTTLE_RATE, "login_address": LOGIN_THROTTLE_RATE},
    "DATE_FORMAT": "%Y-%m-%d",
    "DATE_INPUT_FORMATS": ["%Y-%m-%d"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(  # type: ignore[attr-defined]
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=TOKEN_TTL_HOURS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Hospital API",
    "DESCRIPTION": (
        "Clinic back office: users and roles, doctors' schedules, free slots, booking and "
        "statistics. Authenticate with `Authorization: Token <key>` from `POST /api/token`. "
        'Errors are JSON `{"detail", "code", "fields"?}`; datetimes carry the clinic\'s offset.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api",
    "PREPROCESSING_HOOKS": ["hospital.openapi.drop_slash_aliases"],
    # Swagger UI from drf-spectacular-sidecar's static files, never a CDN. (No ReDoc page: its
    # bundle loads a logo from cdn.redoc.ly whatever the settings.)
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# --- Celery -------------------------------------------------------------------------------
# With no CELERY_BROKER_URL, Celery uses its filesystem transport under var/ (no Redis needed
# to run or test the project); Redis is the production broker.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
if not CELERY_BROKER_URL:
    _celery_dir = VAR_DIR / "celery"
    for _sub in ("queue", "processed", "control"):
        (_celery_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        "control_folder": str(_celery_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request that enqueues must not hang when the broker is down: fail fast, the sweep catches up.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TASK_SEND_SENT_EVENT = True

SLOT_GENERATION_INTERVAL = env_int("SLOT_GENERATION_INTERVAL", 60)
SLOT_GENERATION_BATCH_SIZE = env_int("SLOT_GENERATION_BATCH_SIZE", 100)
# Minutes after an appointment's end at which one still `booked` becomes a no-show; empty = never.
_no_show_after = env_str("NO_SHOW_AFTER_MINUTES")
NO_SHOW_AFTER_MINUTES = int(_no_show_after) if _no_show_after else None
if NO_SHOW_AFTER_MINUTES is not None and NO_SHOW_AFTER_MINUTES < 0:
    raise ImproperlyConfigured("NO_SHOW_AFTER_MINUTES must be 0 or more minutes, or empty (off).")
# Seconds between runs of the no-show task (it does nothing while NO_SHOW_AFTER_MINUTES is empty).
NO_SHOW_SWEEP_INTERVAL = 60
# Beat copies this entry into django-celery-beat's table at start, where admins can see it.
CELERY_BEAT_SCHEDULE = {
    "generate-slots-sweep": {
        "task": "appointments.generate_slots_sweep",
        "schedule": float(SLOT_GENERATION_INTERVAL),
        # A sweep not started within one interval is stale: the next one does the same work.
        "options": {"expires": float(SLOT_GENERATION_INTERVAL)},
    },
    # Always scheduled, so that setting NO_SHOW_AFTER_MINUTES takes effect without touching beat's
    # table; while it is empty the task returns at once.
    "mark-no-shows": {
        "task": "appointments.mark_no_shows",
        "schedule": float(NO_SHOW_SWEEP_INTERVAL),
        "options": {"expires": float(NO_SHOW_SWEEP_INTERVAL)},
    },
    "purge-expired-tokens": {
        "task": "staff.purge_expired_tokens",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
}

# --- Security -----------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Admin (Jazzmin) ----------------------------------------------------------------------
# The admin's look (menus, icons, theme) is in hospital/admin_look.py.
from hospital.admin_look import JAZZMIN_SETTINGS, JAZZMIN_UI_TWEAKS  # noqa: E402, F401

# --- CSV / XLSX import and export (django-import-export) --------------------------------------
# One transaction per import: a file with any bad row writes nothing (the resources also roll back
# on invalid values, see staff.resources.PersonResource.import_data).
IMPORT_EXPORT_USE_TRANSACTIONS = True
# Importing needs the model's "add" permission, exporting its "view" permission.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
# A control character in free text (an absence's comment) cannot go into XLSX: replaced, not a 500.
IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT = True
