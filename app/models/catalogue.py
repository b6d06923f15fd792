"""Services, institutions and life events as the portal shows them."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from identity import Identity, required_acr

Text = dict[str, str]

_DURATION = re.compile(r"^P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?)?")
LEVELS = (1, 2, 3, 4, 5)
AUDIENCES = ("residents", "businesses", "institutions")


@dataclass(frozen=True)
class Cost:
    """A fee: amount in euro (0 = free) and what it is for."""

    amount: float
    currency: str
    description: Text

    @property
    def is_free(self) -> bool:
        """Say whether this cost is zero."""
        return self.amount == 0


@dataclass(frozen=True)
class Step:
    """One step of the process and the institution responsible for it."""

    title: Text
    description: Text
    institution: str


@dataclass(frozen=True)
class Evidence:
    """A document or condition the applicant must provide."""

    title: Text
    description: Text
    formats: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class Output:
    """What the person receives."""

    title: Text
    description: Text
    type: str


@dataclass(frozen=True)
class Channel:
    """Where and how the service is delivered."""

    type: str
    title: Text
    url: str | None
    address: str | None
    phone: str | None
    email: str | None
    opening_hours: Text

    @property
    def is_online(self) -> bool:
        """Say whether this channel is an online e-service."""
        return self.type == "e-service"


@dataclass(frozen=True)
class ServiceSummary:
    """A service as a search result."""

    id: str
    title: Text
    summary: Text
    level: int
    audiences: tuple[str, ...]
    competent_authority: str
    spatial: str
    life_events: tuple[str, ...] = ()
    free: bool | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServiceSummary:
        """Wrap a registry list item."""
        return cls(
            id=data["id"],
            title=data["title"],
            summary=data.get("summary", {}),
            level=int(data["level"]),
            audiences=tuple(data.get("audiences", ())),
            competent_authority=data["competent_authority"],
            spatial=data.get("spatial", "LV"),
            life_events=tuple(data.get("life_events", ())),
            free=data.get("free"),
        )

    @property
    def is_nationwide(self) -> bool:
        """Say whether the service is offered everywhere in Latvia."""
        return self.spatial == "LV"


def _text(data: dict[str, Any], key: str) -> Text:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Service(ServiceSummary):
    """The full description of a service: everything a person needs before signing in."""

    description: Text = field(default_factory=dict)
    keywords: dict[str, list[str]] = field(default_factory=dict)
    participating_institutions: tuple[str, ...] = ()
    steps: tuple[Step, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    outputs: tuple[Output, ...] = ()
    usage_instructions: Text = field(default_factory=dict)
    costs: tuple[Cost, ...] = ()
    processing_time: str | None = None
    processing_time_text: Text = field(default_factory=dict)
    legal_basis: tuple[tuple[Text, str | None], ...] = ()
    redress: Text = field(default_factory=dict)
    tacit_approval: bool | None = None
    tacit_approval_text: Text = field(default_factory=dict)
    languages: tuple[str, ...] = ()
    authentication_means: tuple[str, ...] = ()
    channels: tuple[Channel, ...] = ()
    contact_point: dict[str, Any] = field(default_factory=dict)
    updated_at: str | None = None
    forms: dict[str, int] = field(default_factory=dict)  # the registry's forms of the service: name -> newest version

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Service:
        """Wrap a registry service document."""
        summary = ServiceSummary.from_json(data)
        tacit = data.get("tacit_approval") or {}
        costs = data.get("costs")
        return cls(
            **{**summary.__dict__, "free": all(c["amount"] == 0 for c in costs) if costs is not None else None},
            description=_text(data, "description"),
            keywords=data.get("keywords", {}),
            participating_institutions=tuple(data.get("participating_institutions", ())),
            steps=tuple(
                Step(_text(s, "title"), _text(s, "description"), s["institution"]) for s in data.get("steps", [])
            ),
            evidence=tuple(
                Evidence(_text(e, "title"), _text(e, "description"), tuple(e.get("formats", ())), bool(e["required"]))
                for e in data.get("evidence", [])
            ),
            outputs=tuple(
                Output(_text(o, "title"), _text(o, "description"), o.get("type", "document"))
                for o in data.get("outputs", [])
            ),
            usage_instructions=_text(data, "usage_instructions"),
            costs=tuple(
                Cost(float(c["amount"]), c.get("currency", "EUR"), _text(c, "description"))
                for c in data.get("costs", [])
            ),
            processing_time=data.get("processing_time"),
            processing_time_text=_text(data, "processing_time_text"),
            legal_basis=tuple((_text(lb, "title"), lb.get("url")) for lb in data.get("legal_basis", [])),
            redress=_text(data, "redress"),
            tacit_approval=tacit.get("applies"),
            tacit_approval_text=_text(tacit, "description"),
            languages=tuple(data.get("languages", ())),
            authentication_means=tuple(data.get("authentication_means", ())),
            channels=tuple(
                Channel(
                    type=c["type"],
                    title=_text(c, "title"),
                    url=c.get("url"),
                    address=c.get("address"),
                    phone=c.get("phone"),
                    email=c.get("email"),
                    opening_hours=_text(c, "opening_hours"),
                )
                for c in data.get("channels", [])
            ),
            contact_point=data.get("contact_point") or {},
            updated_at=data.get("updated_at"),
            forms={f["form"]: int(f["version"]) for f in data.get("forms", ())},
        )

    @property
    def institutions(self) -> tuple[str, ...]:
        """Return every institution taking part, competent authority first."""
        others = [i for i in self.participating_institutions if i != self.competent_authority]
        steps = [s.institution for s in self.steps if s.institution not in others]
        return tuple(dict.fromkeys([self.competent_authority, *others, *steps]))

    @property
    def is_free(self) -> bool:
        """Say whether every cost is zero (or there is none)."""
        return all(c.is_free for c in self.costs)

    @property
    def can_apply_online(self) -> bool:
        """Say whether the person applies online (maturity level 3 or more, for people and businesses)."""
        return self.level >= 3 and self.audiences != ("institutions",)

    @property
    def needed_acr(self) -> str:
        """Return the level of assurance applying needs: "high" when every sign-in means listed is (eID, eParaksts)."""
        return required_acr(self.authentication_means)

    def is_for(self, person: Identity | None) -> bool:
        """Say whether a signed-in person may apply as who they are (a private person or a company); anyone may look."""
        return person is None or person.audience in self.audiences

    @property
    def offers_printable_form(self) -> bool:
        """Say whether the portal prints the registry's application form (level 2: apply on paper, form from here)."""
        return self.level == 2 and "application" in self.forms

    @property
    def is_applied_for_here(self) -> bool:
        """Say whether people apply on this portal: online, with an application form the registry publishes."""
        return self.can_apply_online and "application" in self.forms

    @property
    def online_channel(self) -> Channel | None:
        """Return the e-service channel, if there is one."""
        return next((c for c in self.channels if c.is_online and c.url), None)

    @property
    def printable_form(self) -> Channel | None:
        """Return the downloadable form channel, if there is one."""
        return next((c for c in self.channels if c.type == "printable-form" and c.url), None)

    @property
    def offices(self) -> tuple[Channel, ...]:
        """Return the channels a person visits or calls."""
        return tuple(c for c in self.channels if c.type in ("office", "phone", "post", "email", "e-address"))

    @property
    def updated_on(self) -> date | None:
        """Return the day the description was last updated, if the registry says."""
        try:
            return datetime.fromisoformat((self.updated_at or "").replace("Z", "+00:00")).date()
        except ValueError:
            return None

    def processing_days(self) -> int | None:
        """Return the processing time in days when it is a whole number of days or weeks."""
        match = _DURATION.match(self.processing_time or "")
        if not match or match.group("y") or match.group("mo") or match.group("h"):
            return None
        days = int(match.group("d") or 0) + 7 * int(match.group("w") or 0)
        return days or None

    def is_available_in(self, municipality: str | None) -> bool:
        """Say whether a municipal portal of `municipality` offers this service (None: every portal does)."""
        return municipality is None or self.spatial in ("LV", municipality)


@dataclass(frozen=True)
class Institution:
    """A public institution."""

    id: str
    name: Text
    short_name: Text
    kind: str
    municipality: str | None
    registration_number: str | None
    e_address: str | None
    contacts: dict[str, Any]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Institution:
        """Wrap a registry institution."""
        return cls(
            id=data["id"],
            name=data["name"],
            short_name=data.get("short_name") or data["name"],
            kind=data.get("kind", "state"),
            municipality=data.get("municipality"),
            registration_number=data.get("registration_number"),
            e_address=data.get("e_address"),
            contacts=data.get("contacts") or {},
        )


@dataclass(frozen=True)
class LifeEvent:
    """A life or business event grouping services."""

    id: str
    title: Text
    kind: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LifeEvent:
        """Wrap a registry life event."""
        return cls(id=data["id"], title=data["title"], kind=data.get("kind", "life"))


@dataclass(frozen=True)
class ServiceList:
    """One page of catalogue results."""

    items: tuple[ServiceSummary, ...]
    total: int
    page: int
    per_page: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServiceList:
        """Wrap a registry list response."""
        return cls(
            items=tuple(ServiceSummary.from_json(i) for i in data["items"]),
            total=int(data["total"]),
            page=int(data["page"]),
            per_page=int(data["per_page"]),
        )

    @property
    def pages(self) -> int:
        """Return how many pages there are (at least one)."""
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first_number(self) -> int:
        """Return the position of the first item on this page, from 1."""
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last_number(self) -> int:
        """Return the position of the last item on this page."""
        return self.first_number + len(self.items) - 1 if self.items else 0
