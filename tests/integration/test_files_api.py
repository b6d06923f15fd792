"""Uploaded files against a real registry: type by content, safe names, limits, owner-only downloads, submission."""

from __future__ import annotations

import io
import uuid
import zipfile
from typing import Any

import pytest
import requests

from identity import sign_identity
from registry.config import TestConfig
from tests.fixtures.registry_server import RegistryProcess

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)


def person() -> dict[str, Any]:
    number = uuid.uuid4().int % 10**9
    return {
        "sub": f"32{number // 10**5:04d}-{number % 10**5:05d}",
        "name": "Faila Pārbaude",
        "kind": "person",
        "company": None,
        "company_name": None,
        "acr": "substantial",
    }


def who(claims: dict[str, Any]) -> dict[str, str]:
    return {"X-Portal-Identity": sign_identity(TestConfig.IDENTITY_SECRET, claims)}


def asic_e() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.etsi.asic-e+zip")
        archive.writestr("META-INF/manifest.xml", "<manifest/>")
        archive.writestr("iesniegums.pdf", PDF)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def base(applications_registry: RegistryProcess) -> str:
    return f"{applications_registry.url}/api/v1"


def upload(base: str, claims: dict[str, Any], name: str, content: bytes, **headers: str) -> requests.Response:
    return requests.post(
        f"{base}/me/files",
        params={"name": name},
        data=content,
        headers={"Content-Type": "application/octet-stream", **who(claims), **headers},
        timeout=20,
    )


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("apliecība.pdf", PDF, "application/pdf"),
        ("foto.PNG", PNG, "image/png"),
        ("līgums.edoc", asic_e(), "application/vnd.etsi.asic-e+zip"),
    ],
)
def test_an_upload_is_typed_by_content_and_given_back_to_its_owner(
    base: str, name: str, content: bytes, content_type: str
) -> None:
    owner = person()
    created = upload(base, owner, name, content)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == name and body["size"] == len(content) and body["content_type"] == content_type
    assert created.headers["Location"].endswith(f"/me/files/{body['id']}")
    assert created.headers["Cache-Control"] == "no-store"

    download = requests.get(f"{base}/me/files/{body['id']}", headers=who(owner), timeout=10)
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["Content-Type"] == content_type
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert download.headers["Cache-Control"] == "no-store"


def test_nobody_else_reaches_a_file(base: str) -> None:
    owner, other = person(), person()
    file_id = upload(base, owner, "a.pdf", PDF).json()["id"]
    assert requests.get(f"{base}/me/files/{file_id}", headers=who(other), timeout=10).status_code == 404
    assert requests.delete(f"{base}/me/files/{file_id}", headers=who(other), timeout=10).status_code == 404
    assert requests.get(f"{base}/me/files/{file_id}", timeout=10).status_code == 401
    assert requests.get(f"{base}/me/files/{'0' * 32}", headers=who(owner), timeout=10).status_code == 404
    assert requests.get(f"{base}/me/files/not-an-id", headers=who(owner), timeout=10).status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "key"),
    [
        ("programma.pdf", EXE, "file.type"),  # a program renamed to .pdf
        ("attēls.pdf", PNG, "file.type"),  # a real image, named as something else
        ("dokuments.exe", EXE, "file.type"),  # not a type any form accepts
        ("parasts.zip.edoc", b"PK\x05\x06" + bytes(18), "file.type"),  # a ZIP that is not an ASiC-E container
        ("tukšs.pdf", b"", "file.empty"),
    ],
)
def test_bad_uploads_are_refused_with_a_message_key(base: str, name: str, content: bytes, key: str) -> None:
    refused = upload(base, person(), name, content)
    assert refused.status_code == 422, refused.text
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert [e["detail"] for e in refused.json()["errors"]] == [key]


def test_names_are_made_safe(base: str) -> None:
    body = upload(base, person(), "C:\\fakepath\\..\\<script>ļoti\x00 garš.pdf", PDF).json()
    assert body["name"] == "scriptļoti garš.pdf"
    long_name = "ā" * 300 + ".pdf"
    assert upload(base, person(), long_name, PDF).json()["name"] == "ā" * 116 + ".pdf"  # 120 characters in all
    for unusable in ("", "bez-paplašinājuma", ".pdf", "../"):
        refused = upload(base, person(), unusable, PDF)
        assert refused.status_code == 422, unusable


def test_a_file_over_the_limit_is_413(base: str) -> None:
    too_big = PDF + b"0" * (20 * 1024 * 1024)
    refused = upload(base, person(), "liels.pdf", too_big)
    assert refused.status_code == 413
    assert [e["detail"] for e in refused.json()["errors"]] == ["file.size"]


def test_only_octet_stream_bodies_are_taken(base: str) -> None:
    refused = requests.post(
        f"{base}/me/files", params={"name": "a.pdf"}, files={"file": ("a.pdf", PDF)}, headers=who(person()), timeout=10
    )
    assert refused.status_code == 415


def _residence_answers(claims: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """Answers to the residence declaration that attach `document` as proof of the right to live there."""
    return {
        "applicant_name": claims["name"],
        "applicant_personal_code": claims["sub"],
        "address": {"street": "Brīvības iela 10-2", "city": "Rīga", "postal_code": "LV-1010"},
        "moving_date": "2026-11-01",
        "moves_with_others": False,
        "contact_phone": "+37121234567",
        "contact_email": "persona@example.lv",
        "legal_ground": "tenant",
        "ground_document": document,
        "declaration": True,
    }


def _submit_residence(base: str, claims: dict[str, Any], document: dict[str, Any]) -> requests.Response:
    form = requests.get(f"{base}/services/dzivesvietas-deklaresana/forms/application", timeout=10).json()
    body = {
        "service": "dzivesvietas-deklaresana",
        "form": "application",
        "form_version": form["version"],
        "answers": _residence_answers(claims, document),
    }
    headers = {**who(claims), "Idempotency-Key": uuid.uuid4().hex}
    return requests.post(f"{base}/applications", json=body, headers=headers, timeout=20)


def test_a_submitted_application_takes_its_files_as_stored(base: str) -> None:
    owner = person()
    stored = upload(base, owner, "īres līgums.pdf", PDF).json()
    # What the request says about the file is replaced by what the registry stored.
    claimed = {"file_id": stored["id"], "name": "cits.pdf", "size": 1, "content_type": "text/html"}
    submitted = _submit_residence(base, owner, claimed)
    if submitted.status_code == 422:
        pytest.fail(f"the residence answers of this test are out of date: {submitted.json()['errors']}")
    assert submitted.status_code == 201
    assert submitted.json()["answers"]["ground_document"] == {
        "file_id": stored["id"],
        "name": "īres līgums.pdf",
        "size": len(PDF),
        "content_type": "application/pdf",
    }
    # Now part of the application: not deletable, not usable for another application.
    assert requests.delete(f"{base}/me/files/{stored['id']}", headers=who(owner), timeout=10).status_code == 409
    again = _submit_residence(base, owner, claimed)
    assert again.status_code == 422
    assert {e["pointer"]: e["detail"] for e in again.json()["errors"]} == {"#/answers/ground_document": "file.missing"}
    listed = requests.get(f"{base}/me/files/{stored['id']}", headers=who(owner), timeout=10)
    assert listed.status_code == 200  # the owner still downloads it


def test_another_persons_file_cannot_be_attached(base: str) -> None:
    owner, thief = person(), person()
    stored = upload(base, owner, "a.pdf", PDF).json()
    answer = {key: stored[key] for key in ("name", "size", "content_type")} | {"file_id": stored["id"]}
    refused = _submit_residence(base, thief, answer)
    assert refused.status_code == 422
    assert {e["pointer"]: e["detail"] for e in refused.json()["errors"]} == {
        "#/answers/ground_document": "file.missing"
    }


def test_a_type_the_question_does_not_accept_is_refused_at_submission(base: str) -> None:
    owner = person()
    stored = upload(base, owner, "a.png", PNG).json()  # the residence form takes pdf, edoc, asice, jpg
    answer = {key: stored[key] for key in ("name", "size", "content_type")} | {"file_id": stored["id"]}
    refused = _submit_residence(base, owner, answer)
    assert refused.status_code == 422
    assert {e["pointer"]: e["detail"] for e in refused.json()["errors"]} == {"#/answers/ground_document": "file.type"}


def test_an_unattached_upload_can_be_deleted(base: str) -> None:
    owner = person()
    file_id = upload(base, owner, "a.pdf", PDF).json()["id"]
    assert requests.delete(f"{base}/me/files/{file_id}", headers=who(owner), timeout=10).status_code == 204
    assert requests.get(f"{base}/me/files/{file_id}", headers=who(owner), timeout=10).status_code == 404
