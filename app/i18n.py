"""Languages: the locale comes from the URL; texts from the registry are picked by it; numbers by Babel."""

from __future__ import annotations

from datetime import date
from typing import Any

from babel import Locale
from babel.numbers import format_currency
from flask import Flask, current_app, g, request
from flask_babel import format_date, get_locale

from app.extensions import babel


def select_locale() -> str:
    """Return the language of this request: the `lang` in the URL, else Latvian."""
    lang = (request.view_args or {}).get("lang") if request else None
    return lang if lang in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


def current_lang() -> str:
    """Return the language code of this request (read once per request; templates ask for it often)."""
    if "lang" in g:
        return str(g.lang)
    return str(get_locale() or "lv")


def localized(value: Any, lang: str | None = None) -> str:
    """Pick the text of a multilingual registry value in the current language, falling back to Latvian."""
    if not isinstance(value, dict):
        return "" if value is None else str(value)
    lang = lang or current_lang()
    return str(value.get(lang) or value.get("lv") or next(iter(value.values()), ""))


def money(amount: float, currency: str = "EUR") -> str:
    """Format an amount the way the current language writes money (lv: 1 234,50 €)."""
    return format_currency(amount, currency, locale=current_lang())


def language_name(code: str) -> str:
    """Name a language in the current language: "en" is "angļu" in Latvian and "English" in English."""
    return str(Locale.parse(current_lang()).languages.get(code, code))


def long_date(value: date) -> str:
    """Format a day the way the current language writes it (lv: 2026. gada 1. novembris)."""
    return str(format_date(value, format="long"))


def init_i18n(app: Flask) -> None:
    """Bind Flask-Babel with the URL-based locale selector and expose the helpers to templates."""
    babel.init_app(app, locale_selector=select_locale, default_timezone=app.config["BABEL_DEFAULT_TIMEZONE"])
    app.jinja_env.filters["tr"] = localized
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.filters["language_name"] = language_name
    app.jinja_env.globals["current_lang"] = current_lang

    @app.before_request
    def _remember_lang() -> None:
        g.lang = select_locale()
