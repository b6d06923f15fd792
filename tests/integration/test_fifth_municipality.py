"""A fifth municipality is a folder of data: no code changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.config import Config
from tests.fixtures.portal import Browser, make_portal
from tests.fixtures.registry_server import RegistryProcess

pytestmark = pytest.mark.integration


def test_a_new_point_is_served_from_its_folder_alone(registry: RegistryProcess, tmp_path: Path) -> None:
    themes = tmp_path / "themes"
    shutil.copytree(Config.THEMES_DIR, themes)
    liepaja = themes / "liepaja"
    shutil.copytree(themes / "valmiera", liepaja)
    toml = (liepaja / "portal.toml").read_text(encoding="utf-8")
    toml = toml.replace('municipality = "valmiera"', 'municipality = "liepaja"')
    toml = toml.replace('hosts = ["valmiera.localhost"]', 'hosts = ["liepaja.localhost"]')
    toml = toml.replace("Valmieras novada pašvaldība", "Liepājas valstspilsētas pašvaldība")
    (liepaja / "portal.toml").write_text(toml, encoding="utf-8")
    (liepaja / "tokens.css").write_text(":root { --color-brand: #7a1f3d; }\n", encoding="utf-8")
    with make_portal(registry.url, THEMES_DIR=themes).test_client() as client:
        browser = Browser(client)
        html = browser.page("/lv/services?q=pirmsskola", "liepaja.localhost")
        assert "Liepājas valstspilsētas pašvaldība" in html
        assert "pii-rinda-liepaja" in html and "pii-rinda-riga" not in html
        assert "#7a1f3d" in browser.get("/theme/tokens.css", "liepaja.localhost").get_data(as_text=True)
