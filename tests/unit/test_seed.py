"""The seed catalogue: valid, complete in Latvian and English, and as broad as the registry promises."""

from __future__ import annotations

from collections import Counter

import pytest

from registry.catalogue.seed import SeedData, read_seed, seed_problems


@pytest.fixture(scope="module")
def seed() -> SeedData:
    return read_seed()


def test_seed_has_no_problems(seed: SeedData) -> None:
    assert seed_problems(seed) == []


def test_seed_is_broad_enough(seed: SeedData) -> None:
    assert len(seed.services) >= 40
    assert len(seed.institutions) >= 12
    municipal = {i["municipality"] for i in seed.institutions if i["kind"] == "municipal"}
    assert {"riga", "valmiera", "liepaja"} <= municipal
    assert {s["level"] for s in seed.services} == {1, 2, 3, 4, 5}
    assert {a for s in seed.services for a in s["audiences"]} == {"residents", "businesses", "institutions"}
    providers = {s["competent_authority"] for s in seed.services}
    assert len(providers) >= 12
    assert sum(1 for s in seed.services if s["level"] == 5 and "institutions" in s["audiences"]) >= 2


@pytest.mark.parametrize(
    "title",
    [
        "Dzīvesvietas deklarēšana",
        "Pases izsniegšana",
        "Bērna piedzimšanas pabalsts",
        "Vecāku pabalsts",
        "Bezdarbnieka statusa piešķiršana",
        "Gada ienākumu deklarācija",
    ],
)
def test_required_services_are_present(seed: SeedData, title: str) -> None:
    assert any(s["title"]["lv"].startswith(title) for s in seed.services)


@pytest.mark.parametrize(
    "prefix",
    [
        "dzimsanas-fakta-registracija",
        "pii-rinda",
        "laulibas-registracija",
        "komersanta-registracija",
        "transportlidzekla-registracija",
        "buvniecibas-ieceres-iesniegsana",
    ],
)
def test_required_service_families_are_present(seed: SeedData, prefix: str) -> None:
    assert any(s["id"].startswith(prefix) for s in seed.services)


def test_preschool_queue_exists_in_every_municipality(seed: SeedData) -> None:
    spatial = {s["spatial"] for s in seed.services if s["id"].startswith("pii-rinda")}
    assert spatial == {"riga", "valmiera", "liepaja"}


def test_multi_institution_services_pass_control_between_institutions(seed: SeedData) -> None:
    by_id = {s["id"]: s for s in seed.services}
    for service_id in ("bezdarbnieka-statusa-pieskirsana", "bezdarbnieka-pabalsts"):
        step_institutions = {step["institution"] for step in by_id[service_id]["steps"]}
        assert {"nva", "vsaa"} <= step_institutions, service_id


def test_descriptions_are_not_copies(seed: SeedData) -> None:
    descriptions = Counter(s["description"]["lv"] for s in seed.services)
    assert descriptions.most_common(1)[0][1] == 1


def test_valid_registration_numbers(seed: SeedData) -> None:
    weights = (9, 1, 4, 8, 3, 10, 2, 5, 7, 6, 1)
    for institution in seed.institutions:
        number = institution.get("registration_number")
        if number:
            assert sum(int(d) * w for d, w in zip(number, weights, strict=True)) % 11 == 3, institution["id"]


def test_forms_cover_the_required_services(seed: SeedData) -> None:
    services = {s["id"]: s for s in seed.services}
    forms = {f["service"]: f for f in seed.forms if f["form"] == "application"}
    assert len(forms) >= 8
    assert {
        "dzivesvietas-deklaresana",
        "berna-piedzimsanas-pabalsts",
        "pii-rinda-riga",
        "komersanta-registracija",
    } <= set(forms)
    # From level 3 people apply online; level 2 services offer the same definition as a form to print.
    assert all(services[service_id]["level"] >= 2 for service_id in forms)
    assert {"laulibas-registracija-riga", "socialas-palidzibas-pabalsts-valmiera"} <= set(forms)


def test_one_form_is_large(seed: SeedData) -> None:
    def count(questions: list[dict[str, object]]) -> int:
        return sum(1 + count(q.get("questions", [])) if q["type"] == "group" else 1 for q in questions)  # type: ignore[arg-type]

    sizes = {f["service"]: (len(f["pages"]), sum(count(p["questions"]) for p in f["pages"])) for f in seed.forms}
    assert any(pages >= 6 and questions > 60 for pages, questions in sizes.values()), sizes
