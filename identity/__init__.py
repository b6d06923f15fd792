"""Who the signed-in person is, as the portal forwards it to the registry: a signed, short-lived token.

The portal signs the identity it got from the identity provider with a secret it shares with the registry; the
registry reads it from the `X-Portal-Identity` header and decides what that person may see and do. Both programs use
this package and nothing else of each other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "lv-eservices-identity"
MAX_AGE_SECONDS = 300
# A real token is a few hundred characters; refusing longer ones keeps decoding cheap for junk headers.
MAX_TOKEN_LENGTH = 4096

Kind = Literal["person", "company_representative", "employee"]
Acr = Literal["substantial", "high"]
KINDS: tuple[str, ...] = ("person", "company_representative", "employee")
# What an institution's employee may do with its cases: work on a step, and decide an application.
ROLES: tuple[str, ...] = ("case_worker", "decision_maker")
INSTITUTION_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
ACRS: tuple[str, ...] = ("substantial", "high")
# Sign-in means of the catalogue (`authentication_means`) that reach only the eIDAS level "substantial" (an internet
# bank; a foreign eID may be either): a service listing none of them needs "high" (eID card, eParaksts).
SUBSTANTIAL_MEANS = frozenset({"internet-bank", "eidas"})


def required_acr(authentication_means: Any) -> str:
    """Return the level of assurance applying for a service needs, from the sign-in means it lists."""
    means = set(authentication_means or ())
    return "high" if means and not means & SUBSTANTIAL_MEANS else "substantial"


def is_assured(acr: str, needed: str) -> bool:
    """Say whether a sign-in at `acr` is enough where `needed` is asked."""
    return acr in ACRS and needed in ACRS and ACRS.index(acr) >= ACRS.index(needed)


# Canonical personal codes: the old format DDMMYY-CNNNN (C is the century digit 0, 1 or 2) or the new format
# 32NNNN-NNNNN (3[2-9] as in forms.validators). Checksums are the identity provider's business; the format alone
# keeps a principal unambiguous (a company number has 11 digits and no hyphen). ASCII only: `\d` would match
# other scripts' digits.
PERSONAL_CODE = re.compile(r"3[2-9][0-9]{4}-[0-9]{5}|(?:[0-2][0-9]|3[01])(?:0[1-9]|1[0-2])[0-9]{2}-[0-2][0-9]{4}")
COMPANY_NUMBER = re.compile(r"[0-9]{11}")
MAX_NAME_LENGTH = 200


class InvalidIdentity(Exception):
    """A token that is missing, malformed, tampered with, signed with another secret or expired."""


@dataclass(frozen=True)
class Identity:
    """A signed-in person, possibly acting for a company, or an institution's employee with their roles."""

    sub: str
    name: str
    kind: Kind
    acr: Acr
    company: str | None = None
    company_name: str | None = None
    institution: str | None = None
    roles: tuple[str, ...] = ()

    @property
    def is_employee(self) -> bool:
        """Say whether this is an institution's employee (who works on cases, never applies as such)."""
        return self.kind == "employee"

    @property
    def principal(self) -> str:
        """Return whose data this is: the person, or the company a representative acts for."""
        if self.kind == "company_representative" and self.company is not None:
            return self.company
        return self.sub

    @property
    def audience(self) -> str:
        """Return the catalogue audience this identity belongs to (`residents` or `businesses`)."""
        if self.kind == "employee":
            return "institutions"
        return "businesses" if self.kind == "company_representative" else "residents"

    def claims(self) -> dict[str, Any]:
        """Return the token payload (roles as a list, as JSON has them)."""
        return {**asdict(self), "roles": list(self.roles)}


def _is_personal_code(value: Any) -> bool:
    return isinstance(value, str) and PERSONAL_CODE.fullmatch(value) is not None


def _text(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value.strip()) <= MAX_NAME_LENGTH


def identity_from_claims(claims: Any) -> Identity:
    """Check a payload field by field and return the identity it describes, or raise InvalidIdentity."""
    if not isinstance(claims, Mapping):
        raise InvalidIdentity("the identity must be an object")
    unknown = set(claims) - {"sub", "name", "kind", "company", "company_name", "acr", "institution", "roles"}
    if unknown:
        raise InvalidIdentity(f"unknown claims: {', '.join(sorted(map(str, unknown)))}")
    # Messages never repeat the values: they may be personal codes, which must not reach logs.
    if not _is_personal_code(claims.get("sub")):
        raise InvalidIdentity("sub must be a canonical personal code")
    if not _text(claims.get("name")):
        raise InvalidIdentity("name must be a non-empty string")
    kind, acr = claims.get("kind"), claims.get("acr")
    if kind not in KINDS:
        raise InvalidIdentity("kind must be person, company_representative or employee")
    if acr not in ACRS:
        raise InvalidIdentity("acr must be substantial or high")
    company, company_name = claims.get("company"), claims.get("company_name")
    if kind == "company_representative":
        if not isinstance(company, str) or COMPANY_NUMBER.fullmatch(company) is None:
            raise InvalidIdentity("company must be an 11-digit registration number")
        if not _text(company_name):
            raise InvalidIdentity("company_name must be a non-empty string")
    elif company is not None or company_name is not None:
        raise InvalidIdentity("a person acting for themselves, or an employee, has no company")
    institution, roles = claims.get("institution"), claims.get("roles") or []
    if kind == "employee":
        if not isinstance(institution, str) or len(institution) > 80 or INSTITUTION_ID.fullmatch(institution) is None:
            raise InvalidIdentity("an employee's institution must be an institution id")
        if (
            not isinstance(roles, list | tuple)
            or not roles
            or not set(roles) <= set(ROLES)
            or len(set(roles)) != len(roles)
        ):
            raise InvalidIdentity(f"an employee's roles must be some of {', '.join(ROLES)}")
    elif institution is not None or roles:
        raise InvalidIdentity("only an employee has an institution and roles")
    return Identity(
        sub=claims["sub"],
        name=claims["name"],
        kind=kind,
        acr=acr,
        company=company,
        company_name=company_name,
        institution=institution,
        roles=tuple(roles),
    )


def _serializer(secret: str) -> URLSafeTimedSerializer:
    if not secret:
        raise ValueError("the identity secret must not be empty")
    return URLSafeTimedSerializer(secret, salt=SALT)


def sign_identity(secret: str, claims: Identity | Mapping[str, Any]) -> str:
    """Return a token carrying `claims` (checked first, so the portal cannot forward a malformed identity)."""
    identity = claims if isinstance(claims, Identity) else identity_from_claims(claims)
    return str(_serializer(secret).dumps(identity.claims()))


def read_identity(secret: str, token: str, max_age: int = MAX_AGE_SECONDS) -> Identity:
    """Return the identity in `token`, or raise InvalidIdentity if it is malformed, tampered with or expired."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidIdentity("the identity token is missing or too long")
    try:
        claims = _serializer(secret).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise InvalidIdentity("the identity token has expired") from exc
    except BadSignature as exc:
        raise InvalidIdentity("the identity token is not valid") from exc
    return identity_from_claims(claims)
