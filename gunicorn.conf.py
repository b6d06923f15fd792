"""gunicorn settings of the portal: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every value comes from the environment (the table in docs/operations.md); the defaults suit `make run` on one
machine. The master imports nothing of the portal, so `kill -HUP` reloads the code; it checks the settings in a
separate process before any worker starts, so a refused setting stops gunicorn with one line.
"""

import os

from envconfig.gunicorn import ACCESS_LOG_FORMAT, PrivateAccessLogger, settings_check


def _number(name: str, default: int, minimum: int = 0) -> int:
    """Return the whole number in environment variable `name`, or `default`."""
    raw = os.environ.get(name, "").strip() or str(default)
    if not raw.isdigit() or int(raw) < minimum:
        raise RuntimeError(f"{name} must be a whole number of at least {minimum}, not {raw!r}")
    return int(raw)


# PORTAL_BIND: one or more comma-separated addresses (host:port, unix:/path); behind a load balancer, e.g. 0.0.0.0:5000.
bind = [part.strip() for part in os.environ.get("PORTAL_BIND", "").split(",") if part.strip()] or [
    f"127.0.0.1:{os.environ.get('PORT', '5000')}"
]
# Threads: browsers open spare keep-alive connections, and a page waits on the registry; neither should hold a whole
# worker. Workers x threads requests run at once; 2 x CPU cores workers is a good start.
worker_class = "gthread"
workers = _number("PORTAL_WORKERS", 2, minimum=1)
threads = _number("PORTAL_THREADS", 4, minimum=1)
# A request may take this long before its worker is killed. A registry read takes at most (2 + 5) s x 3 attempts
# plus backoff (app/config.py REGISTRY_TIMEOUT, REGISTRY_RETRIES): below 30, so the person gets the "registry
# unavailable" page rather than a dropped connection.
timeout = _number("PORTAL_WORKER_TIMEOUT", 30, minimum=1)
# On SIGTERM or a reload, requests in progress get this long to finish (uploads included).
graceful_timeout = _number("PORTAL_GRACEFUL_TIMEOUT", 30)
# Seconds an idle keep-alive connection stays open: above the load balancer's idle timeout, or it may reuse a
# connection gunicorn has just closed (a 502).
keepalive = _number("PORTAL_KEEPALIVE", 5)
# Restart a worker after this many requests (with up to 10 % jitter, so they do not all restart at once); 0: never.
max_requests = _number("PORTAL_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
# Off by default: the registry cache opens its SQLite file when the app is built, and a connection must not cross a
# fork. Preloading also stops `kill -HUP` from loading new code.
preload_app = os.environ.get("PORTAL_PRELOAD", "false").strip().lower() == "true"
# Workers' heartbeat files: on tmpfs (/dev/shm) a slow or full disk cannot make gunicorn think a worker hung.
worker_tmp_dir = os.environ.get("PORTAL_WORKER_TMP_DIR") or ("/dev/shm" if os.path.isdir("/dev/shm") else None)  # noqa: S108  # nosec B108
# gunicorn itself believes X-Forwarded-Proto only from these addresses. The portal reads the client's address and
# scheme through TRUSTED_PROXY_HOPS (werkzeug ProxyFix, app/config.py), so this may stay at gunicorn's default.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Sizes: the request line (a search is at most 200 characters, 1,200 bytes percent-encoded) and headers (the session
# cookie stays under the browsers' 4 KB). Bodies are limited by the app: MAX_CONTENT_LENGTH, 50 MB, the largest page
# with uploads; the load balancer must accept at least that (e.g. nginx client_max_body_size 50m).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# Access log: no client address, no query string (searches, `next`), no referrer or user agent; the path with
# control characters escaped and verification codes hidden (PrivateAccessLogger). "-" is stderr; empty: off.
accesslog = os.environ.get("PORTAL_ACCESS_LOG", "-") or None
access_log_format = ACCESS_LOG_FORMAT
errorlog = "-"
loglevel = os.environ.get("PORTAL_LOG_LEVEL", "info")
proc_name = "portal"
# A control socket would be created under ~/.gunicorn; nothing uses it.
control_socket_disable = True

logger_class = PrivateAccessLogger

# Refuse to start with settings production refuses, checked before any worker starts (envconfig/gunicorn.py).
on_starting = settings_check("app.config")
