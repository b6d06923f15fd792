"""The registry client's HTTP cache: where answers are kept, which may be kept, and how GETs are retried.

requests-cache stores the answers; this module chooses its backend (a bounded in-memory LRU for tests and single
processes, a SQLite file that gunicorn workers share, or Redis for several portal instances), refuses to store
anything personal, and sets urllib3's retry policy for the cached GETs.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from threading import RLock
from typing import Any, Final, Literal

import requests
from requests_cache.backends.base import BaseCache, DictStorage
from requests_cache.backends.redis import RedisCache, RedisDict
from requests_cache.backends.sqlite import SQLiteCache
from urllib3.util.retry import Retry

BACKOFF_FACTOR: Final = 0.2
BACKOFF_JITTER: Final = 0.1
BACKOFF_MAX: Final = 1.0
RETRY_STATUSES: Final = (502, 503, 504)
IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD"})
SQLITE_LOCK_WAIT: Final = 0.5


class BoundedDictStorage(DictStorage):
    """In-memory response storage that forgets the least recently used entries beyond `max_entries`."""

    # requests-cache's memory backend is a plain dict that never forgets: every distinct search would stay in a
    # long-lived worker's memory for good.

    def __init__(self, max_entries: int) -> None:
        """Create an empty storage holding at most `max_entries` responses."""
        super().__init__()  # type: ignore[no-untyped-call]  # requests-cache leaves this one unannotated
        self._max_entries = max_entries
        self._lock = RLock()

    def __getitem__(self, key: str) -> Any:
        """Return the entry for `key` and mark it as recently used."""
        with self._lock:
            item = super().__getitem__(key)  # type: ignore[no-untyped-call]
            # Dicts keep insertion order, so re-inserting moves the key to the "recently used" end.
            self.data[key] = self.data.pop(key)
            return item

    def __setitem__(self, key: str, value: Any) -> None:
        """Store `value` under `key`, dropping the least recently used entries over the limit."""
        with self._lock:
            self.data.pop(key, None)
            self.data[key] = value
            while len(self.data) > self._max_entries:
                del self.data[next(iter(self.data))]

    def __delitem__(self, key: str) -> None:
        """Remove the entry for `key`."""
        with self._lock:
            del self.data[key]


def make_cache(
    backend: Literal["memory", "sqlite"] | BaseCache, name: str | Path | None, max_entries: int
) -> BaseCache:
    """Return the requests-cache backend for the client's settings."""
    if isinstance(backend, BaseCache):
        return backend
    if backend == "memory":
        cache = BaseCache(cache_name="registry")
        cache.responses = BoundedDictStorage(max_entries)
        return cache
    if backend == "sqlite":
        if name is None:
            raise ValueError("the sqlite registry cache needs cache_name (a file path)")
        # JSON rather than pickle, so a tampered cache file cannot run code; WAL, so gunicorn workers can share it;
        # a short lock wait (sqlite's default is 5 s), since a busy cache only costs a fall back to the stale copy.
        return SQLiteCache(db_path=name, serializer="json", wal=True, timeout=SQLITE_LOCK_WAIT)
    raise ValueError(f"unknown cache backend {backend!r}: use 'memory', 'sqlite' or a requests-cache backend")


class ExpiringRedisDict(RedisDict):
    """requests-cache's Redis storage, writing with SET ... EX (redis-py deprecates the SETEX it uses)."""

    def __setitem__(self, key: str, item: Any) -> None:
        """Store `item`, forgotten `ttl_offset` seconds after it expires (at once if that is already past)."""
        expires_delta = getattr(item, "expires_delta", None)
        ttl = None if expires_delta is None else int(expires_delta + self.ttl_offset)
        if ttl is not None and ttl <= 0:
            self.connection.delete(self._bkey(key))
            return
        self.connection.set(self._bkey(key), self.serialize(item), ex=ttl)


def redis_cache(connection: Any, namespace: str, stale_if_error: int) -> RedisCache:
    """Return a requests-cache backend in Redis under `namespace`, shared by every portal instance.

    JSON rather than pickle, as for SQLite: whoever can write to Redis must not be able to run code in the portal.
    Redis forgets an entry `stale_if_error` seconds after it expires, when it could no longer be served anyway.
    """
    cache = RedisCache(namespace=namespace, connection=connection)
    cache.responses = ExpiringRedisDict(
        namespace, connection=connection, serializer="json", ttl=True, ttl_offset=max(1, stale_if_error)
    )
    return cache


def retry_policy(retries: int, max_retry_after: float) -> Retry:
    """Return the urllib3 retry policy: GET and HEAD only, bounded backoff with jitter, capped Retry-After."""
    supported = inspect.signature(Retry.__init__).parameters
    options: dict[str, Any] = {}
    if "backoff_jitter" in supported:  # urllib3 >= 2.0
        options["backoff_jitter"] = BACKOFF_JITTER
    # Without urllib3's cap a "Retry-After: 3600" would hold the worker for an hour, so Retry-After is only
    # honoured where it can be capped; otherwise the ordinary (bounded) backoff applies.
    respect_retry_after = "retry_after_max" in supported
    if respect_retry_after:
        options["retry_after_max"] = max_retry_after
    return Retry(
        total=retries,
        backoff_factor=BACKOFF_FACTOR,
        backoff_max=BACKOFF_MAX,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=IDEMPOTENT_METHODS,
        respect_retry_after_header=respect_retry_after,
        raise_on_status=False,
        **options,
    )


def is_shareable(response: requests.Response) -> bool:
    """Return False for answers that must not sit in a cache shared by everybody (personal or private data)."""
    # requests-cache also runs this on the final answer and deletes the entry when it says False: error answers
    # (which are never stored, and carry `no-store`) must not evict the copy that stale-if-error falls back to.
    if response.status_code != 200:
        return True
    if "Authorization" in response.request.headers:
        return False
    directives = {part.strip().lower() for part in response.headers.get("Cache-Control", "").split(",")}
    return "private" not in directives
