"""HTTP transport to the registry: timeouts, bounded retries, ETag caching with stale-if-error, one error type.

This is the only module of the portal that speaks HTTP to the registry. Freshness comes from the registry's own
`Cache-Control` (requests-cache with `cache_control=True`); expired entries are revalidated with `If-None-Match`.
When the registry fails (network error, timeout, 5xx, 429, a broken body) a cached copy up to `stale_if_error`
seconds past its expiry is served instead, and `served_stale()` tells the page to say so.

Writes and personal reads (`send_json`, `get_json(token=...)`) never touch the cache. They are retried by this
module, not by urllib3, because whether a retry is safe depends on the request: GET, PUT and DELETE are idempotent;
a POST is sent once unless it carries an Idempotency-Key, which makes the registry answer a repeat with the stored
response (and 409 while the first one is still being processed, which is waited out).

With a circuit breaker (breaker.py), a registry that keeps failing is left alone for a cool-down: reads fall back to
their stale copies and everything else fails fast, without waiting for timeouts. Each call counts once, whatever
its retries; an answer from the cache alone tells the breaker nothing.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal, Self
from urllib.parse import urlsplit

import requests
import requests_cache
import urllib3
from requests.adapters import HTTPAdapter
from requests_cache.backends.base import BaseCache
from urllib3.util.retry import Retry

from .breaker import CircuitBreaker, Permit
from .cache import BACKOFF_FACTOR, BACKOFF_JITTER, BACKOFF_MAX, RETRY_STATUSES, is_shareable, make_cache, retry_policy
from .errors import RegistryError, clean_detail, error_for_status

logger = logging.getLogger(__name__)

# gunicorn kills a worker after 30 s; one registry call, retries included, must end well before that.
WORKER_TIMEOUT_SECONDS: Final = 30.0
DEFAULT_USER_AGENT: Final = "lv-eservices-portal (registry client)"
# send_json: the methods it sends, and those a retry cannot apply twice (a POST only with an Idempotency-Key).
SEND_METHODS: Final = frozenset({"GET", "POST", "PUT", "DELETE"})
RETRYABLE_METHODS: Final = frozenset({"GET", "PUT", "DELETE"})
# How long to wait before asking again about a keyed POST that the registry is still processing (409), when its
# Retry-After says nothing usable; never less than IN_FLIGHT_MIN_WAIT, so a "Retry-After: 0" cannot spin.
IN_FLIGHT_WAIT: Final = 1.0
IN_FLIGHT_MIN_WAIT: Final = 0.2
MAX_IDEMPOTENCY_KEY: Final = 200

request_id: ContextVar[str | None] = ContextVar("registry_request_id", default=None)
"""The id of the portal request being served; sent as X-Request-ID so registry logs can be joined to the portal's."""

_served_stale: ContextVar[bool] = ContextVar("registry_served_stale", default=False)

# A request id may come from an incoming header: only a plain token is forwarded, anything else gets a fresh id.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Paths are relative to the base URL and made of plain segments: no scheme, host, "..", query, "%" or backslash.
_SAFE_PATH = re.compile(r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*(?:/[A-Za-z0-9._~-]+)*")
_JSON_MEDIA_TYPE = re.compile(r"application/(?:[a-z0-9.+-]+\+)?json", re.IGNORECASE)
# What the registry accepts as an Idempotency-Key, minus spaces (which it would strip): visible ASCII.
_IDEMPOTENCY_KEY = re.compile(rf"[\x21-\x7e]{{1,{MAX_IDEMPOTENCY_KEY}}}")
_RETRY_AFTER = Retry(0)  # only for its Retry-After parser (seconds or an HTTP date)


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
        breaker: CircuitBreaker | None = None,
    ) -> None:
        """Configure the client for the registry at `base_url` (e.g. http://127.0.0.1:5001); paths are under it.

        Clients of the same registry share one `breaker` (None: every call is tried).
        """
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
        self.breaker = breaker
        if self.worst_case_seconds >= WORKER_TIMEOUT_SECONDS:
            raise ValueError(
                f"a registry call could take {self.worst_case_seconds:.1f} s, over the "
                f"{WORKER_TIMEOUT_SECONDS:.0f} s worker timeout: lower the timeouts or the retries"
            )

        adapter = HTTPAdapter(max_retries=retry_policy(retries, max_retry_after))
        # No urllib3 retries at all for the uncached session: urllib3 would resend a POST whose connection failed,
        # and retries of writes follow the rules of _send_uncached instead.
        once = HTTPAdapter(max_retries=0)
        self._session = requests_cache.CachedSession(
            backend=make_cache(cache_backend, cache_name, cache_max_entries),
            # The registry's Cache-Control decides freshness; an answer without any is kept only if it has an
            # ETag, and then revalidated on every use (expire_after=0), never cached forever (the default).
            cache_control=True,
            expire_after=0,
            allowable_codes=(200,),
            allowable_methods=("GET",),
            filter_fn=is_shareable,
            # Stale-if-error is done by get_json, not requests-cache: requests-cache would also serve the old
            # copy over a 404/410 (a withdrawn service would stay visible) and does not tell which error it hid.
            stale_if_error=False,
            # Off: a background refresh thread per request in a gunicorn worker, without the request's
            # context, and "from cache and expired" would no longer mean "the registry failed".
            stale_while_revalidate=False,
        )
        # A 200 whose body is cut short must not replace the copy that a failure falls back to (stale-if-error).
        _store_only_readable(self._session.cache)
        # Requests carrying a person's token, and writes, never touch the cache, not even to read or evict an entry.
        self._private_session = requests.Session()
        for session, session_adapter in ((self._session, adapter), (self._private_session, once)):
            session.mount("http://", session_adapter)
            session.mount("https://", session_adapter)
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
            response = self._send_uncached("GET", path, url, query, headers, None, retryable=True, keyed=False)
            return self._decode(response, cached=False)
        try:
            return self._decode(self._send(self._session, url, query, headers), cached=True)
        except RegistryError as error:
            if not _may_serve_stale(error) or (stale := self._stale_copy(url, query, headers)) is None:
                raise
            logger.warning("registry GET %s failed (%s); serving a cached copy", path, error)
            return self._decode(stale, cached=True)

    def send_json(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, str | int | None] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[int, Any]:
        """Send `method` to `path` without any cache; return the 2xx status and its JSON (None for an empty answer).

        `body` goes as JSON. GET, PUT and DELETE are retried like a cached GET (connection errors, timeouts, 502,
        503, 504); a POST is sent exactly once unless `idempotency_key` is given, and then also retried, waiting
        out a 409 that says the first request with the key is still being processed. Every retry stays within
        `worst_case_seconds`. Failures raise RegistryError or the subclass the answer means (RegistryNotFound,
        RegistryUnauthorized, RegistryForbidden, RegistryConflict, RegistryValidationError).
        """
        method = method.upper()
        if method not in SEND_METHODS:
            raise ValueError(f"send_json sends {', '.join(sorted(SEND_METHODS))}, not {method!r}")
        url = self.base_url + _checked_path(path)
        query = {key: value for key, value in (params or {}).items() if value is not None}
        sent = {**(headers or {}), "X-Request-ID": current_request_id()}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
            sent["Content-Type"] = "application/json"
        if idempotency_key is not None:
            if method != "POST" or not _IDEMPOTENCY_KEY.fullmatch(idempotency_key):
                raise ValueError(f"an Idempotency-Key goes with a POST and is 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII")
            sent["Idempotency-Key"] = idempotency_key
        keyed = idempotency_key is not None
        retryable = method in RETRYABLE_METHODS or keyed
        response = self._send_uncached(method, path, url, query, sent, data, retryable=retryable, keyed=keyed)
        return response.status_code, _answer_json(response)

    def send_bytes(
        self,
        path: str,
        content: bytes,
        *,
        params: Mapping[str, str | int | None] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, Any]:
        """POST `content` as application/octet-stream, once (never retried); return the status and its JSON."""
        url = self.base_url + _checked_path(path)
        query = {key: value for key, value in (params or {}).items() if value is not None}
        sent = {**(headers or {}), "X-Request-ID": current_request_id(), "Content-Type": "application/octet-stream"}
        response = self._send_uncached("POST", path, url, query, sent, content, retryable=False, keyed=False)
        return response.status_code, _answer_json(response)

    def get_bytes(self, path: str, *, headers: Mapping[str, str] | None = None) -> tuple[bytes, Mapping[str, str]]:
        """GET `path` without any cache and return its body and headers (a file); failures raise RegistryError."""
        url = self.base_url + _checked_path(path)
        sent = {**(headers or {}), "X-Request-ID": current_request_id(), "Accept": "*/*"}
        response = self._send_uncached("GET", path, url, {}, sent, None, retryable=True, keyed=False)
        if response.status_code != 200:
            raise error_for_status(response.status_code, response.headers.get("Content-Type", ""), response.content)
        return response.content, response.headers

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
        permit = self._admit()
        try:
            response = session.get(url, params=query, headers=headers, timeout=self.timeout, allow_redirects=False)
        except (requests.Timeout, requests.ConnectionError) as error:
            self._failed(permit)
            raise RegistryError(
                "the registry did not answer in time" if _timed_out(error) else "cannot reach the registry"
            ) from error
        except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
            self._failed(permit)
            raise RegistryError(f"broken answer from the registry: {type(error).__name__}") from error
        except Exception as error:
            # The cache backend failed (a locked or corrupt SQLite file, an unreachable Redis): ask the registry
            # without it, as for a personal read; if that fails too, the same clear error page as any outage.
            self._released(permit)
            if session is self._private_session:
                raise RegistryError(f"registry client failure: {type(error).__name__}") from error
            logger.warning("registry cache unavailable (%s): asking the registry without it", type(error).__name__)
            return self._send(self._private_session, url, query, headers)
        if getattr(response, "from_cache", False) and not getattr(response, "revalidated", False):
            self._released(permit)  # a fresh copy: the registry was not asked
        else:
            self._judge(permit, response.status_code)
        return response

    def _admit(self) -> Permit | None:
        """Ask the breaker whether a call may go out; raise RegistryCircuitOpen while it is open."""
        return self.breaker.admit(self.worst_case_seconds) if self.breaker is not None else None

    def _judge(self, permit: Permit | None, status: int | None, *, refused: bool = False) -> None:
        """Tell the breaker how a call ended: no answer (None) or a 5xx is a failure, any other answer a success.

        `refused`: a 5xx that the registry gave on purpose about one operation (`_refused_on_purpose`), which is the
        registry working.
        """
        if self.breaker is None or permit is None:
            return
        if status is None or (status >= 500 and not refused):
            self.breaker.failed(permit)
        else:
            self.breaker.succeeded(permit)

    def _failed(self, permit: Permit | None) -> None:
        self._judge(permit, None)

    def _released(self, permit: Permit | None) -> None:
        if self.breaker is not None and permit is not None:
            self.breaker.released(permit)

    def _send_uncached(
        self,
        method: str,
        path: str,
        url: str,
        query: Mapping[str, str | int],
        headers: dict[str, str],
        data: bytes | None,
        *,
        retryable: bool,
        keyed: bool,
    ) -> requests.Response:
        """Send through the uncached session and return the last answer, retrying only what `retryable` allows.

        Failures of the registry (connection errors, timeouts, 502/503/504) are retried at most `retries` times;
        a 409 to a `keyed` POST (the same key still being processed) is asked again after its Retry-After. No
        retry starts unless a whole attempt still fits into `worst_case_seconds` from the first one. The breaker
        admits the call once and learns from its last answer.
        """
        permit = self._admit()
        try:
            response = self._send_with_retries(
                method, path, url, query, headers, data, retryable=retryable, keyed=keyed
            )
        except RegistryError:
            self._failed(permit)  # unreachable, too slow or a broken answer, after every retry allowed
            raise
        except BaseException:
            self._released(permit)
            raise
        self._judge(permit, response.status_code, refused=_refused_on_purpose(response))
        return response

    def _send_with_retries(
        self,
        method: str,
        path: str,
        url: str,
        query: Mapping[str, str | int],
        headers: dict[str, str],
        data: bytes | None,
        *,
        retryable: bool,
        keyed: bool,
    ) -> requests.Response:
        """Send and retry as `_send_uncached` describes, without the breaker."""
        connect, read = self.timeout
        deadline = time.monotonic() + self.worst_case_seconds
        failures = 0
        while True:
            outcome = self._attempt(method, url, query, headers, data)
            answer = outcome if isinstance(outcome, requests.Response) else None
            status = answer.status_code if answer is not None else None
            wait: float | None = None
            if answer is None or status in RETRY_STATUSES:
                if retryable and failures < self.retries:
                    failures += 1
                    wait = self._retry_after(answer)
                    wait = _backoff(failures) if wait is None else wait
            elif keyed and status == 409 and "Retry-After" in answer.headers:
                # Only the in-flight 409 of a keyed POST carries Retry-After; it ends with the stored answer.
                after = self._retry_after(answer)
                wait = IN_FLIGHT_WAIT if after is None else min(max(after, IN_FLIGHT_MIN_WAIT), IN_FLIGHT_WAIT)
            if wait is None or time.monotonic() + wait + connect + read > deadline:
                if isinstance(outcome, RegistryError):
                    raise outcome
                return outcome
            # Only the method, path and what went wrong: never headers (the identity) nor bodies (answers).
            reason = f"registry answered {status}" if answer is not None else str(outcome)
            logger.warning("registry %s %s: %s; retrying in %.1f s", method, path, reason, wait)
            time.sleep(wait)

    def _attempt(
        self, method: str, url: str, query: Mapping[str, str | int], headers: dict[str, str], data: bytes | None
    ) -> requests.Response | RegistryError:
        """Send one request: return its answer, or the failure that a retry may overcome (unreachable, too slow)."""
        try:
            return self._private_session.request(
                method, url, params=query, data=data, headers=headers, timeout=self.timeout, allow_redirects=False
            )
        except (requests.Timeout, requests.ConnectionError) as error:
            failure = RegistryError(
                "the registry did not answer in time" if _timed_out(error) else "cannot reach the registry"
            )
            failure.__cause__ = error
            return failure
        except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
            raise RegistryError(f"broken answer from the registry: {type(error).__name__}") from error

    def _retry_after(self, response: requests.Response | None) -> float | None:
        """Return the answer's Retry-After in seconds, capped at `max_retry_after`; None without a usable one."""
        value = response.headers.get("Retry-After") if response is not None else None
        if value is None:
            return None
        try:
            return min(_RETRY_AFTER.parse_retry_after(value), self.max_retry_after)
        except urllib3.exceptions.InvalidHeader:
            return None

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
            if cached and getattr(response, "from_cache", False):
                self._forget(response.request)  # a broken copy; a broken new answer was never stored
            raise RegistryError(f"malformed JSON from the registry: {clean_detail(str(error))}", status=200) from error
        # A copy the registry has just confirmed (304) is current, even if its max-age of 0 makes it "expired" at once.
        if (
            getattr(response, "from_cache", False)
            and getattr(response, "is_expired", False)
            and not getattr(response, "revalidated", False)
        ):
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


def _refused_on_purpose(response: requests.Response) -> bool:
    """Say whether a 503 is the registry refusing one operation for a reason it names (a problem whose `errors` carry
    a message key, e.g. `file.scan_unavailable` while its virus scanner is down), not the registry failing: such an
    answer must not open the circuit breaker and stop every other call."""
    if response.status_code != 503:
        return False
    problem = error_for_status(response.status_code, response.headers.get("Content-Type", ""), response.content)
    return bool(problem.errors)


def _answer_json(response: requests.Response) -> Any:
    """Return the JSON body of a 2xx answer (None if it has none), or raise the error that the answer means."""
    if not 200 <= response.status_code < 300:
        raise error_for_status(response.status_code, response.headers.get("Content-Type", ""), response.content)
    if response.status_code == 204 or not response.content:
        return None
    content_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip()
    try:
        if not _JSON_MEDIA_TYPE.fullmatch(content_type):
            raise ValueError(f"Content-Type {content_type!r}")
        return json.loads(response.content)
    except ValueError as error:
        raise RegistryError(
            f"malformed JSON from the registry: {clean_detail(str(error))}", status=response.status_code
        ) from error


def _backoff(failures: int) -> float:
    """Return the wait before retry number `failures` (1, 2, ...): exponential with jitter, at most BACKOFF_MAX."""
    jitter = random.random() * BACKOFF_JITTER  # noqa: S311  # spreading retries out, not a secret
    return min(BACKOFF_MAX, BACKOFF_FACTOR * 2 ** (failures - 1) + jitter)


def _store_only_readable(cache: BaseCache) -> None:
    """Make `cache` skip 200 answers that are not readable JSON, keeping the copy it has of the same request."""
    save = cache.save_response

    def save_readable(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.status_code == 200 and not _readable_json(response):
            logger.warning("registry GET %s: unreadable answer not cached", urlsplit(response.url).path)
            return
        save(response, *args, **kwargs)

    cache.save_response = save_readable  # type: ignore[method-assign]


def _readable_json(response: requests.Response) -> bool:
    """Return True if `response` is JSON, by its Content-Type, and its whole body parses."""
    content_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip()
    if not _JSON_MEDIA_TYPE.fullmatch(content_type):
        return False
    try:
        json.loads(response.content)
    except ValueError:
        return False
    return True


def _timed_out(error: requests.RequestException) -> bool:
    """Return True if `error` is a timeout, including one that ended urllib3's retries."""
    # requests reports "retries exhausted by read timeouts" as a ConnectionError wrapping MaxRetryError; urllib3
    # counts a refused connection (NewConnectionError) as a kind of connect timeout, which it is not.
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(error, requests.Timeout) or (
        isinstance(reason, urllib3.exceptions.TimeoutError)
        and not isinstance(reason, urllib3.exceptions.NewConnectionError)
    )


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
