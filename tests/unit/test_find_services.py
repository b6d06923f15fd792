"""Both ways of ordering large result sets give every match exactly once, in the promised order."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from registry.catalogue.seed import read_seed
from registry.db import make_engine
from registry.migrate import upgrade
from registry.models import service_search
from registry.models.seeding import load_seed
from registry.models.service_search import ServiceQuery, find_services
from registry.search.documents import search_fields


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'r.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        load_seed(session, read_seed())
        session.commit()
        yield session
    engine.dispose()


def all_pages(session: Session, **criteria: object) -> tuple[list[str], int]:
    ids: list[str] = []
    page = 1
    while True:
        result = find_services(session, ServiceQuery(page=page, per_page=3, **criteria))  # type: ignore[arg-type]
        if not result.items:
            return ids, result.total
        ids += [item["id"] for item in result.items]
        page += 1


@pytest.mark.parametrize(
    "criteria",
    [
        {"q": "pabalsts"},
        {"q": "registracija"},
        {"q": "pabalsts", "audience": "residents"},
        {"q": "iesniegums", "municipality": "riga"},
        {"audience": "residents"},
        {"level": 4, "municipality": "valmiera"},
        {"institution": "vsaa"},
    ],
)
def test_large_result_orders_return_the_same_services_as_exact_orders(
    session: Session, monkeypatch: pytest.MonkeyPatch, criteria: dict[str, object]
) -> None:
    exact, exact_total = all_pages(session, **criteria)
    assert exact_total == len(exact) > 3
    monkeypatch.setattr(service_search, "EXACT_ORDER_LIMIT", 2)
    cheap, cheap_total = all_pages(session, **criteria)
    assert cheap_total == exact_total
    assert sorted(cheap) == sorted(exact) and len(set(cheap)) == len(cheap)
    if "q" not in criteria:
        assert cheap == exact  # both walk the Latvian title order


def test_large_search_puts_title_matches_first(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_search, "EXACT_ORDER_LIMIT", 2)
    items = find_services(session, ServiceQuery(q="pabalsts", per_page=100)).items
    in_title = ["pabalsts" in item["title"]["lv"].lower() for item in items]
    assert in_title[0] and in_title == sorted(in_title, reverse=True)
    assert not all(in_title)


def test_relevance_order_prefers_title_matches(session: Session) -> None:
    items = find_services(session, ServiceQuery(q="pabalsts", per_page=100)).items
    in_title = ["pabalsts" in item["title"]["lv"].lower() for item in items]
    assert in_title == sorted(in_title, reverse=True)


def test_words_search_only_text_never_facet_tokens(session: Session) -> None:
    # Every facet token starts with one of these letters; as a prefix search they must find only text matches.
    seed = read_seed().services
    some_letter_is_not_everywhere = False
    for letter in ("a", "l", "s", "i", "e"):
        expected = {
            svc["id"]
            for svc in seed
            if any(
                word.startswith(letter)
                for column in ("title", "keywords", "body")
                for word in search_fields(svc)[column].split()
            )
        }
        found, total = all_pages(session, q=letter)
        assert set(found) == expected and total == len(expected), letter
        some_letter_is_not_everywhere |= len(expected) < len(seed)
    assert some_letter_is_not_everywhere
