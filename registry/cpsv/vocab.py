"""Namespaces, code lists and the vendored CPSV-AP 3.2.0 files shared by the exporter and the importer."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from rdflib import Graph, Namespace
from rdflib.plugins.parsers.jsonld import to_rdf

HERE = Path(__file__).resolve().parent
CONTEXT_PATH = HERE / "context.jsonld"
SHACL_PATH = HERE / "cpsv-ap-SHACL.ttl"

# The one remote context we recognise; it is never fetched, the vendored copy stands in for it.
OFFICIAL_CONTEXT_URL = "https://semiceu.github.io/uri.semic.eu-generated/CPSV-AP/releases/3.2.0/context/cpsv-ap.jsonld"

CPSV = Namespace("http://purl.org/vocab/cpsv#")
CV = Namespace("http://data.europa.eu/m8g/")
DCT = Namespace("http://purl.org/dc/terms/")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
LOCN = Namespace("http://www.w3.org/ns/locn#")
TIME = Namespace("http://www.w3.org/2006/time#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")

# Registry terms CPSV-AP leaves to "a controlled vocabulary decided locally" (channel, output and
# participation role types, audiences) plus the one flag it lacks (optional evidence). A URN keeps
# them stable across deployments, unlike IRIs under a base URL; it extends the schema's own $id.
LVREG = "urn:lv-eservices:registry:"
CHANNEL_TYPE = f"{LVREG}channel-type:"
OUTPUT_TYPE = f"{LVREG}output-type:"
AUDIENCE = f"{LVREG}audience:"
PARTICIPATION_ROLE = f"{LVREG}participation-role:"
EVIDENCE_REQUIRED = f"{LVREG}evidence-required"

COUNTRY_LV = "http://publications.europa.eu/resource/authority/country/LVA"
CURRENCY = "http://publications.europa.eu/resource/authority/currency/"
LANGUAGE = "http://publications.europa.eu/resource/authority/language/"

# ADMS status vocabulary (recommended for adms:status); our draft/published/withdrawn in those terms.
STATUS = {
    "draft": "http://purl.org/adms/status/UnderDevelopment",
    "published": "http://purl.org/adms/status/Completed",
    "withdrawn": "http://purl.org/adms/status/Withdrawn",
}

# ISO 639-1 code -> code of the EU Publications Office "language" authority table.
LANGUAGE_CODES = {
    "ar": "ARA", "be": "BEL", "bg": "BUL", "bs": "BOS", "ca": "CAT", "cs": "CES", "cy": "CYM",
    "da": "DAN", "de": "DEU", "el": "ELL", "en": "ENG", "es": "SPA", "et": "EST", "eu": "EUS",
    "fi": "FIN", "fr": "FRA", "ga": "GLE", "gl": "GLG", "hr": "HRV", "hu": "HUN", "is": "ISL",
    "it": "ITA", "ja": "JPN", "lb": "LTZ", "lt": "LIT", "lv": "LAV", "mk": "MKD", "mt": "MLT",
    "nb": "NOB", "nl": "NLD", "nn": "NNO", "no": "NOR", "pl": "POL", "pt": "POR", "ro": "RON",
    "ru": "RUS", "sk": "SLK", "sl": "SLV", "sq": "SQI", "sr": "SRP", "sv": "SWE", "tr": "TUR",
    "uk": "UKR", "zh": "ZHO",
}  # fmt: skip
LANGUAGE_BY_EU_CODE = {eu: iso for iso, eu in LANGUAGE_CODES.items()}


@cache
def _official_context() -> dict[str, Any]:
    with CONTEXT_PATH.open(encoding="utf-8") as fh:
        return json.load(fh)["@context"]


def official_context() -> dict[str, Any]:
    """Return a fresh copy of the vendored CPSV-AP 3.2.0 `@context` object (callers may mutate it)."""
    return copy.deepcopy(_official_context())


def graph_from_jsonld(data: Any) -> Graph:
    """Turn already sanitised JSON-LD (no remote contexts left) into one RDF graph, named graphs merged."""
    graph = Graph()
    # to_rdf takes the parsed JSON directly, so no input source (file, URL) is ever opened; a plain
    # Graph (not a Dataset) makes rdflib merge named graphs into it, which is what an import wants.
    to_rdf(data, graph)
    return graph
