"""Uploads, the parts of QUALITY.md [5.x] not proven in test_files_api.py and test_portal_form_pages.py.

"Size limit per field and in total (413 page, spoofed Content-Length handled); extension, declared type and detected
type (libmagic) must agree; stored under a random key; served with Content-Disposition: attachment, nosniff,
CSP: sandbox; file names sanitised (../, CR/LF, U+202E, NUL)" and "Antivirus hook with fail-closed behaviour".
"""

from __future__ import annotations

import hashlib
import io
import re
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import requests
from flask import Flask
from sqlalchemy import Engine, create_engine, text

from tests.fixtures.applications import (
    PDF,
    RESIDENT_SERVICE,
    delete_drafts,
    demo_claims,
    fresh_person,
    upload_file,
    who,
)
from tests.fixtures.clamd import EICAR, MARKER, ClamdProcess
from tests.fixtures.portal import Browser, make_portal
from tests.fixtures.registry_server import RegistryProcess
from tests.integration.test_files_api import PNG
from tests.integration.test_portal_form_pages import ground_page, post_ground, saved_answers
from tests.integration.test_portal_results import asked
from tests.integration.test_portal_sign_in import HOST, csrf_token, sign_in_as
from tests.integration.test_portal_staff import residence_case, staff_case
from tests.integration.test_security_routes import ILZE, LIGA, client_of

pytestmark = pytest.mark.integration

# The registry's default REGISTRY_MAX_FILE_BYTES, which the test registries keep.
FILE_LIMIT = 20 * 1024 * 1024
# The EICAR test string (tests/fixtures/clamd.py) inside an otherwise valid PDF: libmagic calls it a PDF.
INFECTED_PDF = PDF.replace(b"%%EOF", EICAR + b"\n%%EOF")


def upload(api: str, claims: dict[str, Any], name: str, content: bytes = PDF) -> requests.Response:
    return requests.post(
        f"{api}/me/files",
        params={"name": name},
        data=content,
        headers={"Content-Type": "application/octet-stream", **who(claims)},
        timeout=20,
    )


# --- names ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\boot.ini.pdf", "boot.ini.pdf"),
        ("rēķins\r\nSet-Cookie: x=1.pdf", "rēķinsSet-Cookie x=1.pdf"),
        ("rēķins\u202efdp.exe.pdf", "rēķinsfdp.exe.pdf"),  # no right-to-left override: it would show "...fdp.pdf.exe"
        ("līgums\x00.exe.pdf", "līgums.exe.pdf"),
        ("nulle\u200b\u2060platums\ufeff.pdf", "nulleplatums.pdf"),  # no zero-width characters
        ("rinda\u2028atdalītājs\x85.pdf", "rindaatdalītājs.pdf"),
        (".slēpts.pdf", "slēpts.pdf"),
        ("<img src=x onerror=alert(1)>.pdf", "img src=x onerror=alert(1).pdf"),
    ],
)
def test_names_keep_no_path_control_or_invisible_characters(applications_api: str, raw: str, stored: str) -> None:
    response = upload(applications_api, fresh_person(), raw)
    assert response.status_code == 201, response.text
    assert response.json()["name"] == stored


def test_a_name_shows_up_in_the_download_header_only_encoded(applications_api: str) -> None:
    person = fresh_person()
    file_id = upload(applications_api, person, 'a";\r\n b\u202e.pdf').json()["id"]
    download = requests.get(f"{applications_api}/me/files/{file_id}", headers=who(person), timeout=10)
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert "\r" not in disposition and "\n" not in disposition and "\u202e" not in disposition
    assert re.fullmatch(r'attachment; filename="[^"]*"; filename\*=UTF-8\'\'[A-Za-z0-9%._~-]+', disposition)


# --- random keys --------------------------------------------------------------------------------------------------


def test_files_are_stored_under_random_keys(applications_api: str) -> None:
    person = fresh_person()
    ids = [upload(applications_api, person, "tas-pats.pdf").json()["id"] for _ in range(3)]
    assert len(set(ids)) == 3 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert all("tas-pats" not in i for i in ids)
    # Neither another person nor a guessed neighbour reaches them.
    neighbour = f"{int(ids[0], 16) + 1:032x}"
    assert requests.get(f"{applications_api}/me/files/{neighbour}", headers=who(person), timeout=10).status_code == 404


# --- sizes, and Content-Length that lies ------------------------------------------------------------------------


def raw_request(url: str, head: str, body: bytes = b"", *, chunks: list[bytes] | None = None) -> tuple[int, bytes]:
    """Send one HTTP/1.1 request over a socket (to say what `requests` would not); return the status and the rest."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n")
        try:
            if chunks is not None:
                for chunk in chunks:
                    sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sock.sendall(b"0\r\n\r\n")
            else:
                sock.sendall(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before reading everything: what a limit should do
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        rest = answer
        while True:
            try:
                data = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not data:
                break
            rest += data
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, rest


def upload_head(api: str, claims: dict[str, Any], name: str, length: str | None) -> str:
    parts = urlsplit(api)
    lines = [
        f"POST {parts.path}/me/files?name={quote(name)} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Content-Type: application/octet-stream",
        f"X-Portal-Identity: {who(claims)['X-Portal-Identity']}",
        "Connection: close",
        f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked",
    ]
    return "\r\n".join(lines) + "\r\n"


def test_a_declared_length_over_the_limit_is_413_before_the_body_is_read(applications_api: str) -> None:
    status, rest = raw_request(applications_api, upload_head(applications_api, fresh_person(), "a.pdf", "999999999"))
    assert status == 413 and b"file.size" in rest


def test_a_chunked_body_over_the_limit_is_413(applications_api: str) -> None:
    chunk = b"0" * (1024 * 1024)
    head = upload_head(applications_api, fresh_person(), "a.pdf", None)
    status, rest = raw_request(applications_api, head, chunks=[PDF] + [chunk] * (FILE_LIMIT // len(chunk) + 1))
    assert status == 413 and b"Traceback" not in rest


def test_a_body_longer_than_its_content_length_is_cut_there(
    applications_api: str, applications_database: Engine
) -> None:
    person = fresh_person()
    smuggled = PDF + b"\r\n\r\nPOST /api/v1/me/files?name=b.pdf HTTP/1.1\r\n\r\n" + b"0" * 5000
    status, rest = raw_request(
        applications_api, upload_head(applications_api, person, "a.pdf", str(len(PDF))), smuggled
    )
    assert status == 201, rest[:500]
    with applications_database.connect() as connection:
        sizes = connection.execute(text("SELECT size FROM files WHERE principal = :p"), {"p": person["sub"]}).all()
    assert [size for (size,) in sizes] == [len(PDF)]  # one file, as long as declared: the rest was no second request


def test_a_body_shorter_than_its_content_length_is_refused(applications_api: str) -> None:
    head = upload_head(applications_api, fresh_person(), "a.pdf", str(len(PDF) + 10))
    parts = urlsplit(applications_api)
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as sock:
        sock.sendall(head.encode() + b"\r\n" + PDF)
        sock.shutdown(socket.SHUT_WR)  # the promised bytes never come
        answer = b""
        while data := sock.recv(65536):
            answer += data
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]  # never a cut file stored as the whole
    assert b"file.unreadable" in answer


@pytest.fixture(scope="module")
def portal(applications_registry: RegistryProcess) -> Flask:
    return make_portal(applications_registry.url, RATELIMIT_ENABLED=False)


def test_the_portal_answers_a_declared_length_over_its_limit_with_the_413_page(portal: Flask) -> None:
    client = client_of(portal, "valmiera", LIGA)
    limit = portal.config["MAX_CONTENT_LENGTH"]
    response = client.post(
        f"/lv/my/drafts/{'0' * 32}/pages/personal",
        data=b"x" * 10,
        content_type="multipart/form-data; boundary=x",
        headers={"Host": "valmiera.localhost"},
        environ_overrides={"CONTENT_LENGTH": str(limit + 1)},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert '<html lang="lv">' in html and "Traceback" not in html


# --- downloads through the portal --------------------------------------------------------------------------------


def assert_download_headers(response: Any) -> None:
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    csp = response.headers["Content-Security-Policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_person_downloads_their_upload_through_the_portal_as_an_inert_attachment(
    portal: Flask, applications_api: str
) -> None:
    file_id = upload_file(applications_api, demo_claims(LIGA), ("pdf",))["file_id"]
    client = client_of(portal, "latvija", LIGA)
    response = client.get(f"/lv/my/files/{file_id}", headers={"Host": "localhost"})
    assert_download_headers(response)
    assert response.data == PDF
    other = client_of(portal, "latvija", "janis-ozolins").get(f"/lv/my/files/{file_id}", headers={"Host": "localhost"})
    assert other.status_code == 404


def test_an_employee_downloads_a_file_of_a_case_as_an_inert_attachment(portal: Flask, applications_api: str) -> None:
    case = residence_case(applications_api, with_file=True)
    files = staff_case(applications_api, ILZE, case["id"])["files"]
    assert files, "the residence declaration carries its document"
    client = client_of(portal, "riga", ILZE)
    response = client.get(f"/lv/staff/cases/{case['id']}/files/{files[0]['id']}", headers={"Host": "riga.localhost"})
    assert_download_headers(response)


# --- antivirus ------------------------------------------------------------------------------------------------------
# A registry with REGISTRY_ANTIVIRUS=clamd and the tests' own clamd (tests/fixtures/clamd.py: test signatures only).


@pytest.fixture(scope="module")
def scanning_api(antivirus_registry: RegistryProcess) -> str:
    return f"{antivirus_registry.url}/api/v1"


@pytest.fixture(scope="module")
def scanning_database(antivirus_registry: RegistryProcess) -> Iterator[Engine]:
    engine = create_engine(antivirus_registry.database_url)
    yield engine
    engine.dispose()


@contextmanager
def clamd_stopped(clamd: ClamdProcess) -> Iterator[None]:
    """Stop the tests' clamd for the block, and start it again afterwards (other tests scan with it)."""
    clamd.stop()
    try:
        yield
    finally:
        clamd.start()


def files_of(database: Engine, principal: str) -> list[str]:
    with database.connect() as connection:
        rows = connection.execute(text("SELECT id FROM files WHERE principal = :p"), {"p": principal}).all()
    return [file_id for (file_id,) in rows]


def log_after(registry: RegistryProcess, start: int) -> str:
    assert registry.log_path is not None
    return registry.log_path.read_text(encoding="utf-8", errors="replace")[start:]


def log_size(registry: RegistryProcess) -> int:
    assert registry.log_path is not None
    return len(registry.log_path.read_text(encoding="utf-8", errors="replace"))


def test_a_clean_file_is_scanned_and_stored(scanning_api: str) -> None:
    person = fresh_person()
    stored = upload(scanning_api, person, "apliecība.pdf", PDF)
    assert stored.status_code == 201, stored.text
    download = requests.get(f"{scanning_api}/me/files/{stored.json()['id']}", headers=who(person), timeout=10)
    assert download.content == PDF


@pytest.mark.parametrize(
    ("name", "content", "signature"),
    [
        ("rēķins.pdf", INFECTED_PDF, "Portal.Test.EICAR"),  # a valid PDF for libmagic
        ("foto.png", PNG + MARKER, "Portal.Test.Marker"),  # after the image's end: still a PNG
    ],
)
def test_a_file_an_antivirus_detects_is_refused(
    antivirus_registry: RegistryProcess,
    scanning_api: str,
    scanning_database: Engine,
    name: str,
    content: bytes,
    signature: str,
) -> None:
    person = fresh_person()
    private_name = f"{uuid.uuid4().hex}-{name}"
    start = log_size(antivirus_registry)
    response = upload(scanning_api, person, private_name, content)
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == [{"pointer": "#", "detail": "file.infected"}]
    assert files_of(scanning_database, person["sub"]) == []  # nothing stored
    log = log_after(antivirus_registry, start)
    assert f"upload refused, infected: {signature}.UNOFFICIAL found by clamd ({len(content)} bytes" in log
    assert hashlib.sha256(content).hexdigest() in log
    assert private_name not in log and person["sub"] not in log and person["name"] not in log


def test_without_a_verdict_nothing_is_stored(
    antivirus_registry: RegistryProcess, clamd: ClamdProcess, scanning_api: str, scanning_database: Engine
) -> None:
    person = fresh_person()
    start = log_size(antivirus_registry)
    with clamd_stopped(clamd):
        started = time.monotonic()
        response = upload(scanning_api, person, "rēķins.pdf", PDF)
        assert time.monotonic() - started < 2  # no socket: refused at once, not after the scan timeout
    assert response.status_code == 503, response.text
    assert response.json()["errors"] == [{"pointer": "#", "detail": "file.scan_unavailable"}]
    assert response.headers["Cache-Control"] == "no-store"
    assert files_of(scanning_database, person["sub"]) == []
    log = log_after(antivirus_registry, start)
    assert "upload refused, no virus scan (clamd, " in log and "cannot reach clamd" in log
    assert "rēķins" not in log and person["sub"] not in log
    # clamd is back: the same registry scans and stores again, nothing to restart.
    assert upload(scanning_api, person, "rēķins.pdf", PDF).status_code == 201


# --- antivirus, as the person sees it in the portal ---------------------------------------------------------------


@pytest.fixture(scope="module")
def scanning_portal(antivirus_registry: RegistryProcess) -> Flask:
    # One failed registry call would open the circuit breaker: a scanner that is down must not count as one.
    return make_portal(antivirus_registry.url, RATELIMIT_ENABLED=False, BREAKER_FAILURES=1)


@pytest.fixture
def janis_scanned(antivirus_registry: RegistryProcess, scanning_portal: Flask) -> Iterator[Browser]:
    """Jānis, signed in on the portal over the scanning registry, without a residence declaration draft."""
    delete_drafts(antivirus_registry, "janis-ozolins", RESIDENT_SERVICE)
    with scanning_portal.test_client() as client:
        browser = Browser(client)
        assert sign_in_as(browser, "janis-ozolins").status_code == 303
        yield browser
    delete_drafts(antivirus_registry, "janis-ozolins", RESIDENT_SERVICE)


def field_error(html: str, field: str) -> str:
    """Return the text of the error shown next to a field (the paragraph the field's aria-describedby names)."""
    found = re.search(rf'<p id="{field}-error" class="field-error">(.*?)</p>', html, re.S)
    assert found, f"no error next to {field}"
    return re.sub(r"<[^>]+>", "", found[1]).strip()


def test_the_person_is_told_the_file_has_a_virus_and_keeps_their_answers(
    janis_scanned: Browser, antivirus_registry: RegistryProcess, scanning_database: Engine
) -> None:
    janis = demo_claims("janis-ozolins")["sub"]
    before = files_of(scanning_database, janis)
    url, html = ground_page(janis_scanned)
    refused = post_ground(janis_scanned, url, html, INFECTED_PDF, "īres līgums.pdf")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert field_error(page, "ground_document") == "Kļūda: Izvēlētajā failā ir atrasts vīruss. Izvēlieties citu failu."
    assert 'href="#ground_document"' in page  # the error summary links to the field
    assert re.search(r'value="tenant"\s+checked|checked[^>]*value="tenant"', page)  # the other answer is kept
    assert "ground_document" not in saved_answers(antivirus_registry, url.rsplit("/pages/", 1)[0])
    assert files_of(scanning_database, janis) == before


def test_the_person_is_asked_to_try_again_later_while_there_is_no_scanner(
    janis_scanned: Browser, antivirus_registry: RegistryProcess, clamd: ClamdProcess, scanning_database: Engine
) -> None:
    janis = demo_claims("janis-ozolins")["sub"]
    before = files_of(scanning_database, janis)
    url, html = ground_page(janis_scanned)
    with clamd_stopped(clamd):
        refused = post_ground(janis_scanned, url, html, PDF, "īres līgums.pdf")
        assert refused.status_code == 422  # the page again, with the message: not the 503 page
        page = refused.get_data(as_text=True)
        assert field_error(page, "ground_document") == (
            "Kļūda: Izvēlēto failu pašlaik nevar pārbaudīt, vai tajā nav vīrusu, tāpēc tas netika saglabāts. "
            "Mēģiniet vēlreiz vēlāk."
        )
        assert re.search(r'value="tenant"\s+checked|checked[^>]*value="tenant"', page)
        assert files_of(scanning_database, janis) == before
        # The registry answered: the circuit breaker (BREAKER_FAILURES=1) stays closed and pages keep working.
        assert janis_scanned.get(url).status_code == 200
    saved = post_ground(janis_scanned, url, janis_scanned.page(url), PDF, "īres līgums.pdf")
    assert saved.status_code == 303  # scanned and stored once clamd is back
    assert (
        saved_answers(antivirus_registry, url.rsplit("/pages/", 1)[0])["ground_document"]["name"] == "īres līgums.pdf"
    )


def test_an_answer_to_the_institution_with_an_infected_file_keeps_its_text(
    scanning_portal: Flask, scanning_api: str
) -> None:
    case_id = asked(scanning_api)
    liga = Browser(scanning_portal.test_client())
    assert sign_in_as(liga, LIGA).status_code == 303
    page = liga.page(f"/en/my/applications/{case_id}", lang="en")
    refused = liga.client.post(
        f"/en/my/applications/{case_id}/information",
        data={
            "csrf_token": csrf_token(page),
            "text": "Izziņa pielikumā.",
            "files": [(io.BytesIO(INFECTED_PDF), "izzina.pdf")],
        },
        headers=HOST,
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "izzina.pdf: The selected file contains a virus. Choose another file." in html
    assert 'href="#information-files"' in html and "Izziņa pielikumā.</textarea>" in html
    assert 'name="kept_file"' not in html  # nothing was stored to keep


def test_the_stored_content_is_what_was_sent(applications_api: str) -> None:
    person = fresh_person()
    content = PDF + uuid.uuid4().hex.encode()
    file_id = upload(applications_api, person, "a.pdf", content).json()["id"]
    assert requests.get(f"{applications_api}/me/files/{file_id}", headers=who(person), timeout=10).content == content
