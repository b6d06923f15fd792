"""State that several portal instances share through one Redis when REDIS_URL is set, and keep in-process otherwise.

| what                     | embedded default (no REDIS_URL)          | with REDIS_URL                                |
|--------------------------|------------------------------------------|-----------------------------------------------|
| sessions                 | Flask's signed cookie                    | app/auth/server_session.py (id in the cookie) |
| registry client cache    | REGISTRY_CACHE: SQLite file or memory    | requests-cache's Redis backend                |
| registry circuit breaker | this process (registry_client/breaker.py)| Redis: one breaker for every instance         |
| rate limits (limits.py)  | this process                             | Redis                                         |

Every key starts with REDIS_KEY_PREFIX, so one Redis can serve several portals apart. Redis calls time out after
REDIS_TIMEOUT seconds, so a stuck Redis costs a request at most that, never a worker.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from app.registry_client.breaker import CircuitBreaker, MemoryBreakerStorage, RedisBreakerStorage
from app.registry_client.cache import redis_cache

EXTENSION = "redis"
REDIS_TIMEOUT = 1.0
# requests-cache keeps stale copies this long past their expiry (RegistryClient's stale_if_error default).
STALE_IF_ERROR_SECONDS = 86400


def redis_connection(app: Flask) -> Any | None:
    """Return the app's Redis client (one connection pool per app), or None when REDIS_URL is not set."""
    url = app.config.get("REDIS_URL") or ""
    if not url:
        return None
    if EXTENSION not in app.extensions:
        import redis

        app.extensions[EXTENSION] = redis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
        )
    return app.extensions[EXTENSION]


def key_prefix(app: Flask) -> str:
    """Return the prefix of every Redis key of this portal."""
    return str(app.config.get("REDIS_KEY_PREFIX") or "portal:")


def registry_breaker(app: Flask) -> CircuitBreaker:
    """Return the one circuit breaker that every registry client of this app shares."""
    connection = redis_connection(app)
    storage = (
        RedisBreakerStorage(connection, f"{key_prefix(app)}breaker:registry:")
        if connection is not None
        else MemoryBreakerStorage()
    )
    return CircuitBreaker(
        storage,
        failures=int(app.config["BREAKER_FAILURES"]),
        window=float(app.config["BREAKER_WINDOW_SECONDS"]),
        cooldown=float(app.config["BREAKER_COOLDOWN_SECONDS"]),
    )


def registry_cache_options(app: Flask, suffix: str) -> dict[str, Any]:
    """Return the cache arguments of one registry client (`suffix` tells its cache apart from the others')."""
    connection = redis_connection(app)
    if connection is not None:
        namespace = f"{key_prefix(app)}registry-cache{suffix}"
        return {"cache_backend": redis_cache(connection, namespace, STALE_IF_ERROR_SECONDS)}
    backend = app.config["REGISTRY_CACHE"]
    return {
        "cache_backend": backend,
        "cache_name": app.config["REGISTRY_CACHE_PATH"] + suffix if backend == "sqlite" else None,
    }


def init_shared_state(app: Flask) -> None:
    """Keep sessions in Redis when it is configured, and bind the rate limits to the right storage."""
    from app.limits import init_limits

    connection = redis_connection(app)
    if connection is not None:
        from app.auth.server_session import RedisSessionInterface

        app.session_interface = RedisSessionInterface(
            connection, key_prefix(app), int(app.config["SESSION_MAX_HOURS"]) * 3600
        )
        init_limits(
            app,
            app.config["REDIS_URL"],
            {
                "key_prefix": f"{key_prefix(app)}limits",
                "socket_timeout": REDIS_TIMEOUT,
                "socket_connect_timeout": REDIS_TIMEOUT,
            },
        )
    else:
        init_limits(app)
