"""Publish Service documents as CPSV-AP 3.2 JSON-LD (cpsv:PublicService) with an inline `@context`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from registry.cpsv.vocab import (
    AUDIENCE,
    CHANNEL_TYPE,
    COUNTRY_LV,
    CURRENCY,
    LANGUAGE,
    LANGUAGE_CODES,
    OUTPUT_TYPE,
    PARTICIPATION_ROLE,
    STATUS,
)

Node = dict[str, Any]

# Inline on purpose: a remote context would make every consumer fetch it, and our own importer refuses them.
# Text properties are language maps, so `{"lv": ..., "en": ...}` objects go out unchanged.
CONTEXT: dict[str, Any] = {
    "cpsv": "http://purl.org/vocab/cpsv#",
    "cv": "http://data.europa.eu/m8g/",
    "dct": "http://purl.org/dc/terms/",
    "dcat": "http://www.w3.org/ns/dcat#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "eli": "http://data.europa.eu/eli/ontology#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "locn": "http://www.w3.org/ns/locn#",
    "time": "http://www.w3.org/2006/time#",
    "adms": "http://www.w3.org/ns/adms#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "lvreg": "urn:lv-eservices:registry:",
    "PublicService": "cpsv:PublicService",
    "PublicOrganisation": "cv:PublicOrganisation",
    "Agent": "foaf:Agent",
    "Participation": "cv:Participation",
    "Cost": "cv:Cost",
    "Evidence": "cv:Evidence",
    "Output": "cv:Output",
    "Channel": "cv:Channel",
    "ContactPoint": "cv:ContactPoint",
    "LegalResource": "eli:LegalResource",
    "Event": "cv:Event",
    "LifeEvent": "cv:LifeEvent",
    "BusinessEvent": "cv:BusinessEvent",
    "Concept": "skos:Concept",
    "Location": "dct:Location",
    "LinguisticSystem": "dct:LinguisticSystem",
    "Document": "foaf:Document",
    "TemporalEntity": "time:TemporalEntity",
    "Address": "locn:Address",
    "identifier": "dct:identifier",
    "title": {"@id": "dct:title", "@container": "@language"},
    "description": {"@id": "dct:description", "@container": "@language"},
    "keyword": {"@id": "dcat:keyword", "@container": "@language"},
    "prefLabel": {"@id": "skos:prefLabel", "@container": "@language"},
    "altLabel": {"@id": "skos:altLabel", "@container": "@language"},
    "legalTitle": {"@id": "eli:title", "@container": "@language"},
    "fullAddress": {"@id": "locn:fullAddress", "@container": "@language"},
    "hasCompetentAuthority": {"@id": "cv:hasCompetentAuthority", "@type": "@id"},
    "hasParticipation": {"@id": "cv:hasParticipation", "@type": "@id"},
    "hasParticipant": {"@id": "cv:hasParticipant", "@type": "@id"},
    "role": {"@id": "cv:role", "@type": "@id"},
    "hasCost": {"@id": "cv:hasCost", "@type": "@id"},
    "hasValue": {"@id": "cv:hasValue", "@type": "xsd:double"},
    "currency": {"@id": "cv:currency", "@type": "@id"},
    "processingTime": {"@id": "cv:processingTime", "@type": "xsd:duration"},
    "hasInput": {"@id": "cpsv:hasInput", "@type": "@id"},
    "evidenceRequired": "lvreg:evidence-required",
    "produces": {"@id": "cpsv:produces", "@type": "@id"},
    "hasChannel": {"@id": "cv:hasChannel", "@type": "@id"},
    "contactPoint": {"@id": "cv:contactPoint", "@type": "@id"},
    "email": "cv:email",
    "telephone": "cv:telephone",
    "contactPage": {"@id": "cv:contactPage", "@type": "@id"},
    "page": {"@id": "foaf:page", "@type": "@id"},
    "openingHours": {"@id": "cv:openingHours", "@type": "@id"},
    "address": {"@id": "locn:address", "@type": "@id"},
    "hasLegalResource": {"@id": "cv:hasLegalResource", "@type": "@id"},
    "isGroupedBy": {"@id": "cv:isGroupedBy", "@type": "@id"},
    "language": {"@id": "dct:language", "@type": "@id"},
    "spatial": {"@id": "dct:spatial", "@type": "@id"},
    "audience": {"@id": "dct:audience", "@type": "@id"},
    "status": {"@id": "adms:status", "@type": "@id"},
    "type": {"@id": "dct:type", "@type": "@id"},
}

# Labels of the registry's own concepts; SHACL wants every dct:type / cv:role value typed skos:Concept.
PARTICIPATING = {"lv": "Iestāde, kas piedalās pakalpojuma sniegšanā", "en": "Institution taking part in the service"}
PARTICIPATION_TEXT = {
    "lv": "Iestāde piedalās pakalpojuma sniegšanā.",
    "en": "The institution takes part in the service.",
}


def service_jsonld(
    service: dict[str, Any],
    institutions: Mapping[str, dict[str, Any]],
    base_url: str,
    life_events: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Return one service as a CPSV-AP 3.2 JSON-LD document: the service node plus its organisations."""
    return catalogue_jsonld([service], institutions, base_url, life_events)


def catalogue_jsonld(
    services: Iterable[dict[str, Any]],
    institutions: Mapping[str, dict[str, Any]],
    base_url: str,
    life_events: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Return many services as one JSON-LD `@graph`, each referenced organisation listed once."""
    base = base_url.rstrip("/")
    graph: list[Node] = []
    organisations: list[str] = []
    for service in services:
        graph.append(_service_node(service, base, life_events or {}))
        for institution_id in _institution_ids(service):
            if institution_id not in organisations:
                organisations.append(institution_id)
    graph += [_organisation_node(i, institutions.get(i), base) for i in organisations]
    return {"@context": CONTEXT, "@graph": graph}


def service_iri(base: str, service_id: str) -> str:
    """Return the IRI of a service node (the API URL of the service)."""
    return f"{base}/api/v1/services/{service_id}"


def institution_iri(base: str, institution_id: str) -> str:
    """Return the IRI of an organisation node (the API URL of the institution)."""
    return f"{base}/api/v1/institutions/{institution_id}"


def _institution_ids(service: dict[str, Any]) -> list[str]:
    ids = [service["competent_authority"], *service.get("participating_institutions", [])]
    return list(dict.fromkeys(ids))


def _text(value: Any) -> dict[str, str]:
    """Keep only non-empty strings of a Text object, so every language present goes out and nothing else."""
    if not isinstance(value, dict):
        return {}
    return {lang: text for lang, text in value.items() if isinstance(text, str) and text.strip()}


def _concept(iri: str, label: dict[str, str] | None = None) -> Node:
    node: Node = {"@id": iri, "@type": "Concept"}
    if label:
        node["prefLabel"] = label
    return node


def _location(iri: str, identifier: str | None = None) -> Node:
    node: Node = {"@id": iri, "@type": "Location"}
    if identifier:
        node["identifier"] = identifier
    return node


def _spatial(base: str, spatial: str) -> Node:
    # "LV" is nationwide; anything else is one of our municipality ids, for which no EU ATU code is held.
    if spatial == "LV":
        return _location(COUNTRY_LV)
    return _location(f"{base}/api/v1/municipalities/{spatial}", spatial)


def _organisation_node(institution_id: str, institution: dict[str, Any] | None, base: str) -> Node:
    institution = institution or {}
    # An unknown id still needs a label for SHACL; the id is the only honest one we have.
    name = _text(institution.get("name")) or {"lv": institution_id}
    spatial = [_location(COUNTRY_LV)]
    if institution.get("municipality"):
        spatial.append(_spatial(base, institution["municipality"]))
    node: Node = {
        "@id": institution_iri(base, institution_id),
        # Typed foaf:Agent as well, because cv:hasParticipant requires an Agent and SHACL runs without inference.
        "@type": ["PublicOrganisation", "Agent"],
        "identifier": institution_id,
        "prefLabel": name,
        "title": name,
        "spatial": spatial,
    }
    short = _text(institution.get("short_name"))
    if short:
        node["altLabel"] = short
    return node


def _service_node(service: dict[str, Any], base: str, life_events: Mapping[str, dict[str, Any]]) -> Node:
    iri = service_iri(base, service["id"])
    node: Node = {
        "@id": iri,
        "@type": "PublicService",
        "identifier": service["id"],
        "title": _text(service.get("title")),
        "description": _text(service.get("description")),
        "hasCompetentAuthority": {"@id": institution_iri(base, service["competent_authority"])},
        "spatial": _spatial(base, service.get("spatial", "LV")),
    }
    if service.get("status") in STATUS:
        node["status"] = _concept(STATUS[service["status"]])
    keywords = {lang: words for lang, words in (service.get("keywords") or {}).items() if words}
    if keywords:
        node["keyword"] = keywords
    if service.get("processing_time"):
        node["processingTime"] = service["processing_time"]
    optional = {
        "audience": [_concept(f"{AUDIENCE}{a}") for a in service.get("audiences", [])],
        "hasParticipation": _participations(service, iri, base),
        "hasCost": [_cost(c, f"{iri}#cost-{i}") for i, c in enumerate(service.get("costs", []))],
        "hasInput": [_evidence(e, f"{iri}#evidence-{i}") for i, e in enumerate(service.get("evidence", []))],
        "produces": [_output(o, f"{iri}#output-{i}") for i, o in enumerate(service.get("outputs", []))],
        "hasChannel": [_channel(c, f"{iri}#channel-{i}") for i, c in enumerate(service.get("channels", []))],
        "hasLegalResource": [_legal(x, f"{iri}#legal-{i}") for i, x in enumerate(service.get("legal_basis", []))],
        "isGroupedBy": _events(service, life_events, base),
        "language": [_language(code) for code in service.get("languages", []) if code in LANGUAGE_CODES],
    }
    node.update({key: value for key, value in optional.items() if value})
    if service.get("contact_point"):
        node["contactPoint"] = _contact_point(service["contact_point"], f"{iri}#contact-point")
    return node


def _participations(service: dict[str, Any], iri: str, base: str) -> list[Node]:
    role = _concept(f"{PARTICIPATION_ROLE}participating-institution", PARTICIPATING)
    return [
        {
            "@id": f"{iri}#participation-{i}",
            "@type": "Participation",
            "identifier": f"{service['id']}#participation-{i}",
            "description": PARTICIPATION_TEXT,
            "role": role,
            "hasParticipant": {"@id": institution_iri(base, institution_id)},
        }
        for i, institution_id in enumerate(service.get("participating_institutions", []))
    ]


def _fragment_id(iri: str) -> str:
    """Identifier literal for a sub-node: `service-id#cost-0` is unique across the catalogue."""
    return iri.rsplit("/", 1)[-1]


def _cost(cost: dict[str, Any], iri: str) -> Node:
    node: Node = {
        "@id": iri,
        "@type": "Cost",
        "identifier": _fragment_id(iri),
        # A string, so the xsd:double coercion yields a double even for a whole amount like 0.
        "hasValue": repr(float(cost["amount"])),
        "currency": _concept(f"{CURRENCY}{cost.get('currency', 'EUR')}"),
    }
    return _described(node, cost)


def _described(node: Node, part: dict[str, Any]) -> Node:
    """Add the part's description to its node, when it has one."""
    description = _text(part.get("description"))
    if description:
        node["description"] = description
    return node


def _evidence(evidence: dict[str, Any], iri: str) -> Node:
    node: Node = {
        "@id": iri,
        "@type": "Evidence",
        "identifier": _fragment_id(iri),
        "title": _text(evidence.get("title")),
        "evidenceRequired": bool(evidence.get("required", True)),
    }
    return _described(node, evidence)


def _output(output: dict[str, Any], iri: str) -> Node:
    node: Node = {
        "@id": iri,
        "@type": "Output",
        "identifier": _fragment_id(iri),
        "title": _text(output.get("title")),
        "type": _concept(f"{OUTPUT_TYPE}{output['type']}"),
    }
    return _described(node, output)


def _opening_hours(text: Any, iri: str) -> Node:
    return {"@id": iri, "@type": "TemporalEntity", "description": _text(text)}


def _address(address: str, iri: str) -> Node:
    # locn:fullAddress must be language-tagged; our addresses are written in Latvian.
    return {"@id": iri, "@type": "Address", "fullAddress": {"lv": address}}


def _channel(channel: dict[str, Any], iri: str) -> Node:
    node: Node = {
        "@id": iri,
        "@type": "Channel",
        "identifier": _fragment_id(iri),
        "type": _concept(f"{CHANNEL_TYPE}{channel['type']}"),
    }
    title = _text(channel.get("title"))
    if title:
        node["title"] = title
    if channel.get("url"):
        node["page"] = {"@id": channel["url"], "@type": "Document"}
    if channel.get("phone"):
        node["telephone"] = channel["phone"]
    if channel.get("email"):
        node["email"] = channel["email"]
    if channel.get("address"):
        node["address"] = _address(channel["address"], f"{iri}-address")
    if _text(channel.get("opening_hours")):
        node["openingHours"] = _opening_hours(channel["opening_hours"], f"{iri}-hours")
    return node


def _contact_point(contact: dict[str, Any], iri: str) -> Node:
    node: Node = {"@id": iri, "@type": "ContactPoint"}
    if contact.get("email"):
        node["email"] = contact["email"]
    if contact.get("phone"):
        node["telephone"] = contact["phone"]
    if contact.get("url"):
        node["contactPage"] = {"@id": contact["url"], "@type": "Document"}
    if contact.get("address"):
        node["address"] = _address(contact["address"], f"{iri}-address")
    if _text(contact.get("opening_hours")):
        node["openingHours"] = _opening_hours(contact["opening_hours"], f"{iri}-hours")
    return node


def _legal(legal: dict[str, Any], iri: str) -> Node:
    # With a URL the act is identified by it (as ELI does); otherwise it gets a fragment id under the service.
    return {"@id": legal.get("url") or iri, "@type": "LegalResource", "legalTitle": _text(legal.get("title"))}


def _events(service: dict[str, Any], life_events: Mapping[str, dict[str, Any]], base: str) -> list[Node]:
    # cv:Event needs a title, which only the reference list has; events it does not know are left out.
    nodes: list[Node] = []
    for event_id in service.get("life_events", []):
        event = life_events.get(event_id)
        if not event or not _text(event.get("title")):
            continue
        kind = "BusinessEvent" if event.get("kind") == "business" else "LifeEvent"
        nodes.append(
            {
                "@id": f"{base}/api/v1/life-events/{event_id}",
                "@type": ["Event", kind],
                "identifier": event_id,
                "title": _text(event["title"]),
            }
        )
    return nodes


def _language(code: str) -> Node:
    return {"@id": f"{LANGUAGE}{LANGUAGE_CODES[code]}", "@type": "LinguisticSystem"}
