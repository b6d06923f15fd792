"""The clamd client (registry/antivirus.py) against a real clamd with test signatures, and against fake servers that
never answer or answer wrongly: every way of not getting a verdict is ScannerUnavailable (fail-closed).

The uploads that use it are in tests/integration/test_security_uploads.py.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.registry_client.base import _refused_on_purpose
from app.registry_client.errors import error_for_status
from registry import create_app
from registry.antivirus import (
    CHUNK_BYTES,
    ClamdScanner,
    NoScanner,
    ScannerUnavailable,
    Verdict,
    parse_address,
    scanner,
    scanner_from_settings,
)
from registry.config import ConfigError, ProductionConfig
from tests.fixtures.clamd import EICAR, FOUND_SUFFIX, MARKER, ClamdProcess, start_clamd

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


# --- against the real clamd ---------------------------------------------------------------------------------------


def test_a_clean_file_is_clean(clamd: ClamdProcess) -> None:
    assert clamd.scanner().scan(PDF) == Verdict(infected=False, signature=None, scanned=True)


@pytest.mark.parametrize(
    ("content", "signature"),
    [
        (PDF.replace(b"%%EOF", EICAR + b"\n%%EOF"), "Portal.Test.EICAR"),
        (EICAR, "Portal.Test.EICAR"),
        (b"notes " + MARKER + b" end", "Portal.Test.Marker"),
    ],
)
def test_a_signature_is_found(clamd: ClamdProcess, content: bytes, signature: str) -> None:
    assert clamd.scanner().scan(content) == Verdict(infected=True, signature=signature + FOUND_SUFFIX)


def test_chunks_reach_clamd_whole_and_in_order(clamd: ClamdProcess) -> None:
    # The marker straddles the boundary between two INSTREAM chunks: found only if they are joined as sent.
    before = b"a" * (CHUNK_BYTES - len(MARKER) // 2)
    assert clamd.scanner().scan(before + MARKER + b"b" * 1000).infected
    assert not clamd.scanner().scan(before + MARKER[:-1] + b"b" * 1000).infected


def test_a_file_of_the_registrys_largest_size_is_scanned_to_its_end(clamd: ClamdProcess) -> None:
    content = bytes(20 * 1024 * 1024 - len(MARKER)) + MARKER  # REGISTRY_MAX_FILE_BYTES, the marker last
    started = time.monotonic()
    assert clamd.scanner(timeout=10).scan(content).infected
    assert time.monotonic() - started < 10


def test_an_empty_file_is_clean(clamd: ClamdProcess) -> None:
    assert not clamd.scanner().scan(b"").infected


def test_ping(clamd: ClamdProcess, tmp_path: Path) -> None:
    assert clamd.scanner().ping()
    assert not ClamdScanner(socket_path=str(tmp_path / "none.sock"), timeout=1).ping()


def test_a_file_over_clamds_stream_limit_is_no_verdict(tmp_path_factory: pytest.TempPathFactory) -> None:
    """clamd stops reading past StreamMaxLength and says so; the client reads that answer and fails closed."""
    small = start_clamd(tmp_path_factory.mktemp("clamd-small"), stream_max_length="1M")
    try:
        server = next(small)
        with pytest.raises(ScannerUnavailable, match="size limit exceeded"):
            server.scanner().scan(bytes(3 * 1024 * 1024))
        assert not server.scanner().scan(bytes(512 * 1024)).infected
    finally:
        small.close()


def test_a_stopped_clamd_is_no_verdict(tmp_path_factory: pytest.TempPathFactory) -> None:
    own = start_clamd(tmp_path_factory.mktemp("clamd-stopped"))
    server = next(own)
    client = server.scanner(timeout=2)
    assert not client.scan(PDF).infected
    own.close()  # clamd stops and removes its socket
    started = time.monotonic()
    with pytest.raises(ScannerUnavailable, match="cannot reach clamd"):
        client.scan(PDF)
    assert time.monotonic() - started < 1


# --- against fake servers -----------------------------------------------------------------------------------------


@pytest.fixture
def silent_server() -> Iterator[tuple[str, int]]:
    """A TCP listener that takes connections (the kernel does) and never reads or answers."""
    with socket.create_server(("127.0.0.1", 0), backlog=8) as listener:
        yield "127.0.0.1", listener.getsockname()[1]


@pytest.mark.parametrize("size", [len(PDF), 20 * 1024 * 1024], ids=["waits-for-the-answer", "waits-to-send"])
def test_a_clamd_that_never_answers_is_no_verdict_within_the_timeout(silent_server: tuple[str, int], size: int) -> None:
    client = ClamdScanner(address=silent_server, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(ScannerUnavailable, match=r"no answer within 0\.5 s"):
        client.scan(PDF + bytes(size - len(PDF)))
    assert 0.4 < time.monotonic() - started < 1.5  # one deadline for the whole scan, not one per chunk


def answering_server(reply: bytes) -> Iterator[tuple[str, int]]:
    """A TCP server that reads one INSTREAM to its end and answers `reply`."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        with connection:
            connection.settimeout(10)
            received = b""
            while not received.endswith(b"\0\0\0\0"):
                data = connection.recv(65536)
                if not data:
                    break
                received += data
            connection.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", listener.getsockname()[1]
    finally:
        listener.close()
        thread.join(timeout=10)


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (b"INSTREAM size limit exceeded. ERROR\0", "clamd answered: INSTREAM size limit exceeded. ERROR"),
        (b"stream: Can't allocate memory ERROR\0", "clamd answered"),
        (b"UNKNOWN COMMAND\0", "unexpected answer"),
        (b"stream: OK but not quite\0", "unexpected answer"),
        (b"", "clamd answered nothing"),
    ],
)
def test_an_error_or_an_answer_not_understood_is_no_verdict(reply: bytes, reason: str) -> None:
    for address in answering_server(reply):
        with pytest.raises(ScannerUnavailable, match=reason):
            ClamdScanner(address=address, timeout=2).scan(PDF)


def test_a_verdict_over_tcp() -> None:
    for address in answering_server(b"stream: Win.Test.EICAR_HDB-1 FOUND\0"):
        assert ClamdScanner(address=address, timeout=2).scan(EICAR) == Verdict(True, "Win.Test.EICAR_HDB-1")
    for address in answering_server(b"stream: OK\0"):
        assert ClamdScanner(address=address, timeout=2).scan(PDF) == Verdict(False)


def test_a_signature_name_cannot_forge_log_lines() -> None:
    for address in answering_server(b"stream: Evil\nupload scanned clean FOUND\0"):
        verdict = ClamdScanner(address=address, timeout=2).scan(PDF)
    assert verdict.infected and "\n" not in (verdict.signature or "")


def test_nothing_listening_is_no_verdict() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
    with pytest.raises(ScannerUnavailable, match="cannot reach clamd"):
        ClamdScanner(address=("127.0.0.1", port), timeout=1).scan(PDF)


# --- settings -----------------------------------------------------------------------------------------------------


def test_the_embedded_default_scans_nothing() -> None:
    assert isinstance(scanner_from_settings({}), NoScanner)
    assert isinstance(scanner_from_settings({"ANTIVIRUS": "off-unscanned"}), NoScanner)
    assert NoScanner().scan(EICAR) == Verdict(infected=False, scanned=False)
    app = create_app({"DATABASE_URL": "sqlite://"})
    assert isinstance(scanner(app), NoScanner)


def test_clamd_is_reached_where_the_settings_say() -> None:
    on_socket = scanner_from_settings({"ANTIVIRUS": "clamd", "CLAMD_SOCKET": "/run/clamav/clamd.ctl"})
    assert isinstance(on_socket, ClamdScanner) and on_socket.socket_path == "/run/clamav/clamd.ctl"
    settings = {"ANTIVIRUS": "CLAMD", "CLAMD_ADDRESS": "[::1]:3310", "ANTIVIRUS_TIMEOUT_SECONDS": 2.5}
    on_tcp = scanner_from_settings(settings)
    assert isinstance(on_tcp, ClamdScanner) and on_tcp.address == ("::1", 3310) and on_tcp.timeout == 2.5
    assert parse_address("clamav.internal:3310") == ("clamav.internal", 3310)
    for bad in ("clamav.internal", ":3310", "clamav:0", "clamav:port", "clamav:70000"):
        with pytest.raises(ValueError):
            parse_address(bad)


@pytest.mark.parametrize(
    ("settings", "variable"),
    [
        ({"ANTIVIRUS": "clamav"}, "REGISTRY_ANTIVIRUS must be one of off, off-unscanned, clamd"),
        ({"ANTIVIRUS": "clamd"}, "REGISTRY_CLAMD_SOCKET"),
        ({"ANTIVIRUS": "clamd", "CLAMD_SOCKET": "/s", "CLAMD_ADDRESS": "h:1"}, "one of them"),
        ({"ANTIVIRUS": "clamd", "CLAMD_ADDRESS": "clamav.internal"}, "REGISTRY_CLAMD_ADDRESS must be host:port"),
    ],
)
def test_unusable_settings_are_refused_in_every_environment(settings: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        create_app({"DATABASE_URL": "sqlite://", **settings})


def test_production_refuses_no_scanner_unless_said_on_purpose() -> None:
    def check(**antivirus: str) -> None:
        from tests.unit.test_production_config import registry_settings

        settings = registry_settings(Path("/nonexistent"))
        ProductionConfig.check({**settings, "ANTIVIRUS": "", "CLAMD_SOCKET": "", **antivirus})

    for refused in ({}, {"ANTIVIRUS": "off"}):
        with pytest.raises(ConfigError, match="REGISTRY_ENV=production needs REGISTRY_ANTIVIRUS=clamd"):
            check(**refused)
    with pytest.raises(ConfigError, match="REGISTRY_CLAMD_SOCKET"):
        check(ANTIVIRUS="clamd")
    check(ANTIVIRUS="off-unscanned")
    check(ANTIVIRUS="clamd", CLAMD_ADDRESS="clamav.internal:3310")


# --- the portal's side of a 503 without a verdict -------------------------------------------------------------------


def registry_answer(status: int, body: bytes, content_type: str = "application/problem+json") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers["Content-Type"] = content_type
    response._content = body
    return response


def test_the_portal_tells_a_scanner_outage_from_a_registry_outage() -> None:
    unscanned = b'{"status": 503, "detail": "d", "errors": [{"pointer": "#", "detail": "file.scan_unavailable"}]}'
    error = error_for_status(503, "application/problem+json", unscanned)
    assert error.status == 503 and error.errors == [{"pointer": "#", "detail": "file.scan_unavailable"}]
    # The registry answered on purpose: not a failure for the circuit breaker.
    assert _refused_on_purpose(registry_answer(503, unscanned))
    # A registry (or a proxy in front of it) that is down is one.
    assert not _refused_on_purpose(registry_answer(503, b'{"status": 503, "detail": "The database is down."}'))
    assert not _refused_on_purpose(registry_answer(503, b"<html>Service Unavailable</html>", "text/html"))
    assert not _refused_on_purpose(registry_answer(500, unscanned))
