"""Public pages of every delivery point: home, catalogue, service, institution, and their embeddable versions."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, request, send_from_directory, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.access import frameable, public
from app.delivery_points import current_point
from app.models import catalogue_api
from app.models.catalogue import AUDIENCES, LEVELS
from app.rendering import render
from app.views.catalogue_query import parse_catalogue_query, query_args

bp = Blueprint("public", __name__)


@bp.before_request
def _check_lang() -> None:
    # Runs after the delivery point is resolved, so an unknown host still gets its plain 404.
    lang = (request.view_args or {}).get("lang")
    if lang is not None and lang not in current_app.config["LANGUAGES"]:
        # An unsupported language: the same page in Latvian (the URL stays meaningful on paper).
        target = request.path.replace(f"/{lang}/", "/lv/", 1) if request.path.startswith(f"/{lang}/") else "/lv/"
        abort(redirect(target + (f"?{request.query_string.decode()}" if request.query_string else "")))


@bp.get("/")
@public
def root() -> BaseResponse:
    """Send visitors to the Latvian home page."""
    return redirect(url_for("public.home", lang="lv"))


@bp.get("/<lang>/")
@public
def home(lang: str) -> Response:
    """Show the home page: search, entry points by audience and life event, featured services."""
    return render(
        "pages/home.html",
        audiences=AUDIENCES,
        life_events=catalogue_api.life_events(),
        institutions=catalogue_api.institutions(),
        featured=catalogue_api.featured_services(current_point),
    )


def _catalogue(lang: str, template: str, endpoint: str) -> Response | BaseResponse:
    institutions = catalogue_api.institutions()
    life_events = catalogue_api.life_events()
    parsed = parse_catalogue_query(
        request.args,
        institutions=institutions.keys(),
        life_events=[e.id for e in life_events],
        max_q=current_app.config["MAX_SEARCH_LENGTH"],
    )
    if parsed.dropped:
        return redirect(url_for(endpoint, lang=lang, **query_args(parsed.query, page=None)))
    context = {
        "query": parsed.query,
        "institutions": institutions,
        "life_events": life_events,
        "audiences": AUDIENCES,
        "levels": LEVELS,
        "query_args": query_args,
        "endpoint": endpoint,
    }
    if parsed.too_long:
        return render(template, status=400, results=None, too_long=True, **context)
    results = catalogue_api.search_services(current_point, parsed.query, per_page=current_app.config["PER_PAGE"])
    if parsed.query.page > results.pages:
        return redirect(url_for(endpoint, lang=lang, **query_args(parsed.query, page=results.pages)))
    response = render(template, block="results", results=results, too_long=False, **context)
    if request.headers.get("HX-Request") == "true":
        # htmx would push every empty field of the form; push the clean URL the plain form would lead to instead.
        response.headers["HX-Push-Url"] = url_for(endpoint, lang=lang, **query_args(parsed.query))
    return response


@bp.get("/<lang>/services")
@public
def catalogue(lang: str) -> Response | BaseResponse:
    """List and search the point's services."""
    return _catalogue(lang, "pages/catalogue/list.html", "public.catalogue")


def _service(template: str, service_id: str) -> Response:
    found = catalogue_api.get_service(current_point, service_id)
    return render(
        template,
        service=found,
        institutions=catalogue_api.institutions(),
        # Services with a form in the registry are applied for here; others link to their own e-service.
        apply_here=found.is_applied_for_here,
    )


@bp.get("/<lang>/services/<service_id>")
@public
def service(lang: str, service_id: str) -> Response:
    """Show everything a person needs to know about a service before applying."""
    return _service("pages/catalogue/service.html", service_id)


@bp.get("/<lang>/institutions/<institution_id>")
@public
def institution(lang: str, institution_id: str) -> Response:
    """Show an institution and the services it takes part in on this point."""
    found = catalogue_api.get_institution(institution_id)
    services = catalogue_api.search_services(
        current_point, catalogue_api.CatalogueQuery(institution=found.id), per_page=100
    )
    return render("pages/institutions/show.html", institution=found, services=services)


@bp.get("/<lang>/embed/services")
@public
@frameable
def embed_catalogue(lang: str) -> Response | BaseResponse:
    """Show the catalogue without the portal's header and footer, for iframes."""
    return _catalogue(lang, "pages/catalogue/embed_list.html", "public.embed_catalogue")


@bp.get("/<lang>/embed/services/<service_id>")
@public
@frameable
def embed_service(lang: str, service_id: str) -> Response:
    """Show a service without the portal's header and footer, for iframes."""
    return _service("pages/catalogue/embed_service.html", service_id)


@bp.get("/theme/tokens.css")
@public
@frameable
def theme_tokens() -> Response:
    """Serve the current point's design tokens (CSS custom properties)."""
    response = send_from_directory(current_app.config["THEMES_DIR"] / current_point.slug, "tokens.css", max_age=300)
    response.vary.add("Host")
    return response
