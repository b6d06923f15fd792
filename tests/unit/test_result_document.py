"""The result document of a decision: what it says (page and PDF alike), in both languages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from app.documents.result import ResultDocument, build_result, result_writer
from app.models.applications_api import Application
from app.models.catalogue import Institution, Service
from tests.fixtures.portal import make_portal

CODE = "7K3M-9QXR-2ABC"


def decided(result: str = "refused", text: str | None = "Nav stāža.\n\nSkatīt 5. pantu.") -> Application:
    return Application.from_json(
        {
            "id": "a" * 32,
            "reference": "PT-2026-000123",
            "service": "bezdarbnieka-statusa-pieskirsana",
            "status": "decided",
            "submitted_at": "2026-11-02T12:03:00Z",
            "result": result,
            "decided_at": "2026-11-27T22:30:00Z",  # 28 November in Riga
            "verification_code": CODE,
            "decision": {
                "outcome": "refuse" if result == "refused" else "approve",
                "text": text,
                "institution": "vsaa",
                "decided_by": "Valdis Ozols",
                "at": "2026-11-27T22:30:00Z",
            },
        }
    )


REDRESS = {"lv": "Lēmumu var **apstrīdēt** [NVA](https://www.nva.gov.lv).", "en": "Contest it at NVA."}


def service(redress: dict[str, str] | None = None) -> Service:
    return Service.from_json(
        {
            "id": "bezdarbnieka-statusa-pieskirsana",
            "title": {"lv": "Bezdarbnieka statusa piešķiršana", "en": "Unemployed status"},
            "level": 4,
            "audiences": ["residents"],
            "competent_authority": "nva",
            **({"redress": redress} if redress is not None else {}),
        }
    )


VSAA = Institution.from_json({"id": "vsaa", "name": {"lv": "VSAA", "en": "State Social Insurance Agency"}})


@pytest.fixture(scope="module")
def portal() -> Flask:
    return make_portal("http://127.0.0.1:9")  # nothing here calls the registry


@pytest.fixture
def latvian(portal: Flask) -> Iterator[None]:
    with portal.test_request_context("/lv/"):
        portal.preprocess_request()
        yield


def build(application: Application, of: Service | None = None) -> ResultDocument:
    return build_result(
        application=application,
        service=of or service(REDRESS),
        institution=VSAA,
        issuer="Latvija.gov.lv",
        verification_url="https://latvija.gov.lv/lv/verify",
        check_url=f"https://latvija.gov.lv/lv/verify/{CODE}",
        lang="lv",
    )


def test_the_document_says_the_decision_redress_and_code(latvian: None, portal: Flask) -> None:
    document = build(decided())
    assert document.reasoning == ("Nav stāža.", "Skatīt 5. pantu.")
    facts = dict(document.facts)
    assert facts["Pieteikuma numurs"] == "PT-2026-000123"
    assert "28" in next(v for v in facts.values() if "2026" in v and "novembr" in v)  # Riga day, Latvian month
    assert "VSAA" in facts.values() and "Valdis Ozols" in facts.values()
    pdf = result_writer(document, portal.config["PDF_FONT_DIR"])
    written = " ".join(pdf.written)
    assert CODE in written and "https://latvija.gov.lv/lv/verify" in written
    assert "Lēmumu var apstrīdēt NVA (https://www.nva.gov.lv)." in written  # Markdown printed as plain text
    assert "Skatīt 5. pantu." in written
    assert pdf.to_bytes().startswith(b"%PDF-")


def test_an_approval_without_reasoning_and_a_service_without_redress(latvian: None, portal: Flask) -> None:
    document = build(decided("approved", None), service())
    assert document.reasoning == () and document.approved
    written = " ".join(result_writer(document, portal.config["PDF_FONT_DIR"]).written)
    assert document.redress_fallback in written
