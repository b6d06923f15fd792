"""Identity providers behind the sign-in routes: one interface, the embedded demonstration provider, the choice.

The views in app/views/auth.py know only `SignInProvider`:

- `GET /<lang>/sign-in` calls `start(next_url)`: a page of the provider's own (the demo), or a redirect to an
  external identity provider (OpenID Connect: the authorization request, with `state` and `nonce` kept in the
  session).
- `POST /<lang>/sign-in` (a form of the provider, CSRF-checked) and `GET /<lang>/sign-in/callback` (where an external
  provider sends the browser back) call `finish()`, which returns the verified `Identity` or raises `SignInFailed`.
  The view then starts the new session and goes to `next`.

A new provider is a class with these two methods plus a line in `configured_provider`; views stay as they are.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from flask import Response, current_app, request

from app.auth.next_url import safe_next
from app.auth.session import has_stashed_form, take_expired_notice
from app.rendering import render
from forms.validators import normalise_company_number, normalise_personal_code
from identity import Identity, InvalidIdentity, identity_from_claims

DEMO_PEOPLE = Path(__file__).with_name("demo_people.toml")
_DEMO_ID = re.compile(r"[a-z0-9-]{1,40}")


class SignInFailed(Exception):
    """The provider did not vouch for anyone; `response` (if any) is what the person sees instead."""

    def __init__(self, response: Response | None = None) -> None:
        super().__init__("sign-in failed")
        self.response = response


@runtime_checkable
class SignInProvider(Protocol):
    """Something that can tell the portal who a person is."""

    def start(self, next_url: str) -> Response:
        """Begin signing in; `next_url` is a checked path on this site to return to afterwards."""
        ...

    def finish(self) -> Identity:
        """Return the identity the provider vouches for in this request, or raise SignInFailed."""
        ...


@dataclass(frozen=True)
class DemoPerson:
    """A made-up person one can sign in as, and the value the sign-in form sends for them."""

    id: str
    identity: Identity

    @property
    def is_employee(self) -> bool:
        """Say whether this is an institution's employee (listed apart on the sign-in page)."""
        return self.identity.is_employee


def load_demo_people(path: Path = DEMO_PEOPLE) -> tuple[DemoPerson, ...]:
    """Read and check the demonstration people: valid personal codes and company numbers, unique ids."""
    with path.open("rb") as fh:
        entries: list[dict[str, Any]] = tomllib.load(fh).get("people", [])
    people = tuple(_demo_person(path, entry) for entry in entries)
    ids = [person.id for person in people]
    if not people or len(ids) != len(set(ids)):
        raise ValueError(f"{path.name}: expected at least one person, each with its own id")
    return people


def _demo_person(path: Path, entry: Mapping[str, Any]) -> DemoPerson:
    person_id = entry.get("id")
    if not isinstance(person_id, str) or not _DEMO_ID.fullmatch(person_id):
        raise ValueError(f"{path.name}: every person needs an id of lower-case letters, digits and hyphens")
    try:
        identity = identity_from_claims({key: value for key, value in entry.items() if key != "id"})
        # The identity module checks the format; demo data must also pass the checksums citizens' forms apply.
        if normalise_personal_code(identity.sub) != identity.sub:
            raise ValueError("personal_code.format")
        if identity.company is not None and normalise_company_number(identity.company) != identity.company:
            raise ValueError("company_number.format")
        if identity.is_employee and identity.acr != "high":
            # Staff decide about other people's rights: the demo shows them signing in as they must, with eID.
            raise ValueError("an employee signs in with acr high")
    except (InvalidIdentity, ValueError) as exc:
        raise ValueError(f"{path.name}: person {person_id!r}: {exc}") from exc
    return DemoPerson(person_id, identity)


class DemoProvider:
    """The embedded demonstration provider: pick a made-up person from a list, no password."""

    def __init__(self, people: Iterable[DemoPerson]) -> None:
        self.people = tuple(people)
        self._by_id = {person.id: person for person in self.people}

    @classmethod
    def from_file(cls, path: Path = DEMO_PEOPLE) -> DemoProvider:
        """Return a provider offering the people in `path`."""
        return cls(load_demo_people(path))

    def start(self, next_url: str) -> Response:
        """Show the list of demonstration people."""
        return self._page(next_url)

    def finish(self) -> Identity:
        """Return the person chosen in the submitted form; without a valid choice, the page again with an error."""
        if request.method != "POST":
            raise SignInFailed()  # the demo never sends anyone to the callback
        person = self._by_id.get(request.form.get("person", ""))
        if person is None:
            raise SignInFailed(self._page(safe_next(request.form.get("next"), ""), error=True))
        return person.identity

    def _page(self, next_url: str, *, error: bool = False) -> Response:
        return render(
            "pages/auth/sign_in.html",
            status=400 if error else 200,
            people=self.people,
            applicants=[person for person in self.people if not person.is_employee],
            employees=[person for person in self.people if person.is_employee],
            institution_names=_institution_names(),
            next_url=next_url,
            error=error,
            expired=take_expired_notice(),
            idle_minutes=current_app.config["SESSION_IDLE_MINUTES"],
            max_hours=current_app.config["SESSION_MAX_HOURS"],
            answers_kept=has_stashed_form(),
        )


def _institution_names() -> dict[str, Any]:
    """Return the institutions' names by id for the employees' hints; without the registry, none (ids are shown)."""
    # Imported here: the models layer imports app.auth, and signing in must not depend on the catalogue being up.
    from app.models import catalogue_api
    from app.registry_client.errors import RegistryError

    try:
        return {key: institution.name for key, institution in catalogue_api.institutions().items()}
    except RegistryError:
        return {}


def configured_provider(config: Mapping[str, Any]) -> SignInProvider | None:
    """Return the provider SIGN_IN asks for, or None: then the portal has no sign-in routes at all.

    "oidc": an OpenID provider (latvija.gov.lv, eParaksts; app/auth/oidc.py). "demo": the demonstration, only while
    DEMO_SIGN_IN is on (never in production). "": none. Anything else is a mistake the portal refuses to start with.
    """
    choice = config.get("SIGN_IN", "demo")
    if choice == "oidc":
        from app.auth.oidc import OidcProvider  # imports this module: imported only when chosen

        return OidcProvider.from_config(config)
    if choice not in ("demo", "", None):
        raise RuntimeError(f"SIGN_IN must be oidc, demo or empty, not {choice!r}")
    if choice == "demo" and config.get("DEMO_SIGN_IN"):
        return DemoProvider.from_file()
    return None
