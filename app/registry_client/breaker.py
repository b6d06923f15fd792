"""The registry client's circuit breaker: stop calling a registry that keeps failing, try again after a pause.

    closed --(`failures` failed calls in a row, within `window` seconds)--> open
    open --(`cooldown` seconds)--> half-open: the next call is the one trial; every other call still fails fast
    half-open --(the trial succeeds)--> closed;  --(the trial fails)--> open for another cool-down

A failed call is one that ended (after the client's own retries) with a timeout, a refused or broken connection or
a 5xx answer; any other answer, a 4xx included, is the registry working and ends a run of failures (so is a 503
problem naming its reason, e.g. an upload's `file.scan_unavailable`: base.py `_refused_on_purpose`). While the
breaker is open, no request reaches the registry: `admit` raises RegistryCircuitOpen (a RegistryError with no
status), so a cached read falls back to its stale copy and a write or personal read gets the 503 page at once.

The state lives in a storage: `MemoryBreakerStorage` (one process, the embedded default) or `RedisBreakerStorage`
(every instance and worker sharing one Redis, so one that saw the registry fail spares all the others the wait).
A Redis that cannot be reached never stops registry calls: the breaker then counts in memory until it is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol

from .errors import RegistryError

logger = logging.getLogger(__name__)

# A breaker that opened and whose trial never came (no traffic) forgets it after this long.
TRIPPED_SECONDS: Final = 86400.0
# After Redis failed, the breaker counts in memory this long before asking Redis again (not on every call).
REDIS_RETRY_SECONDS: Final = 5.0


class RegistryCircuitOpen(RegistryError):
    """The registry failed repeatedly: no request is sent to it until the cool-down ends (the breaker is open)."""


@dataclass(frozen=True)
class Permit:
    """What `admit` allowed: an ordinary call, or the one trial call of the half-open state."""

    trial: bool = False
    clean: bool = True  # no failures were counted when the call was admitted: a success has nothing to reset


@dataclass(frozen=True)
class Snapshot:
    """The breaker's state as a storage holds it."""

    open_for: float  # seconds of cool-down left (0 when not cooling down)
    tripped: bool  # it opened and no trial has closed it since (half-open once the cool-down is over)
    failures: int  # failed calls in a row, in the current window


class BreakerStorage(Protocol):
    """Where a breaker keeps its state; every method is atomic with respect to other callers."""

    def snapshot(self) -> Snapshot:
        """Return the current state."""

    def claim_trial(self, seconds: float) -> bool:
        """Become the one trial call of the half-open state (for at most `seconds`); False if another one is."""

    def release_trial(self) -> None:
        """Give up the trial claim without a verdict (the call never reached the registry)."""

    def record_failure(self, *, trial: bool, threshold: int, window: float, cooldown: float) -> bool:
        """Count a failed call; open the breaker at `threshold` (or at once for a trial); True if it opened now."""

    def record_success(self, *, trial: bool) -> None:
        """End the run of failures; a trial also closes the breaker."""


class MemoryBreakerStorage:
    """Breaker state in this process, shared by its threads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        """Start closed; `clock` returns seconds (monotonic), replaceable in tests."""
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._window_ends = 0.0
        self._open_until = 0.0
        self._tripped_until = 0.0
        self._trial_until = 0.0

    def snapshot(self) -> Snapshot:
        """Return the current state."""
        with self._lock:
            now = self._clock()
            if now >= self._window_ends:
                self._failures = 0
            return Snapshot(max(0.0, self._open_until - now), now < self._tripped_until, self._failures)

    def claim_trial(self, seconds: float) -> bool:
        """Become the trial call unless another claim is still running."""
        with self._lock:
            now = self._clock()
            if now < self._trial_until:
                return False
            self._trial_until = now + seconds
            return True

    def release_trial(self) -> None:
        """Let the next call be the trial."""
        with self._lock:
            self._trial_until = 0.0

    def record_failure(self, *, trial: bool, threshold: int, window: float, cooldown: float) -> bool:
        """Count a failure; open at the threshold, or again when the trial failed."""
        with self._lock:
            now = self._clock()
            if not trial and now < self._tripped_until:
                return False  # a call admitted before the breaker opened: the cool-down is not prolonged
            if not trial:
                if now >= self._window_ends:
                    self._failures, self._window_ends = 0, now + window
                self._failures += 1
                if self._failures < threshold:
                    return False
            self._open_until, self._tripped_until = now + cooldown, now + TRIPPED_SECONDS
            self._failures, self._window_ends, self._trial_until = 0, 0.0, 0.0
            return True

    def record_success(self, *, trial: bool) -> None:
        """Reset the count; a successful trial closes the breaker."""
        with self._lock:
            self._failures, self._window_ends = 0, 0.0
            if trial:
                self._open_until = self._tripped_until = self._trial_until = 0.0


# KEYS: failures, open, tripped, trial. ARGV: trial (0/1), threshold, window ms, cool-down ms, tripped ms.
# One script, so that two instances failing at the same moment count two failures and open the breaker once.
_RECORD_FAILURE = """
local function trip()
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
  redis.call('SET', KEYS[3], '1', 'PX', ARGV[5])
  redis.call('DEL', KEYS[1], KEYS[4])
  return 1
end
if ARGV[1] == '1' then return trip() end
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
if n >= tonumber(ARGV[2]) then return trip() end
return 0
"""


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


class RedisBreakerStorage:
    """Breaker state in Redis under `prefix`, shared by every instance and worker; Redis keeps the time (PX)."""

    def __init__(self, connection: Any, prefix: str) -> None:
        """Use `connection` (a redis.Redis) and keys `<prefix>failures`, `open`, `tripped` and `trial`."""
        import redis

        self._redis_error = redis.RedisError
        self._connection = connection
        self._failures, self._open, self._tripped, self._trial = (
            f"{prefix}{name}" for name in ("failures", "open", "tripped", "trial")
        )
        self._record_failure = connection.register_script(_RECORD_FAILURE)
        # While Redis cannot be reached, this process counts on its own (and logs the switch once each way).
        self._fallback = MemoryBreakerStorage()
        self._degraded = False
        self._retry_at = 0.0

    def snapshot(self) -> Snapshot:
        """Return the current state (one round trip)."""

        def read() -> Snapshot:
            pipe = self._connection.pipeline(transaction=False)
            pipe.pttl(self._open)
            pipe.exists(self._tripped)
            pipe.get(self._failures)
            open_ms, tripped, failures = pipe.execute()
            return Snapshot(max(0, int(open_ms)) / 1000, bool(tripped), int(failures or 0))

        return self._call(read, self._fallback.snapshot)

    def claim_trial(self, seconds: float) -> bool:
        """Become the trial call: SET NX with an expiry, so a trial whose worker died does not block for ever."""
        return self._call(
            lambda: bool(self._connection.set(self._trial, "1", nx=True, px=_ms(seconds))),
            lambda: self._fallback.claim_trial(seconds),
        )

    def release_trial(self) -> None:
        """Let the next call be the trial."""
        self._call(lambda: self._connection.delete(self._trial), self._fallback.release_trial)

    def record_failure(self, *, trial: bool, threshold: int, window: float, cooldown: float) -> bool:
        """Count a failure atomically; open at the threshold, or again when the trial failed."""
        keys = [self._failures, self._open, self._tripped, self._trial]
        args = [int(trial), threshold, _ms(window), _ms(cooldown), _ms(TRIPPED_SECONDS)]
        return self._call(
            lambda: bool(self._record_failure(keys=keys, args=args)),
            lambda: self._fallback.record_failure(trial=trial, threshold=threshold, window=window, cooldown=cooldown),
        )

    def record_success(self, *, trial: bool) -> None:
        """Reset the count; a successful trial closes the breaker for every instance."""
        keys = [self._failures, self._open, self._tripped, self._trial] if trial else [self._failures]
        self._call(lambda: self._connection.delete(*keys), lambda: self._fallback.record_success(trial=trial))

    def _call(self, action: Callable[[], Any], fallback: Callable[[], Any]) -> Any:
        if self._degraded and time.monotonic() < self._retry_at:
            return fallback()
        try:
            result = action()
        except self._redis_error as error:
            if not self._degraded:
                logger.warning("circuit breaker: Redis unavailable (%s); counting in this process", error)
                self._degraded = True
            self._retry_at = time.monotonic() + REDIS_RETRY_SECONDS
            return fallback()
        if self._degraded:
            logger.info("circuit breaker: Redis is back; sharing the state again")
            self._degraded = False
        return result


class CircuitBreaker:
    """Decides whether a registry call may be sent, and learns from how each call ended."""

    def __init__(
        self,
        storage: BreakerStorage | None = None,
        *,
        failures: int = 5,
        window: float = 60.0,
        cooldown: float = 30.0,
        name: str = "registry",
    ) -> None:
        """Open after `failures` failed calls in a row within `window` seconds, for `cooldown` seconds."""
        if failures < 1 or window <= 0 or cooldown <= 0:
            raise ValueError("the breaker needs failures >= 1 and a positive window and cool-down")
        self.storage: BreakerStorage = storage if storage is not None else MemoryBreakerStorage()
        self.failures = failures
        self.window = float(window)
        self.cooldown = float(cooldown)
        self.name = name

    def admit(self, trial_seconds: float) -> Permit:
        """Allow a call or raise RegistryCircuitOpen; a trial claim lasts at most `trial_seconds` (a call's budget)."""
        snapshot = self.storage.snapshot()
        if snapshot.open_for > 0:
            raise RegistryCircuitOpen(
                f"{self.name} failing: calls paused for {snapshot.open_for:.0f} s more (circuit breaker open)"
            )
        if snapshot.tripped:
            if self.storage.claim_trial(trial_seconds):
                logger.info("circuit breaker %s half-open: one trial call", self.name)
                return Permit(trial=True, clean=False)
            raise RegistryCircuitOpen(f"{self.name} failing: a trial call is under way (circuit breaker half-open)")
        return Permit(clean=snapshot.failures == 0)

    def succeeded(self, permit: Permit) -> None:
        """Record a call that reached the registry and got a working answer."""
        if permit.clean and not permit.trial:
            return  # the common case costs no write
        self.storage.record_success(trial=permit.trial)
        if permit.trial:
            logger.info("circuit breaker %s closed: the registry answers again", self.name)

    def failed(self, permit: Permit) -> None:
        """Record a call that timed out, could not connect, broke off or got a 5xx answer."""
        opened = self.storage.record_failure(
            trial=permit.trial, threshold=self.failures, window=self.window, cooldown=self.cooldown
        )
        if opened:
            logger.warning(
                "circuit breaker %s open for %.0f s: %s",
                self.name,
                self.cooldown,
                "the trial call failed" if permit.trial else f"{self.failures} failed calls in a row",
            )

    def released(self, permit: Permit) -> None:
        """Record a call that said nothing about the registry (answered from the cache, or the cache failed)."""
        if permit.trial:
            self.storage.release_trial()

    @property
    def state(self) -> str:
        """Return "closed", "open" or "half-open"."""
        snapshot = self.storage.snapshot()
        if snapshot.open_for > 0:
            return "open"
        return "half-open" if snapshot.tripped else "closed"
