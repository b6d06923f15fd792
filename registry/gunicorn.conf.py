"""gunicorn settings of the registry: `gunicorn -c registry/gunicorn.conf.py registry.wsgi:app`.

Every value comes from the environment (the table in docs/operations.md); the defaults suit `make run` on one
machine. Like the portal's, this file is self-contained (the registry is deployed without the portal): the master
imports nothing of the registry, and checks the settings in a separate process before any worker starts.
"""

import os

from envconfig.gunicorn import ACCESS_LOG_FORMAT, PrivateAccessLogger, settings_check

# registry/models/idempotency.py CLAIM_LEASE: a claim older than this is taken to belong to a dead worker, so no
# request may live that long. gunicorn kills a worker at `timeout`; keep it well below.
IDEMPOTENCY_CLAIM_LEASE = 120


def _number(name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
    """Return the whole number in environment variable `name`, or `default`."""
    raw = os.environ.get(name, "").strip() or str(default)
    if not raw.isdigit() or int(raw) < minimum or (maximum is not None and int(raw) > maximum):
        bounds = f"{minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
        raise RuntimeError(f"{name} must be a whole number, {bounds}, not {raw!r}")
    return int(raw)


# REGISTRY_BIND: comma-separated addresses (host:port, unix:/path); behind a load balancer, e.g. 0.0.0.0:5001.
bind = [part.strip() for part in os.environ.get("REGISTRY_BIND", "").split(",") if part.strip()] or [
    f"127.0.0.1:{os.environ.get('REGISTRY_PORT', '5001')}"
]
# Sync workers (one request each; PostgreSQL connections are per worker). REGISTRY_THREADS above 1 makes gunicorn
# use threaded workers instead. Workers x threads must stay below the database's connection limit over all machines.
workers = _number("REGISTRY_WORKERS", 2, minimum=1)
threads = _number("REGISTRY_THREADS", 1, minimum=1)
# A request may take this long before its worker is killed: 30 s, a quarter of IDEMPOTENCY_CLAIM_LEASE; at most half.
timeout = _number("REGISTRY_WORKER_TIMEOUT", 30, minimum=1, maximum=IDEMPOTENCY_CLAIM_LEASE // 2)
graceful_timeout = _number("REGISTRY_GRACEFUL_TIMEOUT", 30)
keepalive = _number("REGISTRY_KEEPALIVE", 5)
max_requests = _number("REGISTRY_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
# Preloading shares the imported code between workers (less memory); the database engine connects lazily, so no
# connection crosses the fork. Off by default so that `kill -HUP` loads new code. registry/wsgi.py starts the
# notification delivery thread when it is imported: preloaded, that would be in the master, and a thread does not
# survive a fork; so preloading needs REGISTRY_OUTBOX_WORKER=off (and `flask --app registry send-notifications --loop`).
preload_app = os.environ.get("REGISTRY_PRELOAD", "false").strip().lower() == "true"
if preload_app and os.environ.get("REGISTRY_OUTBOX_WORKER", "thread").strip().lower() == "thread":
    raise RuntimeError("REGISTRY_PRELOAD=true needs REGISTRY_OUTBOX_WORKER=off: no delivery thread in the master")
# Workers' heartbeat files on tmpfs: a slow disk cannot make gunicorn think a worker hung.
worker_tmp_dir = os.environ.get("REGISTRY_WORKER_TMP_DIR") or ("/dev/shm" if os.path.isdir("/dev/shm") else None)  # noqa: S108  # nosec B108
# The app reads forwarded headers through REGISTRY_TRUSTED_PROXY_HOPS (ProxyFix); this is gunicorn's own list.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Request lines over 8 KB are refused by gunicorn itself with 414; shorter over-long searches get a 400 problem.
# Bodies are limited by the app: REGISTRY_MAX_BODY_BYTES (2 MB) and, for uploads, REGISTRY_MAX_FILE_BYTES (20 MB);
# a proxy in front must accept the larger.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# Access log: no client address, no query string (searches, file names), no referrer or user agent; the path with
# control characters escaped and verification codes hidden. "-" is stderr; empty: off.
accesslog = os.environ.get("REGISTRY_ACCESS_LOG", "-") or None
access_log_format = ACCESS_LOG_FORMAT
errorlog = "-"
loglevel = os.environ.get("REGISTRY_LOG_LEVEL", "info")
proc_name = "registry"
# A control socket would be created under ~/.gunicorn; the registry does not use it.
control_socket_disable = True

logger_class = PrivateAccessLogger

# Refuse to start with settings production refuses, checked before any worker starts (envconfig/gunicorn.py).
on_starting = settings_check("registry.config")
