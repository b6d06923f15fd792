"""HTTP transport to the registry: timeouts, bounded retries, ETag caching with stale-if-error, one error type.

This is the only module of the portal that speaks HTTP to the registry. Freshness comes from the registry's own
`Cache-Control` (requests-cache with `cache_control=True`); expired entries are revalidated with `If-None-Match`.
When the registry fails (network error, timeout, 5xx, 429, a broken body) a cached copy up to `stale_if_error`
seconds past its expiry is served instead, and `served_stale()` tells the page to say so.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from threading import RLock
from types import TracebackType
from typing import Any, Final, Literal, Self
from urllib.parse import urlsplit

import requests
import requests_cache
import urllib3
from requests.adapters import HTTPAdapter
from requests_cache.backends.base import BaseCache, DictStorage
from requests_cache.backends.sqlite import SQLiteCache
from urllib3.util.retry import Retry

from .errors import RegistryError, clean_detail, error_for_status

logger = logging.getLogger(__name__)

# gunicorn kills a worker after 30 s; one registry call, retries included, must end well before that.
WORKER_TIMEOUT_SECONDS: Final = 30.0
DEFAULT_USER_AGENT: Final = "lv-eservices-portal (registry client)"
BACKOFF_FACTOR: Final = 0.2
BACKOFF_JITTER: Final = 0.1
BACKOFF_MAX: Final = 1.0
RETRY_STATUSES: Final = (502, 503, 504)
IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD"})
SQLITE_LOCK_WAIT: Final = 0.5

request_id: ContextVar[str | None] = ContextVar("registry_request_id", default=None)
"""The id of the portal request being served; sent as X-Request-ID so registry logs can be joined to the portal's."""

_served_stale: ContextVar[bool] = ContextVar("registry_served_stale", default=False)

# A request id may come from an incoming header: only a plain token is forwarded, anything else gets a fresh id.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Paths are relative to the base URL and made of plain segments: no scheme, host, "..", query, "%" or backslash.
_SAFE_PATH = re.compile(r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*(?:/[A-Za-z0-9._~-]+)*")
_JSON_MEDIA_TYPE = re.compile(r"application/(?:[a-z0-9.+-]+\+)?json", re.IGNORECASE)


def served_stale() -> bool:
    """Return True if a registry answer in this context came from a stale copy because the registry failed."""
    return _served_stale.get()


def reset_stale() -> None:
    """Forget earlier stale answers; call at the start of every portal request (worker threads are reused)."""
    _served_stale.set(False)


def current_request_id() -> str:
    """Return the request id to send: the context's if it is a safe token, else a fresh uuid4 hex."""
    value = request_id.get()
    return value if value is not None and _SAFE_REQUEST_ID.fullmatch(value) else uuid.uuid4().hex


class _BoundedDictStorage(DictStorage):
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


def _make_cache(
    backend: Literal["memory", "sqlite"] | BaseCache, name: str | Path | None, max_entries: int
) -> BaseCache:
    """Return the requests-cache backend for the client's settings."""
    if isinstance(backend, BaseCache):
        return backend
    if backend == "memory":
        cache = BaseCache(cache_name="registry")
        cache.responses = _BoundedDictStorage(max_entries)
        return cache
    if backend == "sqlite":
        if name is None:
            raise ValueError("the sqlite registry cache needs cache_name (a file path)")
        # JSON rather than pickle, so a tampered cache file cannot run code; WAL, so gunicorn workers can share it;
        # a short lock wait (sqlite's default is 5 s), since a busy cache only costs a fall back to the stale copy.
        return SQLiteCache(db_path=name, serializer="json", wal=True, timeout=SQLITE_LOCK_WAIT)
    raise ValueError(f"unknown cache backend {backend!r}: use 'memory', 'sqlite' or a requests-cache backend")


def _retry_policy(retries: int, max_retry_after: float) -> Retry:
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


def _may_serve_stale(error: RegistryError) -> bool:
    """Return True if `error` is a failure of the registry rather than an answer about the resource."""
    # A 404 or 410 is the registry's real answer (a withdrawn service must disappear), and other 4xx mean the
    # request is wrong; only outages, overload (408, 429), 5xx, redirects and broken bodies fall back to a copy.
    return error.status is None or error.status in (408, 429) or not 400 <= error.status < 500


class RegistryClient:
    """Talks to one registry over HTTP with timeouts, bounded retries, caching and one error type."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: tuple[float, float] = (2.0, 5.0),
        retries: int = 2,
        cache_backend: Literal["memory", "sqlite"] | BaseCache = "memory",
        cache_name: str | Path | None = None,
        cache_max_entries: int = 2000,
        stale_if_error: int = 86400,
        max_retry_after: float = 2.0,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        """Configure the client for the registry at `base_url` (e.g. http://127.0.0.1:5001); paths are under it."""
        self.base_url = _normalise_base_url(base_url)
        connect, read = timeout
        if connect <= 0 or read <= 0 or retries < 0 or max_retry_after < 0 or stale_if_error < 0:
            raise ValueError("timeouts must be positive; retries, max_retry_after and stale_if_error not negative")
        if cache_max_entries < 1:
            raise ValueError("cache_max_entries must be at least 1")
        self.timeout = (float(connect), float(read))
        self.retries = retries
        self.max_retry_after = max_retry_after
        self.stale_if_error = stale_if_error
        if self.worst_case_seconds >= WORKER_TIMEOUT_SECONDS:
            raise ValueError(
                f"a registry call could take {self.worst_case_seconds:.1f} s, over the "
                f"{WORKER_TIMEOUT_SECONDS:.0f} s worker timeout: lower the timeouts or the retries"
            )

        adapter = HTTPAdapter(max_retries=_retry_policy(retries, max_retry_after))
        self._session = requests_cache.CachedSession(
            backend=_make_cache(cache_backend, cache_name, cache_max_entries),
            # The registry's Cache-Control decides freshness; an answer without any is kept only if it has an
            # ETag, and then revalidated on every use (expire_after=0), never cached forever (the default).
            cache_control=True,
            expire_after=0,
            allowable_codes=(200,),
            allowable_methods=("GET",),
            filter_fn=_is_shareable,
            # Stale-if-error is done by get_json, not requests-cache: requests-cache would also serve the old
            # copy over a 404/410 (a withdrawn service would stay visible) and does not tell which error it hid.
            stale_if_error=False,
            # Off: a background refresh thread per request in a gunicorn worker, without the request's
            # context, and "from cache and expired" would no longer mean "the registry failed".
            stale_while_revalidate=False,
        )
        # Requests carrying a person's token never touch the cache, not even to read or evict an entry.
        self._private_session = requests.Session()
        for session in (self._session, self._private_session):
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers.update({"User-Agent": user_agent, "Accept": "application/json"})
            # No proxies, CA bundles or ~/.netrc credentials from the environment: the client talks only to the
            # configured registry, and .netrc could add an Authorization header to cached requests.
            session.trust_env = False

    @property
    def worst_case_seconds(self) -> float:
        """Return the longest one call can take: every attempt timing out plus the longest wait between them."""
        connect, read = self.timeout
        return (self.retries + 1) * (connect + read) + self.retries * max(self.max_retry_after, BACKOFF_MAX)

    def get_json(
        self, path: str, params: Mapping[str, str | int | None] | None = None, *, token: str | None = None
    ) -> Any:
        """Return the parsed JSON at `path` under the base URL; raise RegistryError (or RegistryNotFound) on failure."""
        url = self.base_url + _checked_path(path)
        query = {key: value for key, value in (params or {}).items() if value is not None}
        headers = {"X-Request-ID": current_request_id()}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
            return self._decode(self._send(self._private_session, url, query, headers), cached=False)
        try:
            return self._decode(self._send(self._session, url, query, headers), cached=True)
        except RegistryError as error:
            if not _may_serve_stale(error) or (stale := self._stale_copy(url, query, headers)) is None:
                raise
            logger.warning("registry GET %s failed (%s); serving a cached copy", path, error)
            return self._decode(stale, cached=True)

    def get_object(self, path: str, params: Mapping[str, str | int | None] | None = None) -> dict[str, Any]:
        """Return the JSON object at `path`; any other JSON value is a RegistryError."""
        data = self.get_json(path, params)
        if not isinstance(data, dict):
            raise RegistryError(f"expected a JSON object from {path}, got {type(data).__name__}", status=200)
        return data

    def close(self) -> None:
        """Close the connection pools and the cache backend."""
        self._session.close()  # type: ignore[no-untyped-call]
        self._private_session.close()

    def __enter__(self) -> Self:
        """Return the client itself, for use in a with statement."""
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        """Close the client at the end of a with statement."""
        self.close()

    def _send(
        self, session: requests.Session, url: str, query: Mapping[str, str | int], headers: dict[str, str]
    ) -> requests.Response:
        """Send one GET (retries happen inside urllib3) and map transport failures to RegistryError."""
        try:
            return session.get(url, params=query, headers=headers, timeout=self.timeout, allow_redirects=False)
        except (requests.Timeout, requests.ConnectionError) as error:
            raise RegistryError(
                "the registry did not answer in time" if _timed_out(error) else "cannot reach the registry"
            ) from error
        except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
            raise RegistryError(f"broken answer from the registry: {type(error).__name__}") from error
        except Exception as error:
            # A failing cache backend (a locked or corrupt SQLite file) must become the same clear error page.
            raise RegistryError(f"registry client failure: {type(error).__name__}") from error

    def _decode(self, response: requests.Response, *, cached: bool) -> Any:
        """Return the JSON body of a 200 answer, or raise the error that the answer means."""
        if response.status_code != 200:
            raise error_for_status(response.status_code, response.headers.get("Content-Type", ""), response.content)
        content_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip()
        try:
            if not _JSON_MEDIA_TYPE.fullmatch(content_type):
                raise ValueError(f"Content-Type {content_type!r}")
            data = json.loads(response.content)
        except ValueError as error:
            if cached:
                self._forget(response.request)
            raise RegistryError(f"malformed JSON from the registry: {clean_detail(str(error))}", status=200) from error
        if getattr(response, "from_cache", False) and getattr(response, "is_expired", False):
            _served_stale.set(True)
        return data

    def _stale_copy(
        self, url: str, query: Mapping[str, str | int], headers: dict[str, str]
    ) -> requests.Response | None:
        """Return the cached answer to a failed GET if it expired less than `stale_if_error` seconds ago."""
        if not self.stale_if_error:
            return None
        try:
            # only-if-cached never touches the network; stale-if-error sets how stale a copy may be served.
            response = self._session.get(
                url,
                params=query,
                headers={**headers, "Cache-Control": f"stale-if-error={self.stale_if_error}"},
                timeout=self.timeout,
                allow_redirects=False,
                only_if_cached=True,
            )
        except Exception:
            logger.warning("registry cache unreadable", exc_info=True)
            return None
        # requests-cache answers 504 "Not Cached" when it holds no copy fit to serve.
        return response if getattr(response, "from_cache", False) and response.status_code == 200 else None

    def _forget(self, request: requests.PreparedRequest) -> None:
        """Drop the cached answer to `request`, so a body that cannot be read is neither served nor fallen back to."""
        try:
            self._session.cache.delete(requests=[request])
        except Exception:
            logger.warning("registry cache entry could not be dropped", exc_info=True)


def _timed_out(error: requests.RequestException) -> bool:
    """Return True if `error` is a timeout, including one that ended urllib3's retries."""
    # requests reports "retries exhausted by read timeouts" as a ConnectionError wrapping MaxRetryError; urllib3
    # counts a refused connection (NewConnectionError) as a kind of connect timeout, which it is not.
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(error, requests.Timeout) or (
        isinstance(reason, urllib3.exceptions.TimeoutError)
        and not isinstance(reason, urllib3.exceptions.NewConnectionError)
    )


def _is_shareable(response: requests.Response) -> bool:
    """Return False for answers that must not sit in a cache shared by everybody (personal or private data)."""
    # requests-cache also runs this on the final answer and deletes the entry when it says False: error answers
    # (which are never stored, and carry `no-store`) must not evict the copy that stale-if-error falls back to.
    if response.status_code != 200:
        return True
    if "Authorization" in response.request.headers:
        return False
    directives = {part.strip().lower() for part in response.headers.get("Cache-Control", "").split(",")}
    return "private" not in directives


def _normalise_base_url(base_url: str) -> str:
    """Return `base_url` ending in exactly one slash, refusing anything but a plain http(s) URL."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"the registry URL must be a plain http(s) URL, not {base_url!r}")
    if parts.username or parts.password:
        raise ValueError("the registry URL must not carry credentials")
    return base_url.rstrip("/") + "/"


def _checked_path(path: str) -> str:
    """Return `path` if it stays under the base URL, else raise ValueError."""
    if not _SAFE_PATH.fullmatch(path) or any(segment in (".", "..") for segment in path.split("/")):
        raise ValueError(f"registry paths are relative and stay under the base URL, not {path!r}")
    return path
