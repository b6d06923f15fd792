"""Read CPSV-AP 3.2 JSON-LD into draft Service documents, without ever fetching a remote context."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

from rdflib import BNode, Literal, URIRef
from rdflib.graph import Graph
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node

from registry.catalogue.schema import Problem, catalogue_schema, schema_problems
from registry.cpsv.vocab import (
    AUDIENCE,
    CHANNEL_TYPE,
    CPSV,
    CV,
    DCAT,
    DCT,
    ELI,
    EVIDENCE_REQUIRED,
    FOAF,
    LANGUAGE_BY_EU_CODE,
    LOCN,
    OFFICIAL_CONTEXT_URL,
    OUTPUT_TYPE,
    SKOS,
    graph_from_jsonld,
    official_context,
)

REMOTE_CONTEXT = "remote contexts are not allowed"
MAX_DEPTH = 64  # far below Python's recursion limit, far above any real CPSV-AP document
MAX_VALUES = 500_000  # JSON values in one import; bounds the time and memory spent on one request
SUMMARY_LENGTH = 300
SLUG_LENGTH = 80

# Import defaults for what CPSV-AP does not describe (see docs/catalogue-cpsv.md).
DEFAULTS: dict[str, Any] = {"status": "draft", "level": 1, "audiences": ["residents"], "spatial": "LV"}

CHANNEL_TYPES = set(catalogue_schema()["$defs"]["Channel"]["properties"]["type"]["enum"])
OUTPUT_TYPES = set(catalogue_schema()["$defs"]["Output"]["properties"]["type"]["enum"])
AUDIENCES = set(catalogue_schema()["$defs"]["Audience"]["enum"])
DURATION = re.compile(catalogue_schema()["$defs"]["Service"]["properties"]["processing_time"]["pattern"])
PHONE = re.compile(catalogue_schema()["$defs"]["Phone"]["pattern"])
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
URL = re.compile(r"^https?://\S+$")
# Letters NFKD does not split into a base letter plus accents.
TRANSLITERATE = str.maketrans({"ß": "ss", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "æ": "ae",
                               "Æ": "ae", "œ": "oe", "Œ": "oe", "ı": "i", "þ": "th"})  # fmt: skip


class _Rejected(Exception):
    """The input cannot be read at all; carries the problem to report."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


def parse_cpsv(document: object, institution_id: str) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Return the Service documents of every cpsv:PublicService in a JSON-LD document, and what is wrong."""
    try:
        clean, problems = _sanitise(document)
        if problems:
            return [], problems
        try:
            graph = graph_from_jsonld(clean)
        except Exception as exc:  # rdflib raises many types on bad JSON-LD; every one is the sender's problem
            return [], [Problem("#", f"not valid JSON-LD: {_message(exc)}")]
        return _services(graph, institution_id)
    except _Rejected as rejected:
        return [], [rejected.problem]
    except Exception as exc:  # whatever the input, the caller gets problems, never a 500
        return [], [Problem("#", f"the document could not be read: {_message(exc)}")]


def slugify(text: str) -> str:
    """Return `text` as a slug: lowercase ASCII, diacritics dropped, other runs of characters as '-'."""
    ascii_text = unicodedata.normalize("NFKD", text.translate(TRANSLITERATE)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:SLUG_LENGTH].rstrip("-")


def first_sentence(text: str) -> str:
    """Return the first sentence of `text`, whitespace collapsed, at most 300 characters."""
    flat = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", flat)
    sentence = match.group(1) if match else flat
    if len(sentence) > SUMMARY_LENGTH:
        sentence = sentence[: SUMMARY_LENGTH - 1].rstrip() + "…"
    return sentence


# --- Input checks: no remote context, bounded size, plain JSON values -------------------------------------


def _message(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _sanitise(document: object) -> tuple[Any, list[Problem]]:
    """Copy the input, swapping the official context for the vendored one and reporting any other remote one."""
    if not isinstance(document, dict | list):
        return None, [Problem("#", "a JSON-LD document must be a JSON object or array")]
    sanitiser = _Sanitiser()
    clean = sanitiser.copy(document, "#", 0)
    return clean, sanitiser.problems


class _Sanitiser:
    """Walks the input once; remote references are reported and dropped, so rdflib can never fetch one."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.values = 0

    def copy(self, value: Any, pointer: str, depth: int) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            raise _Rejected(Problem("#", f"the document has more than {MAX_VALUES} values"))
        if depth > MAX_DEPTH:
            raise _Rejected(Problem(pointer, f"the document is nested more than {MAX_DEPTH} levels deep"))
        if isinstance(value, dict):
            return self._copy_object(value, pointer, depth)
        if isinstance(value, list):
            return [self.copy(item, f"{pointer}/{i}", depth + 1) for i, item in enumerate(value)]
        if isinstance(value, float) and not math.isfinite(value):
            self.problems.append(Problem(pointer, "numbers must be finite"))
            return None
        if value is None or isinstance(value, str | bool | int | float):
            return value
        self.problems.append(Problem(pointer, f"not a JSON value ({type(value).__name__})"))
        return None

    def _copy_object(self, value: dict[Any, Any], pointer: str, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                self.problems.append(Problem(pointer, "object keys must be strings"))
                continue
            child = f"{pointer}/{_escape(key)}"
            if key == "@import":
                # A context may pull in another by URL; there is no official one to stand in for it.
                self.problems.append(Problem(child, REMOTE_CONTEXT))
            elif key == "@context":
                out[key] = self._context(item, child, depth + 1)
            else:
                out[key] = self.copy(item, child, depth + 1)
        return out

    def _context(self, value: Any, pointer: str, depth: int) -> Any:
        """Check one `@context` value: an object, null, an array of those, or the official URL."""
        if isinstance(value, str):
            if value.strip() == OFFICIAL_CONTEXT_URL:
                return official_context()
            # Relative references would be resolved against a base and read too: refuse every string.
            self.problems.append(Problem(pointer, REMOTE_CONTEXT))
            return None
        if isinstance(value, list):
            return [self._context(item, f"{pointer}/{i}", depth + 1) for i, item in enumerate(value)]
        if value is None or isinstance(value, dict):
            # Nested `@context`/`@import` keys (scoped contexts, {"@context": URL}) are checked by copy().
            return self.copy(value, pointer, depth)
        self.problems.append(Problem(pointer, "@context must be an object, an array, null or a URL"))
        return None


# --- Reading the graph -----------------------------------------------------------------------------------


def _natural_key(node: Node) -> list[Any]:
    """Sort `#cost-10` after `#cost-2`, and blank nodes after named ones, so the order is stable."""
    parts = re.split(r"(\d+)", str(node))
    return [isinstance(node, BNode), *[(int(p), "") if p.isdigit() else (0, p) for p in parts]]


def _objects(graph: Graph, subject: Node, *predicates: URIRef) -> list[Node]:
    found: list[Node] = []
    for predicate in predicates:
        found += [o for o in graph.objects(subject, predicate) if o not in found]
    return sorted(found, key=_natural_key)


def _language(literal: Literal) -> str | None:
    """Return the ISO 639-1 key of a literal; untagged text counts as Latvian, other tags are skipped."""
    if literal.language is None:
        return ""
    code = literal.language.lower().split("-")[0]
    return code if re.fullmatch(r"[a-z]{2}", code) else None


def _texts(graph: Graph, subject: Node, *predicates: URIRef) -> dict[str, str]:
    """Return a Text object: the first non-empty literal per language."""
    tagged: dict[str, str] = {}
    untagged: str | None = None
    literals = [o for o in _objects(graph, subject, *predicates) if isinstance(o, Literal)]
    for literal in sorted(literals, key=lambda lit: (lit.language or "", str(lit))):
        # Kept as written (trailing newlines included) so that our own exports round-trip unchanged.
        text, lang = str(literal), _language(literal)
        if not text.strip() or lang is None:
            continue
        if lang == "":
            untagged = untagged or text
        else:
            tagged.setdefault(lang, text)
    # The registry is Latvian, so a text with no language tag (or coerced to rdf:langString) is taken as lv.
    if untagged and "lv" not in tagged:
        tagged["lv"] = untagged
    return dict(sorted(tagged.items()))


def _keywords(graph: Graph, subject: Node) -> dict[str, list[str]]:
    keywords: dict[str, list[str]] = {}
    for literal in _objects(graph, subject, DCAT.keyword):
        if not isinstance(literal, Literal) or not str(literal).strip():
            continue
        lang = _language(literal)
        if lang is not None:
            words = keywords.setdefault(lang or "lv", [])
            if str(literal).strip() not in words:
                words.append(str(literal).strip())
    return dict(sorted(keywords.items()))


def _first_literal(graph: Graph, subject: Node, *predicates: URIRef) -> str | None:
    literals = [str(o).strip() for o in _objects(graph, subject, *predicates) if isinstance(o, Literal)]
    return next((text for text in literals if text), None)


def _code(node: Node, prefix: str, allowed: set[str]) -> str | None:
    """Return our code for a concept IRI of the registry vocabulary, or None for anyone else's."""
    value = str(node)
    if isinstance(node, URIRef) and value.startswith(prefix) and value[len(prefix) :] in allowed:
        return value[len(prefix) :]
    return None


def _url(graph: Graph, subject: Node, *predicates: URIRef) -> str | None:
    for node in _objects(graph, subject, *predicates):
        value = str(node).strip()
        if isinstance(node, URIRef | Literal) and URL.match(value) and len(value) <= 2000:
            return value
    return None


def _phone(graph: Graph, subject: Node) -> str | None:
    for node in _objects(graph, subject, CV.telephone):
        # Accept the usual separators, but store only what our schema allows.
        value = re.sub(r"[\s().\-/]+", " ", str(node).removeprefix("tel:")).strip()
        if PHONE.match(value):
            return value
    return None


def _email(graph: Graph, subject: Node) -> str | None:
    for node in _objects(graph, subject, CV.email):
        value = str(node).removeprefix("mailto:").strip()
        if EMAIL.match(value) and len(value) <= 254:
            return value
    return None


def _address(graph: Graph, subject: Node) -> str | None:
    for node in _objects(graph, subject, LOCN.address):
        text = _first_literal(graph, node, LOCN.fullAddress) if not isinstance(node, Literal) else str(node)
        if text:
            return text[:300]
    return None


def _language_code(value: str) -> str | None:
    """Map an EU authority language URI (…/language/LAV) or a bare ISO 639-1 code to ISO 639-1."""
    code = value.rstrip("/").rsplit("/", 1)[-1]
    if re.fullmatch(r"[a-z]{2}", code):
        return code
    return LANGUAGE_BY_EU_CODE.get(code.upper())


def _opening_hours(graph: Graph, subject: Node) -> dict[str, str]:
    for node in _objects(graph, subject, CV.openingHours):
        texts = _texts(graph, node, DCT.description)
        if texts:
            return texts
    return {}


# --- Mapping one cpsv:PublicService -------------------------------------------------------------------------


class _Mapper:
    """Maps one service node; `problems` collects what was in the input but could not be carried over."""

    def __init__(self, graph: Graph, node: Node, index: int) -> None:
        self.graph = graph
        self.node = node
        self.where = f"#/services/{index}"
        # Blank-node labels are random per parse, so they would make a useless reference for the sender.
        self.label = f"service {node.n3()}" if isinstance(node, URIRef) else f"service #{index} (no @id)"
        self.problems: list[Problem] = []

    def problem(self, field: str, detail: str) -> None:
        self.problems.append(Problem(f"{self.where}/{field}", f"{self.label}: {detail}"))

    def document(self, institution_id: str) -> dict[str, Any]:
        graph, node = self.graph, self.node
        title = _texts(graph, node, DCT.title)
        description = _texts(graph, node, DCT.description)
        doc: dict[str, Any] = {"id": self.identifier(title), **DEFAULTS, "competent_authority": institution_id}
        doc["audiences"] = self.audiences() or DEFAULTS["audiences"]
        if title:
            doc["title"] = title
        if description:
            doc["description"] = description
            doc["summary"] = {lang: first_sentence(text) for lang, text in description.items()}
        optional = {
            "keywords": _keywords(graph, node),
            "evidence": [e for e in map(self.evidence, _objects(graph, node, CPSV.hasInput)) if e],
            "outputs": [o for o in map(self.output, _objects(graph, node, CPSV.produces)) if o],
            "costs": [c for c in map(self.cost, _objects(graph, node, CV.hasCost)) if c],
            "processing_time": self.processing_time(),
            "legal_basis": [x for x in map(self.legal, _objects(graph, node, CV.hasLegalResource)) if x],
            "languages": self.languages(),
            "channels": [c for c in map(self.channel, _objects(graph, node, CV.hasChannel)) if c],
            "contact_point": self.contact_point(),
        }
        doc.update({key: value for key, value in optional.items() if value})
        return doc

    def identifier(self, title: dict[str, str]) -> str:
        identifier = _first_literal(self.graph, self.node, DCT.identifier)
        slug = slugify(identifier) if identifier else ""
        if len(slug) < 2:
            # No usable identifier: name the service after its title, Latvian first.
            texts = [title[lang] for lang in ("lv", "en") if lang in title] + list(title.values())
            slug = slugify(texts[0]) if texts else ""
        return slug

    def audiences(self) -> list[str]:
        codes = [_code(o, AUDIENCE, AUDIENCES) for o in _objects(self.graph, self.node, DCT.audience)]
        return list(dict.fromkeys(c for c in codes if c))

    def evidence(self, node: Node) -> dict[str, Any] | None:
        title = _texts(self.graph, node, DCT.title)
        if not title:
            self.problem("evidence", f"evidence {node.n3()} has no dct:title")
            return None
        # CPSV-AP cannot say a piece of evidence is optional; only our own flag can.
        optional = any(o == Literal(False) for o in self.graph.objects(node, URIRef(EVIDENCE_REQUIRED)))
        evidence: dict[str, Any] = {"title": title, "required": not optional}
        description = _texts(self.graph, node, DCT.description)
        if description:
            evidence["description"] = description
        return evidence

    def output(self, node: Node) -> dict[str, Any] | None:
        title = _texts(self.graph, node, DCT.title)
        if not title:
            self.problem("outputs", f"output {node.n3()} has no dct:title")
            return None
        types = [_code(o, OUTPUT_TYPE, OUTPUT_TYPES) for o in _objects(self.graph, node, DCT.type)]
        output: dict[str, Any] = {"title": title, "type": next((t for t in types if t), "document")}
        description = _texts(self.graph, node, DCT.description)
        if description:
            output["description"] = description
        return output

    def cost(self, node: Node) -> dict[str, Any] | None:
        raw = _first_literal(self.graph, node, CV.hasValue, CV.value)
        try:
            amount = float(raw) if raw is not None else None
        except ValueError:
            amount = None
        if amount is None or not math.isfinite(amount):
            self.problem("costs", f"cost {node.n3()} has no numeric cv:hasValue")
            return None
        currencies = {str(c).rstrip("/").rsplit("/", 1)[-1].upper() for c in _objects(self.graph, node, CV.currency)}
        # A cost with no currency stated is taken as euro, the only currency of a Latvian service.
        if currencies - {"EUR"}:
            self.problem("costs", f"cost {node.n3()} is not in euro ({', '.join(sorted(currencies))})")
            return None
        description = _texts(self.graph, node, DCT.description) or {"lv": "Maksa", "en": "Fee"}
        return {"amount": int(amount) if amount.is_integer() else amount, "currency": "EUR", "description": description}

    def processing_time(self) -> str | None:
        value = _first_literal(self.graph, self.node, CV.processingTime)
        if value is not None and not DURATION.match(value):
            self.problem("processing_time", f"{value!r} is not an ISO 8601 duration in whole units")
            return None
        return value

    def legal(self, node: Node) -> dict[str, Any] | None:
        title = _texts(self.graph, node, ELI.title, DCT.title, SKOS.prefLabel, RDFS.label)
        if not title:
            # CPSV-AP does not require a title, our schema does: an untitled act is left out, not refused.
            return None
        legal: dict[str, Any] = {"title": title}
        url = _url(self.graph, node, FOAF.page, RDFS.seeAlso)
        own_fragment = str(node).startswith(f"{self.node}#")
        if url is None and isinstance(node, URIRef) and not own_fragment and URL.match(str(node)):
            url = str(node)  # ELI style: the act is identified by its URL
        if url:
            legal["url"] = url
        return legal

    def languages(self) -> list[str]:
        codes: list[str] = []
        for node in _objects(self.graph, self.node, DCT.language):
            code = _language_code(str(node))
            if code and code not in codes:
                codes.append(code)  # languages outside the EU table are left out
        return codes

    def channel(self, node: Node) -> dict[str, Any]:
        graph = self.graph
        types = [_code(o, CHANNEL_TYPE, CHANNEL_TYPES) for o in _objects(graph, node, DCT.type)]
        url = _url(graph, node, FOAF.page, CV.contactPage, DCAT.landingPage)
        # Types from other vocabularies (e.g. Europass channel codes) are not mapped: a URL means a web page.
        channel: dict[str, Any] = {"type": next((t for t in types if t), "web-page" if url else "office")}
        fields = {
            "title": _texts(graph, node, DCT.title) or _texts(graph, node, DCT.description),
            "url": url,
            "address": _address(graph, node),
            "phone": _phone(graph, node),
            "email": _email(graph, node),
            "opening_hours": _opening_hours(graph, node),
        }
        channel.update({key: value for key, value in fields.items() if value})
        return channel

    def contact_point(self) -> dict[str, Any] | None:
        graph = self.graph
        for node in _objects(graph, self.node, CV.contactPoint, CV.hasContactPoint):
            fields = {
                "email": _email(graph, node),
                "phone": _phone(graph, node),
                "url": _url(graph, node, CV.contactPage, FOAF.page),
                "address": _address(graph, node),
                "opening_hours": _opening_hours(graph, node),
            }
            contact = {key: value for key, value in fields.items() if value}
            if contact:
                return contact
        return None


def _services(graph: Graph, institution_id: str) -> tuple[list[dict[str, Any]], list[Problem]]:
    nodes = sorted(set(graph.subjects(RDF.type, CPSV.PublicService)), key=_natural_key)
    if not nodes:
        return [], [Problem("#", "the document describes no cpsv:PublicService")]
    services: list[dict[str, Any]] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, node in enumerate(nodes):
        mapper = _Mapper(graph, node, index)
        doc = mapper.document(institution_id)
        problems += mapper.problems
        invalid = [
            Problem(f"{mapper.where}{p.pointer.removeprefix('#')}", f"{mapper.label}: {p.detail}")
            for p in schema_problems("Service", doc)
        ]
        if invalid:
            problems += invalid
        elif doc["id"] in seen:
            problems.append(Problem(f"{mapper.where}/id", f"{mapper.label}: duplicate service id {doc['id']!r}"))
        else:
            seen.add(doc["id"])
            services.append(doc)
    return services, problems
