"""One settings module, driven by environment variables (see .env.example).

Every variable is read through django-environ's typed helpers; a malformed value fails at start-up.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A .env file next to manage.py is optional; real deployments pass the environment directly.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="" if not DEBUG else "dev-only-insecure-key")
if not SECRET_KEY:
    raise environ.ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://localhost:8000").rstrip("/")

# Province facts that are data, not constants (DOMAIN.md: the group is unverified).
PROVINCE_CODE = env.int("PROVINCE_CODE", default=91)
PROVINCE_AGENCY_GROUP = env.str("PROVINCE_AGENCY_GROUP", default="H01")
PROVINCE_NAME = env.str("PROVINCE_NAME", default="An Giang")

# Dossier code (DOMAIN.md): "2018" = <agency identifier>-YYMMDD-XXXX (one-stop rule of 2018);
# "2025" = <agency identifier>-YYMMDD-AAXXXX with AA from the system owner's identifier (unverified rule).
DOSSIER_CODE_FORMAT = env.str("DOSSIER_CODE_FORMAT", default="2018")
if DOSSIER_CODE_FORMAT not in ("2018", "2025"):
    raise environ.ImproperlyConfigured("DOSSIER_CODE_FORMAT must be 2018 or 2025")
DOSSIER_CODE_SYSTEM = env.str("DOSSIER_CODE_SYSTEM", default="01")
# Public lookup by code: requests per client per minute before 429 (codes must not be enumerable).
LOOKUP_RATE_PER_MINUTE = env.int("LOOKUP_RATE_PER_MINUTE", default=30)
# Seconds a rendered public lookup page stays cached (it is also dropped whenever the dossier changes).
LOOKUP_PAGE_CACHE_SECONDS = env.int("LOOKUP_PAGE_CACHE_SECONDS", default=600)
# Largest scan accepted at the counter, in megabytes.
UPLOAD_MAX_MB = env.int("UPLOAD_MAX_MB", default=20)
# The virus-scan hook every upload passes (core/files.py): the EICAR test detector, or core.files.ClamdScanner.
UPLOAD_SCANNER = env.str("UPLOAD_SCANNER", default="core.files.EicarScanner")
CLAMD_ADDRESS = env.str("CLAMD_ADDRESS", default="/run/clamav/clamd.ctl")
# Feedback (PAKN) one citizen account may send per day; more is refused until the next day (stops flooding).
FEEDBACK_PER_DAY = env.int("FEEDBACK_PER_DAY", default=10)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_htmx",
    "mozilla_django_oidc",
    # ours: shared pieces, domain apps, then interfaces
    "core",
    "organizations",
    "procedures",
    "citizens",
    "payments",
    "workflows",
    "dossiers",
    "receipts",
    "sync",
    "stats",
    "feedback",
    "portal",
    "backoffice",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:55432/angiang"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Django turns psycopg's prepared statements off (prepare_threshold None), which also ignores an explicit
# ``prepare=True``. Django's own cursors bind client-side and never prepare whatever this says; a threshold this high
# prepares nothing implicitly either, so only the statements asked for are (the public lookup, dossiers.selectors).
DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 1_000_000_000
# Name of the throw-away database the test suite creates (default: test_<name>).
DATABASES["default"]["TEST"] = {"NAME": env.str("DATABASE_TEST_NAME", default="") or None}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:56379/0")
CACHES = {
    "default": {
        "BACKEND": "core.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="angiang"),
    }
}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = "Asia/Ho_Chi_Minh"
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "core.tasks.heartbeat", "schedule": 60.0},
    # The outbox is drained on every commit's kick; this catches what a kick missed and the retries that came due.
    "outbox-drain": {"task": "sync.tasks.outbox_drain", "schedule": env.float("OUTBOX_DRAIN_EVERY", default=10.0)},
    "deadline-scan": {
        "task": "dossiers.tasks.deadline_scan",
        "schedule": env.float("DEADLINE_SCAN_EVERY", default=300.0),
    },
    # Messages to applicants (dossiers/notify.py) are sent on each commit's kick; this sends what a kick missed and
    # the retries that came due.
    "citizen-messages-send": {
        "task": "dossiers.tasks.citizen_messages_send",
        "schedule": env.float("CITIZEN_MESSAGES_SEND_EVERY", default=30.0),
    },
    # Reorganisations take effect on their date (dossiers/reorganisation.py); hourly, so a decision recorded for today
    # is applied within the hour.
    "reorganisations-apply": {"task": "dossiers.tasks.reorganisations_apply", "schedule": 3600.0},
}

# National public-service portal (Cổng Dịch vụ công quốc gia). The adapter in sync/national.py speaks its messages;
# `make run` and the tests point it at the local simulator (sync/simulator.py).
NATIONAL_PORTAL_ADAPTER = env.str("NATIONAL_PORTAL_ADAPTER", default="sync.national.JsonPortal")
NATIONAL_PORTAL_URL = env.str("NATIONAL_PORTAL_URL", default="http://127.0.0.1:8790")
NATIONAL_PORTAL_TOKEN = env.str("NATIONAL_PORTAL_TOKEN", default="dev-token")
NATIONAL_PORTAL_TIMEOUT = env.float("NATIONAL_PORTAL_TIMEOUT", default=10.0)
# Inbound updates from ministries' systems (sync/inbound.py): how far a request's X-Timestamp may be from our clock.
INBOUND_MAX_SKEW_SECONDS = env.int("INBOUND_MAX_SKEW_SECONDS", default=300)
OUTBOX_KICK_ENABLED = env.bool("OUTBOX_KICK_ENABLED", default=True)
OUTBOX_KICK_SECONDS = env.float("OUTBOX_KICK_SECONDS", default=1.0)
OUTBOX_BATCH = env.int("OUTBOX_BATCH", default=200)
# Retries: base * 2^(attempt-1) seconds, at most the cap, with jitter; after max attempts a message is "failed"
# (dead letter) until an administrator retries it from the sync monitor.
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=12)
OUTBOX_BACKOFF_BASE = env.float("OUTBOX_BACKOFF_BASE", default=5.0)
OUTBOX_BACKOFF_MAX = env.float("OUTBOX_BACKOFF_MAX", default=3600.0)
# One drain task works at most this long, then hands over to the next (keeps tasks short and fair).
OUTBOX_DRAIN_SECONDS = env.float("OUTBOX_DRAIN_SECONDS", default=30.0)
HEALTH_CELERY_TIMEOUT = env.float("HEALTH_CELERY_TIMEOUT", default=1.0)

# Online payment of fees (payments/gateway.py, docs/payments.md): a VNPAY-style gateway; `make run` and the tests
# point it at the local simulator (payments/gateway_simulator.py). Without a hash secret (the default outside
# DEBUG) no payment can start and no gateway message is accepted.
PAYMENT_GATEWAY_ADAPTER = env.str("PAYMENT_GATEWAY_ADAPTER", default="payments.gateway.VnpayGateway")
PAYMENT_GATEWAY_URL = env.str("PAYMENT_GATEWAY_URL", default="http://127.0.0.1:8792")  # where browsers go to pay
PAYMENT_GATEWAY_API_URL = env.str("PAYMENT_GATEWAY_API_URL", default="")  # server-to-server; empty: the same
PAYMENT_TMN_CODE = env.str("PAYMENT_TMN_CODE", default="AGDVC001")
PAYMENT_HASH_SECRET = env.str("PAYMENT_HASH_SECRET", default="" if not DEBUG else "dev-payment-secret")
PAYMENT_EXPIRE_MINUTES = env.int("PAYMENT_EXPIRE_MINUTES", default=15)
PAYMENT_GATEWAY_TIMEOUT = env.float("PAYMENT_GATEWAY_TIMEOUT", default=10.0)

# Email to applicants. The defaults point at the development mail catcher (core/mailcatcher.py, started by
# `make run`), which stores messages under .dev/mail instead of delivering them; tests use Django's memory backend.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="127.0.0.1")
EMAIL_PORT = env.int("EMAIL_PORT", default=8025)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"Dịch vụ công {PROVINCE_NAME} <no-reply@localhost>")
# Text messages to applicants: a dotted path to a class implementing core.sms.SmsBackend (the operator's gateway);
# the default only logs them (logger "sms"). Unaccented text fits 160 characters per SMS instead of 70.
SMS_BACKEND = env.str("SMS_BACKEND", default="core.sms.LoggingSmsBackend")
SMS_UNACCENT = env.bool("SMS_UNACCENT", default=True)
# Status-change messages (email and SMS): a worker is asked to send them right after the commit (the kick), the
# beat sweep catches the rest; failures are retried after base · 2^(attempt-1) seconds (at most the cap, with
# jitter) and marked failed after the maximum number of attempts. One task run sends at most the batch size.
CITIZEN_MESSAGES_KICK_ENABLED = env.bool("CITIZEN_MESSAGES_KICK_ENABLED", default=True)
CITIZEN_MESSAGES_MAX_ATTEMPTS = env.int("CITIZEN_MESSAGES_MAX_ATTEMPTS", default=8)
CITIZEN_MESSAGES_BACKOFF_BASE = env.float("CITIZEN_MESSAGES_BACKOFF_BASE", default=60.0)
CITIZEN_MESSAGES_BACKOFF_MAX = env.float("CITIZEN_MESSAGES_BACKOFF_MAX", default=6 * 3600.0)
CITIZEN_MESSAGES_BATCH = env.int("CITIZEN_MESSAGES_BATCH", default=100)

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
    # Citizens' single sign-on (citizens/oidc.py): only answers the /oidc/callback/ request.
    "citizens.oidc.CitizenOIDCBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Citizens' pages send anonymous visitors to the portal's sign-in; the back office (/mot-cua/dang-nhap/) and the
# administration (/quan-tri/) use their own sign-in pages, whatever this says.
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:home"
# Failed sign-ins (portal and back office alike): after this many failures for one user name, or from one client
# address, within the window (seconds, from the first failure), further attempts get HTTP 429 unchecked.
LOGIN_FAILURES_MAX = env.int("LOGIN_FAILURES_MAX", default=5)
LOGIN_FAILURES_MAX_PER_IP = env.int("LOGIN_FAILURES_MAX_PER_IP", default=20)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=900)

# Citizens' single sign-on with the national electronic identity (OpenID Connect, mozilla-django-oidc; see
# docs/identity.md). Every endpoint derives from OIDC_PROVIDER_URL (default: the local simulator,
# citizens/idp_simulator.py, which `make run` starts); each can be set on its own for a provider with other paths,
# or when browsers and this server reach the provider at different addresses (docker compose).
OIDC_PROVIDER_URL = env.str("OIDC_PROVIDER_URL", default="http://127.0.0.1:8791").rstrip("/")
OIDC_OP_ISSUER = env.str("OIDC_OP_ISSUER", default=OIDC_PROVIDER_URL)
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT", default=f"{OIDC_PROVIDER_URL}/authorize")
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT", default=f"{OIDC_PROVIDER_URL}/token")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT", default=f"{OIDC_PROVIDER_URL}/userinfo")
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT", default=f"{OIDC_PROVIDER_URL}/jwks")
# End-session endpoint the citizen is sent to on signing out (empty: sign out of the portal only).
OIDC_OP_LOGOUT_ENDPOINT = env.str("OIDC_OP_LOGOUT_ENDPOINT", default=f"{OIDC_PROVIDER_URL}/logout")
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="angiang-portal")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET", default="" if not DEBUG else "dev-oidc-secret")
OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid profile email phone")
OIDC_TOKEN_USE_BASIC_AUTH = env.bool("OIDC_TOKEN_USE_BASIC_AUTH", default=False)  # else client_secret_post
OIDC_USE_PKCE = env.bool("OIDC_USE_PKCE", default=True)
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=10.0)
OIDC_STORE_ID_TOKEN = True  # kept in the session for the provider's end-session request (id_token_hint)
OIDC_CALLBACK_CLASS = "portal.accounts.SignInCallbackView"
# Names of the claims the provider sends (the national provider's may differ from the simulator's).
OIDC_CLAIM_ID_NUMBER = env.str("OIDC_CLAIM_ID_NUMBER", default="so_dinh_danh")
OIDC_CLAIM_NAME = env.str("OIDC_CLAIM_NAME", default="name")
OIDC_CLAIM_BIRTH_DATE = env.str("OIDC_CLAIM_BIRTH_DATE", default="birthdate")
OIDC_CLAIM_PHONE = env.str("OIDC_CLAIM_PHONE", default="phone_number")
OIDC_CLAIM_EMAIL = env.str("OIDC_CLAIM_EMAIL", default="email")

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / ".dev" / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / ".dev" / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed names need `collectstatic`; tests and development serve the source files directly.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env.bool("DJANGO_STATIC_MANIFEST", default=not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Hệ thống thông tin giải quyết thủ tục hành chính tỉnh An Giang — API",
    "DESCRIPTION": "Procedures, agencies and dossiers of An Giang province.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ProcedureLevelEnum": "procedures.models.Procedure.Level",
        "AgencyLevelEnum": "organizations.models.Agency.Level",
        "ApplicantTypeEnum": "dossiers.models.ApplicantType",
    },
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"  # sessions read from Redis, written through to PostgreSQL
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "format": "time=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Per-step progress of PDF rendering and font subsetting, and one line per portal call, are noise at INFO.
    "loggers": {name: {"level": "WARNING"} for name in ("weasyprint", "fontTools", "httpx", "httpcore")},
}
