"""Django settings, every value from the environment (see the README's table)."""

from __future__ import annotations

from pathlib import Path

from environment.config import (
    BASE_DIR,
    STORAGE_DIR,
    ConfigError,
    database_config,
    default_database_url,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
    load_dotenv_file,
)

load_dotenv_file()

DEBUG = env_bool("DEBUG", True)

_DEV_SECRET = "dev-only-insecure-key-set-SECRET_KEY-in-production"
SECRET_KEY = env_str("SECRET_KEY") or (_DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ConfigError("SECRET_KEY is not set and DEBUG is false: set SECRET_KEY to a long random string")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",  # must come first: it takes over runserver with an ASGI server
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "environment.apps.StaticFilesConfig",  # django.contrib.staticfiles, skipping unused Phaser builds
    "channels",
    "django_celery_results",
    "environment",
    "environment.llmlog",
    "environment.vectors",
    "reverie",
    "writer",
    "training",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, which answers static files without calling what follows it.
    "environment.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "environment.urls"
WSGI_APPLICATION = "environment.wsgi.application"
ASGI_APPLICATION = "environment.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- Database -----------------------------------------------------------------
STORAGE_DIR.mkdir(exist_ok=True)
DATABASE_URL = env_str("DATABASE_URL") or default_database_url()
DATABASES = {"default": database_config(DATABASE_URL)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file-backed test database: Channels' live-server tests and worker
    # subprocesses need to see the same data as the test process.
    DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME") or str(STORAGE_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer and Celery broker -----------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    # One process only: fine for the embedded default, where the runner lives
    # inside the web server process.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Without Redis, Celery still runs real workers on one machine through kombu's
# SQLAlchemy transport on a SQLite file.
CELERY_BROKER_URL = (
    env_str("CELERY_BROKER_URL") or REDIS_URL or (f"sqla+sqlite:///{STORAGE_DIR / 'celery-broker.sqlite3'}")
)
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or "django-db"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_TRACK_STARTED = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Language models (the llm/ gateway) ---------------------------------------
LLM_MODEL = env_str("LLM_MODEL") or "llama_cpp:bundled"
LLM_BASE_URL = env_str("LLM_BASE_URL")
LLM_API_KEY = env_str("LLM_API_KEY")
LLM_TIMEOUT = env_float("LLM_TIMEOUT", 120.0)
LLM_CONCURRENCY = env_int("LLM_CONCURRENCY", 0)  # 0: the backend's own default
LLM_CACHE = env_str("LLM_CACHE") or "auto"  # auto (temperature 0) | all | off
LLM_TRACE_RETENTION_DAYS = env_int("LLM_TRACE_RETENTION_DAYS", 30)
# Seconds of mostly failing calls before a run waits for the model server (llm.breaker).
LLM_OUTAGE_SECONDS = env_float("LLM_OUTAGE_SECONDS", 60.0)
# First backoff between retries, doubling per attempt of the same fault kind (llm.retry).
LLM_RETRY_BASE_DELAY = env_float("LLM_RETRY_BASE_DELAY", 0.5)
EMBEDDING_MODEL = env_str("EMBEDDING_MODEL") or "sentence_transformers:bundled"
EMBEDDING_BASE_URL = env_str("EMBEDDING_BASE_URL") or LLM_BASE_URL
VECTOR_DIM = env_int("VECTOR_DIM", 384)
# pgvector HNSW search breadth: 100 gives recall@10 ~1.0 at 100k rows; ~800 is
# needed near 1M rows for >= 0.95 (see docs/benchmarks.md).
VECTOR_HNSW_EF_SEARCH = env_int("VECTOR_HNSW_EF_SEARCH", 100)
# Owners with fewer rows than this are searched exactly on PostgreSQL (filtered HNSW
# scans lose recall on small owners and are no faster there).
VECTOR_PG_EXACT_BELOW = env_int("VECTOR_PG_EXACT_BELOW", 10_000)
if LLM_CACHE not in {"auto", "all", "off"}:
    raise ConfigError(f"LLM_CACHE={LLM_CACHE!r}: use auto, all or off")

# --- Runs started from the pages (environment.runs: Smallville's and every LeasedRun) ---
# "thread": the web server process runs the simulation in a background thread (one
# machine, no worker needed). "celery": a Celery worker runs it; live updates then
# need REDIS_URL so the worker's frames reach the web server's websockets.
SIM_RUNNER = env_str("SIM_RUNNER") or "thread"
if SIM_RUNNER not in {"thread", "celery"}:
    raise ConfigError(f"SIM_RUNNER={SIM_RUNNER!r}: use thread or celery")
# A runner that has not been heard from for this long is presumed dead; its run can be taken over.
SIM_RUNNER_LEASE_SECONDS = env_int("SIM_RUNNER_LEASE_SECONDS", 90)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# --- Cache and sign-in throttling ------------------------------------------------
# The cache holds failed sign-in counts (environment/auth.py). Per process without
# Redis (the one-process default); shared by every web process with it.
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
AUTHENTICATION_BACKENDS = ["environment.auth.ThrottledModelBackend"]
# This many wrong passwords for one username from one address within
# LOGIN_LOCKOUT_SECONDS lock that pair for LOGIN_LOCKOUT_SECONDS (0 turns it off).
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 15 * 60)

# --- Static files, i18n -------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
# collectstatic writes content-hashed copies (site.3f2a….css) plus .gz and .br files;
# with DEBUG=false WhiteNoise serves them compressed and cached for a year. With
# DEBUG=true `{% static %}` gives the plain names and WhiteNoise finds the files through
# the finders, so nothing needs collecting during development.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
STATICFILES_DIRS: list[object] = [BASE_DIR / "static_dirs"]
if (BASE_DIR / "node_modules" / "phaser" / "dist").is_dir():
    # npm packages are served as static files (no CDN): /static/vendor/phaser/phaser.min.js
    STATICFILES_DIRS.append(("vendor/phaser", BASE_DIR / "node_modules" / "phaser" / "dist"))
# Web fonts for Chinese and emoji (css/fonts.css, unicode-range subsets, issue 13):
# /static/vendor/fonts/noto-sans-sc/noto-sans-sc-0-400-normal.woff2, .../twemoji/twemoji.woff2
for _prefix, _folder in (("noto-sans-sc", "@fontsource/noto-sans-sc/files"), ("twemoji", "twemoji-colr-font")):
    if (BASE_DIR / "node_modules" / _folder).is_dir():
        STATICFILES_DIRS.append((f"vendor/fonts/{_prefix}", BASE_DIR / "node_modules" / _folder))
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Security: production values come on with DEBUG=false ---------------------
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy on every response (environment/csp.py; Django 6's built-in
# CSP reads the same setting). No inline script, handlers or style attributes anywhere.
# img-src: the favicon and Phaser's built-in textures are data: URIs and Phaser loads
# images as blob: URLs (without either, tests/e2e/test_csp.py sees violations); the
# websocket's ws:/wss: origin is added per request to connect-src.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "blob:"],
    "connect-src": ["'self'"],
    "font-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL") or "WARNING"},
}
