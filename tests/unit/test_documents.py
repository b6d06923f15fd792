"""PDF receipts and printable forms: what they say, how space to answer is sized, and that the PDF is sound."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.delivery_points import current_point
from app.documents.pdf import MissingFonts, Writer, form_writer, plain_text, receipt_writer
from app.documents.printable_form import Blank, PrintableForm, build_printable_form, describe_condition
from app.documents.receipt import Receipt, build_receipt
from app.models.applications_api import Application
from app.models.catalogue import Institution, Service
from forms.loader import load_definition, load_definition_file
from forms.model import FormDefinition
from tests.fixtures.portal import make_portal

ROOT = Path(__file__).resolve().parents[2]
SOCIAL = load_definition_file(ROOT / "registry/seed/forms/socialas-palidzibas-pabalsts-valmiera.application.yaml")
MARRIAGE = load_definition_file(ROOT / "registry/seed/forms/laulibas-registracija-riga.application.yaml")
LATVIAN_LETTERS = "āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ"
INSTITUTION = Institution.from_json(
    {"id": "valmiera-municipality", "name": {"lv": "Valmieras novada pašvaldība", "en": "Valmiera Municipality"}}
)


def service(level: int = 2, **extra: Any) -> Service:
    return Service.from_json(
        {
            "id": "socialas-palidzibas-pabalsts-valmiera",
            "title": {"lv": "Sociālās palīdzības pabalsts Valmieras novadā", "en": "Social assistance benefit"},
            "level": level,
            "audiences": ["residents"],
            "competent_authority": "valmiera-municipality",
            "spatial": "valmiera",
            "processing_time_text": {"lv": "10 darba dienu laikā", "en": "Within 10 working days"},
            "channels": [
                {
                    "type": "office",
                    "title": {"lv": "Sociālo lietu pārvalde", "en": "Social Affairs Board"},
                    "address": "Lāčplēša iela 2, Valmiera, LV-4201",
                }
            ],
            **extra,
        }
    )


ANSWERS: dict[str, Any] = {
    "applicant_name": "Ģirts Ķēniņš",
    "applicant_personal_code": "161175-19997",
    "declared_address": {"street": "Ūdeļu iela 3", "city": "Čiekuri, Žagaru pagasts", "postal_code": "LV-4201"},
    "lives_elsewhere": False,
    "actual_address": {"street": "Slēptā iela 1", "city": "Rīga", "postal_code": "LV-1050"},  # hidden: not shown
    "phone": "+37121234567",
    "benefits": ["gmi", "housing"],
    "housing_tenure": "tenant",
    "housing_costs": "230.50",
    "lives_alone": False,
    "household_members": [
        {"name": "Šarlote Ļaviņa", "personal_code": "010190-10008", "relation": "child", "occupation": "learning"}
    ],
    "has_unregistered_income": False,
    "iban": "LV80BANK0000435195001",
    "meeting_place": "valmiera",
    "declaration": True,
}


def application(status: str = "submitted") -> Application:
    return Application.from_json(
        {
            "id": "a" * 32,
            "reference": "PT-2026-000042",
            "service": SOCIAL.service,
            "status": status,
            "submitted_at": "2026-11-02T12:03:00Z",
            "answers": ANSWERS,
        }
    )


@pytest.fixture(scope="module")
def portal() -> Flask:
    return make_portal("http://127.0.0.1:9")  # nothing here calls the registry


@pytest.fixture(params=["lv", "en"])
def lang(request: pytest.FixtureRequest, portal: Flask) -> Iterator[str]:
    with portal.test_request_context(f"/{request.param}/"):
        portal.preprocess_request()  # resolves the delivery point and the language, as a request would
        yield request.param


@pytest.fixture
def english(portal: Flask) -> Iterator[None]:
    with portal.test_request_context("/en/"):
        portal.preprocess_request()
        yield


def receipt(lang: str, status: str = "submitted") -> Receipt:
    return build_receipt(
        application=application(status),
        service=service(),
        institution=INSTITUTION,
        definition=SOCIAL,
        issuer="Latvija.gov.lv",
        lang=lang,
    )


def printable(definition: FormDefinition, lang: str) -> PrintableForm:
    return build_printable_form(definition=definition, service=service(), institution=INSTITUTION, lang=lang)


def unicode_mapped(pdf: bytes) -> set[str]:
    """Return the characters the embedded fonts' ToUnicode maps cover: glyphs that really are in the file."""
    return {chr(int(code, 16)) for code in re.findall(rb"<[0-9A-F]{4}> <([0-9A-F]{4})>", pdf)}


def info_title(pdf: bytes) -> str:
    match = re.search(rb"/Title <([0-9a-f]+)>", pdf)
    assert match, "no /Title in the document information"
    return bytes.fromhex(match[1].decode()).decode("utf-16")


def uncompressed(writer: Writer) -> bytes:
    writer.set_compression(False)  # so the test can read the font maps; the portal serves compressed files
    return writer.to_bytes()


# --- the receipt -----------------------------------------------------------------------------------------------


def test_receipt_states_reference_status_date_institution_and_next_steps_in_latvian(portal: Flask) -> None:
    with portal.test_request_context("/lv/"):
        portal.preprocess_request()
        found = receipt("lv")
    assert found.reference == "PT-2026-000042"
    assert dict(found.facts) == {
        "Pieteikuma numurs": "PT-2026-000042",
        "Statuss": "Iesniegts",
        "Nosūtīts": dict(found.facts)["Nosūtīts"],
        "Iestāde": "Valmieras novada pašvaldība",
    }
    assert dict(found.facts)["Nosūtīts"].startswith("2026. gada 2. novembris")
    assert "14:03" in dict(found.facts)["Nosūtīts"]  # 12:03 UTC is 14:03 in Riga
    assert found.next_heading == "Kas notiks tālāk"
    assert found.next_steps[0].startswith("Iestāde izskatīs jūsu pieteikumu.")
    assert found.next_steps[1] == "Izpildes termiņš: 10 darba dienu laikā"


def test_receipt_reads_back_every_shown_answer_and_nothing_hidden(lang: str) -> None:
    found = receipt(lang)
    titles = [s.title for s in found.sections]
    assert titles == [page.title.get(lang) for page in SOCIAL.pages]
    rows = {label: lines for section in found.sections for label, lines in section.rows}
    assert rows[SOCIAL.question("applicant_name").label.get(lang)] == ("Ģirts Ķēniņš",)  # type: ignore[union-attr]
    assert ("Ūdeļu iela 3, Čiekuri, Žagaru pagasts, LV-4201",) in rows.values()
    assert rows[SOCIAL.question("benefits").label.get(lang)] == tuple(  # type: ignore[union-attr]
        o.label.get(lang) for o in SOCIAL.question("benefits").options
    )
    assert any("Šarlote Ļaviņa; 010190-10008" in line for lines in rows.values() for line in lines)
    assert SOCIAL.question("actual_address").label.get(lang) not in rows  # type: ignore[union-attr]
    assert not any("Slēptā" in line for lines in rows.values() for line in lines)


def test_a_decided_application_has_no_next_steps(english: None) -> None:
    found = receipt("en", status="decided")
    assert dict(found.facts)["Status"] == "Decided"
    assert found.next_steps == ()


def test_receipt_pdf_is_a_tagged_pdf_in_dejavu_with_every_latvian_letter(portal: Flask, lang: str) -> None:
    found = receipt(lang)
    writer = receipt_writer(found, portal.config["PDF_FONT_DIR"])
    written = "\n".join(writer.written)
    assert "PT-2026-000042" in written and "Ģirts Ķēniņš" in written and "Šarlote Ļaviņa" in written
    assert found.service_title in written and "Valmiera" in written
    compressed = receipt_writer(found, portal.config["PDF_FONT_DIR"]).to_bytes()
    assert compressed.startswith(b"%PDF-") and compressed.rstrip().endswith(b"%%EOF")
    pdf = uncompressed(writer)
    assert re.search(rb"/BaseFont /[A-Z]{6}\+DejaVuSans", pdf), "the DejaVu font is not embedded"
    assert f"/Lang ({lang})".encode() in pdf
    assert info_title(pdf) == found.document_title and "PT-2026-000042" in found.document_title
    assert set("āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ") & set(written) <= unicode_mapped(pdf)
    assert set("ĢĶēņŠĻļŪ") <= unicode_mapped(pdf)  # from the answers, in both languages


def test_every_latvian_letter_has_a_glyph(portal: Flask, english: None) -> None:
    writer = Writer(portal.config["PDF_FONT_DIR"], lang="lv", title="Burti", author="Tests", footer="Burti")
    writer.paragraph(LATVIAN_LETTERS)
    assert set(LATVIAN_LETTERS) <= unicode_mapped(uncompressed(writer))


def test_missing_fonts_are_named_in_the_error(tmp_path: Path, english: None) -> None:
    with pytest.raises(MissingFonts, match=r"DejaVuSans\.ttf"):
        Writer(tmp_path, lang="lv", title="x", author="x", footer="x")


# --- the printable form ----------------------------------------------------------------------------------------


def blanks(form: PrintableForm) -> dict[str, Blank]:
    return {blank.id: blank for section in form.sections for blank in section.blanks}


def test_space_to_answer_is_sized_by_type(english: None) -> None:
    social = blanks(printable(SOCIAL, "en"))
    assert social["applicant_personal_code"].kind == "boxes"
    assert social["applicant_personal_code"].boxes == (6, "–", 5)
    assert social["iban"].boxes == (21,)  # a Latvian IBAN: 21 characters
    assert social["applicant_name"].kind == "lines" and social["applicant_name"].lines == 1
    assert social["unregistered_income"].lines > 1  # long text
    assert social["housing_costs"].short and social["housing_costs"].suffix == "€"
    assert social["benefits"].kind == "choices" and social["benefits"].note == "Tick all that apply."
    assert social["lives_alone"].choices == ("Yes", "No") and social["lives_alone"].note == "Tick one."
    address = social["declared_address"]
    assert address.kind == "parts" and [p.label for p in address.parts] == [
        "Street, house and flat number",
        "Town, city or parish",
        "Postal code",
    ]
    assert address.parts[2].boxes == ("LV–", 4)
    assert social["email"].optional and not social["phone"].optional
    marriage = blanks(printable(MARRIAGE, "en"))
    assert marriage["preferred_date"].kind == "boxes" and marriage["preferred_date"].boxes == (2, ".", 2, ".", 4)
    assert "DD.MM.YYYY" in marriage["preferred_date"].note
    assert marriage["spouse1_previous_marriage_proof"].kind == "attachment"
    assert marriage["intro"].kind == "info" and "EUR 14" in marriage["intro"].text


def test_a_group_is_printed_three_times(english: None) -> None:
    members = blanks(printable(SOCIAL, "en"))["household_members"]
    assert members.kind == "group"
    assert members.copies == ("Household member 1", "Household member 2", "Household member 3")
    assert [p.label for p in members.parts] == [q.label.en for q in SOCIAL.question("household_members").questions]  # type: ignore[union-attr]
    assert members.parts[1].boxes == (6, "–", 5)


def test_conditional_questions_say_when_to_answer(english: None) -> None:
    social = blanks(printable(SOCIAL, "en"))
    assert social["actual_address"].condition == (
        "Answer only if the answer to “Do you actually live at another address?” is “Yes”."
    )
    assert social["housing_tenure"].condition == (
        "Answer only if “Housing benefit” is ticked at “Which benefit are you applying for?”."
    )
    assert social["applicant_name"].condition == ""
    marriage = blanks(printable(MARRIAGE, "en"))
    assert marriage["spouse1_previous_marriage_proof"].condition == (
        "Answer only if the answer to “Marital status” is one of “Divorced”, “Widowed”."
    )


SMALL_FORM: dict[str, Any] = {
    "service": "x",
    "form": "application",
    "version": 1,
    "title": {"lv": "X", "en": "X"},
    "pages": [
        {
            "id": "p",
            "title": {"lv": "P", "en": "P"},
            "questions": [
                {"id": "moved", "type": "date", "label": {"lv": "Kad?", "en": "Moved on"}},
                {"id": "count", "type": "number", "label": {"lv": "Cik?", "en": "Children"}},
                {"id": "owner", "type": "yes_no", "label": {"lv": "Īpašnieks?", "en": "Owner"}},
            ],
        }
    ],
}


def words(condition: dict[str, Any]) -> str:
    """Return the words for a page condition over the questions of SMALL_FORM."""
    question = {"id": "later", "type": "text", "label": {"lv": "Vēlāk", "en": "Later"}}
    page = {"id": "q", "title": {"lv": "Q", "en": "Q"}, "show_if": condition, "questions": [question]}
    definition = load_definition({**SMALL_FORM, "pages": [*SMALL_FORM["pages"], page]})
    shown_if = definition.pages[1].show_if
    assert shown_if is not None
    return describe_condition(shown_if, definition, "en")


def test_conditions_in_words(english: None) -> None:
    assert (
        words({"question": "moved", "greater_than": "2025-01-31"}) == "the date at “Moved on” is after January 31, 2025"
    )
    assert words({"question": "count", "less_than": 3}) == "the answer to “Children” is less than 3"
    assert words({"not": {"question": "owner", "equals": True}}) == "the answer to “Owner” is not “Yes”"
    nested = {
        "all": [
            {"question": "owner", "equals": False},
            {"any": [{"question": "count", "greater_than": 2}, {"question": "count", "less_than": 1}]},
        ]
    }
    assert words(nested) == (
        "the answer to “Owner” is “No” and "
        "(the answer to “Children” is more than 2 or the answer to “Children” is less than 1)"
    )


def test_form_has_service_institution_declaration_and_signature(english: None) -> None:
    form = printable(MARRIAGE, "en")
    assert form.title == "Application for marriage registration"
    assert form.institution == "Valmiera Municipality" and form.service_title == "Social assistance benefit"
    assert form.offices == ("Social Affairs Board, Lāčplēša iela 2, Valmiera, LV-4201",)
    assert [s.title for s in form.sections] == ["First future spouse", "Second future spouse", "The registration"]
    assert form.declaration.startswith("We confirm that there is no impediment")
    assert form.signature_labels == ("Date", "Signature", "Name and surname of the signatory")


def test_form_pdf_lays_out_every_label_with_latvian_letters(portal: Flask, lang: str) -> None:
    form = printable(SOCIAL, lang)
    writer = form_writer(form, portal.config["PDF_FONT_DIR"])
    written = "\n".join(writer.written)
    for label in form.labels():
        assert label in written, label
    for section in form.sections:
        assert section.title in written
    assert form.declaration in written and form.institution in written
    assert writer.page_no() > 1
    pdf = uncompressed(writer)
    assert pdf.startswith(b"%PDF-") and f"/Lang ({lang})".encode() in pdf
    assert info_title(pdf) == f"{form.title} – {form.service_title}"
    assert set("āēčš") <= unicode_mapped(pdf)  # from the institution, the offices and the Latvian texts


def test_markdown_of_info_texts_is_printed_as_plain_text() -> None:
    assert plain_text("Maksa ir **EUR 14**, skatiet [likumu](https://likumi.lv/ta/id/1).") == (
        "Maksa ir EUR 14, skatiet likumu (https://likumi.lv/ta/id/1)."
    )


# --- the link on the service page -------------------------------------------------------------------------------


LINKS = '{% from "components/service.html" import printable_form_links %}{{ printable_form_links(service) }}'


@pytest.mark.parametrize(
    ("level", "forms", "shown"),
    [
        (2, [{"form": "application", "version": 1}], True),
        (2, [], False),  # a level 2 service without a form keeps its own download link
        (3, [{"form": "application", "version": 1}], False),  # level 3 is applied for online instead
    ],
)
def test_service_page_links_to_the_printable_form_of_level_2_services(
    portal: Flask, level: int, forms: list[dict[str, Any]], shown: bool
) -> None:
    with portal.test_request_context("/lv/services/socialas-palidzibas-pabalsts-valmiera"):
        portal.preprocess_request()
        html = current_point.jinja_env.from_string(LINKS).render(service=service(level, forms=forms))
    pdf_link = 'href="/lv/services/socialas-palidzibas-pabalsts-valmiera/form.pdf"'
    assert (pdf_link in html) is shown
    assert ('href="/lv/services/socialas-palidzibas-pabalsts-valmiera/form"' in html) is shown
