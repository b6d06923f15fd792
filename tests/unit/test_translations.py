"""Latvian is complete: every string in the code is in the Latvian catalogue, translated and not fuzzy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from babel.support import Translations

ROOT = Path(__file__).resolve().parents[2]
LV_PO = ROOT / "translations" / "lv" / "LC_MESSAGES" / "messages.po"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> set[object]:
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-o", str(pot), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as fh:
        return {m.id for m in read_po(fh) if m.id}


def test_latvian_catalogue_has_every_string_translated_and_none_fuzzy(extracted: set[object]) -> None:
    with LV_PO.open("rb") as fh:
        catalogue = read_po(fh, locale="lv")
    by_id = {m.id: m for m in catalogue if m.id}
    missing = [i for i in extracted if i not in by_id]
    assert missing == [], "run `make translations` and translate the new strings"
    untranslated = [m.id for m in by_id.values() if not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    fuzzy = [m.id for m in by_id.values() if m.fuzzy]
    assert untranslated == [] and fuzzy == []


def test_latvian_plural_forms(tmp_path: Path) -> None:
    mo = tmp_path / "messages.mo"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "compile", "-i", str(LV_PO), "-o", str(mo)],
        check=True,
        capture_output=True,
    )
    with mo.open("rb") as fh:
        t = Translations(fh)
    found = {
        n: t.ngettext("%(num)d service found", "%(num)d services found", n) % {"num": n} for n in (1, 2, 10, 11, 21, 22)
    }
    assert found == {
        1: "Atrasts 1 pakalpojums",
        2: "Atrasti 2 pakalpojumi",
        10: "Atrasti 10 pakalpojumi",
        11: "Atrasti 11 pakalpojumi",
        21: "Atrasts 21 pakalpojums",
        22: "Atrasti 22 pakalpojumi",
    }
