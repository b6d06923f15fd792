"""Virus scanning of uploads, fail-closed: every file is scanned before it is stored, and no verdict means no file.

`REGISTRY_ANTIVIRUS` chooses the scanner (docs/operations.md, "Antivirus"):

- `clamd`: ClamAV's daemon, over its unix socket (`REGISTRY_CLAMD_SOCKET`) or TCP (`REGISTRY_CLAMD_ADDRESS`,
  `host:port`), with the INSTREAM command: the bytes go over the socket, so clamd needs no access to any file.
- `off` (development and tests) and `off-unscanned` (the only way production runs without a scanner, said on
  purpose): nothing is scanned.

The client is the standard library's `socket`: INSTREAM is a command and length-prefixed chunks, and what matters
here is what a library would hide: one deadline for the whole scan (connect, send, answer), and every failure, a
refused or broken connection, a timeout, an `ERROR` or an answer we do not understand, turned into
`ScannerUnavailable` so that the caller refuses the upload. The PyPI `clamd` package has had no release since 2014,
and its forks set a timeout per socket operation only (a slow clamd could hold a worker for many of them).
"""

from __future__ import annotations

import re
import socket
import struct
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping

    from flask import Flask

# The values of REGISTRY_ANTIVIRUS.
OFF: Final = "off"
OFF_UNSCANNED: Final = "off-unscanned"  # production without a scanner: refused unless said this way
CLAMD: Final = "clamd"
MODES: Final = (OFF, OFF_UNSCANNED, CLAMD)
# INSTREAM sends the file in chunks, each after its length (4 bytes, network order); a zero length ends it.
CHUNK_BYTES: Final = 64 * 1024
# clamd answers one short line ("stream: OK", "stream: <signature> FOUND", "<reason> ERROR"), NUL-terminated.
MAX_REPLY_BYTES: Final = 4096
_FOUND = re.compile(r"stream: (?P<signature>.+) FOUND")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class Verdict:
    """What a scanner said about one file: `infected` with the `signature` found, or not (also when not scanned)."""

    infected: bool
    signature: str | None = None
    scanned: bool = True


class ScannerUnavailable(Exception):
    """The scanner gave no verdict (unreachable, too slow, an error, an answer not understood): store nothing."""


class Scanner(Protocol):
    """Scans a file's bytes; raises ScannerUnavailable when it cannot say."""

    name: str

    def scan(self, content: bytes) -> Verdict:
        """Return the verdict on `content`."""
        ...


class NoScanner:
    """No scanning (`off`, `off-unscanned`): every file passes, marked as not scanned."""

    name = "none"

    def scan(self, content: bytes) -> Verdict:
        """Return a clean verdict without looking."""
        return Verdict(infected=False, scanned=False)


class ClamdScanner:
    """ClamAV's clamd, over a unix socket (`socket_path`) or TCP (`address`), with INSTREAM and one deadline."""

    name = "clamd"

    def __init__(
        self, *, socket_path: str | None = None, address: tuple[str, int] | None = None, timeout: float = 4.0
    ) -> None:
        if (socket_path is None) == (address is None):
            raise ValueError("ClamdScanner needs a socket path or an address, not both")
        self.socket_path = socket_path
        self.address = address
        self.timeout = timeout

    def __repr__(self) -> str:
        where = self.socket_path or f"{self.address[0]}:{self.address[1]}"  # type: ignore[index]
        return f"ClamdScanner({where}, timeout={self.timeout:g} s)"

    def scan(self, content: bytes) -> Verdict:
        """Send `content` with INSTREAM and return clamd's verdict; ScannerUnavailable for anything else.

        The whole exchange (connect, every chunk, the answer) must end within `timeout` seconds. If clamd closes the
        connection while the file is being sent (a file over its StreamMaxLength), its answer is still read, so the
        reason reaches the log.
        """
        deadline = time.monotonic() + self.timeout
        reply = b""
        try:
            with self._connect(deadline) as sock:
                try:
                    _send(sock, b"zINSTREAM\0", deadline)
                    view = memoryview(content)
                    for start in range(0, len(view), CHUNK_BYTES):
                        chunk = view[start : start + CHUNK_BYTES]
                        _send(sock, struct.pack("!L", len(chunk)), deadline)
                        _send(sock, chunk, deadline)
                    _send(sock, struct.pack("!L", 0), deadline)
                except (BrokenPipeError, ConnectionResetError) as error:
                    reply = _receive(sock, deadline, missing_ok=True)
                    if not reply:
                        raise ScannerUnavailable(f"clamd closed the connection: {_reason(error)}") from error
                else:
                    reply = _receive(sock, deadline)
        except TimeoutError as error:
            raise ScannerUnavailable(f"clamd gave no answer within {self.timeout:g} s") from error
        except OSError as error:
            raise ScannerUnavailable(f"cannot reach clamd: {_reason(error)}") from error
        return _verdict(reply)

    def ping(self) -> bool:
        """Say whether clamd answers PING with PONG within the timeout."""
        deadline = time.monotonic() + self.timeout
        try:
            with self._connect(deadline) as sock:
                _send(sock, b"zPING\0", deadline)
                return _receive(sock, deadline) == b"PONG"
        except (OSError, ScannerUnavailable):
            return False

    def _connect(self, deadline: float) -> socket.socket:
        """Open a connection to clamd within what is left of the deadline."""
        if self.socket_path is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(_left(deadline))
                sock.connect(self.socket_path)
            except BaseException:
                sock.close()
                raise
            return sock
        host, port = self.address  # type: ignore[misc]
        return socket.create_connection((host, port), timeout=_left(deadline))


def _left(deadline: float) -> float:
    """Return the seconds left before `deadline`; TimeoutError once there are none."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the scan's deadline passed")
    return left


def _send(sock: socket.socket, data: bytes | memoryview, deadline: float) -> None:
    sock.settimeout(_left(deadline))
    sock.sendall(data)


def _receive(sock: socket.socket, deadline: float, *, missing_ok: bool = False) -> bytes:
    """Read clamd's NUL-terminated answer (at most MAX_REPLY_BYTES) and return it without the NUL."""
    reply = b""
    while b"\0" not in reply and len(reply) < MAX_REPLY_BYTES:
        try:
            sock.settimeout(_left(deadline))
            data = sock.recv(MAX_REPLY_BYTES)
        except (ConnectionResetError, BrokenPipeError):
            if missing_ok:
                break
            raise
        if not data:
            break
        reply += data
    return reply.split(b"\0", 1)[0].strip()


def _verdict(reply: bytes) -> Verdict:
    """Turn clamd's answer to INSTREAM into a verdict; an error or anything unexpected is ScannerUnavailable."""
    text = _CONTROL.sub(" ", reply.decode("utf-8", "replace")).strip()
    if text == "stream: OK":
        return Verdict(infected=False)
    found = _FOUND.fullmatch(text)
    if found:
        return Verdict(infected=True, signature=found["signature"][:200])
    if text.endswith("ERROR"):
        raise ScannerUnavailable(f"clamd answered: {text[:200]}")
    raise ScannerUnavailable(f"unexpected answer from clamd: {text[:200]!r}" if text else "clamd answered nothing")


def _reason(error: OSError) -> str:
    return error.strerror or type(error).__name__


# --- settings -------------------------------------------------------------------------------------------------------


def parse_address(value: str) -> tuple[str, int]:
    """Return (host, port) from `host:port` or `[ipv6]:port`; ValueError for anything else."""
    host, colon, port = value.strip().rpartition(":")
    host = host.strip("[]")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(value)
    return host, int(port)


def scanner_from_settings(settings: Mapping[str, Any]) -> Scanner:
    """Return the scanner the settings choose; ConfigError (one line naming the variable) for unusable settings."""
    from registry.config import ConfigError

    mode = str(settings.get("ANTIVIRUS") or OFF).strip().lower()
    if mode not in MODES:
        raise ConfigError(f"REGISTRY_ANTIVIRUS must be one of {', '.join(MODES)}, not {mode!r}")
    if mode != CLAMD:
        return NoScanner()
    socket_path = str(settings.get("CLAMD_SOCKET") or "").strip()
    address = str(settings.get("CLAMD_ADDRESS") or "").strip()
    timeout = float(settings.get("ANTIVIRUS_TIMEOUT_SECONDS") or 4.0)
    if bool(socket_path) == bool(address):
        raise ConfigError(
            "REGISTRY_ANTIVIRUS=clamd needs REGISTRY_CLAMD_SOCKET (a unix socket path) or REGISTRY_CLAMD_ADDRESS "
            "(host:port), one of them"
        )
    if socket_path:
        return ClamdScanner(socket_path=socket_path, timeout=timeout)
    try:
        return ClamdScanner(address=parse_address(address), timeout=timeout)
    except ValueError:
        raise ConfigError(f"REGISTRY_CLAMD_ADDRESS must be host:port, not {address!r}") from None


def init_antivirus(app: Flask) -> None:
    """Choose the app's scanner from its settings (`app.extensions["antivirus"]`, used by the upload endpoint)."""
    app.extensions["antivirus"] = scanner_from_settings(app.config)


def scanner(app: Flask) -> Scanner:
    """Return the app's scanner."""
    found: Scanner = app.extensions["antivirus"]
    return found
