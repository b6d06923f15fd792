"""The identity the portal forwards: signed, short-lived, checked claim by claim."""

from __future__ import annotations

import time
from typing import Any

import pytest
from itsdangerous import URLSafeTimedSerializer

from identity import SALT, Identity, InvalidIdentity, read_identity, sign_identity

SECRET = "unit-test-identity-secret-not-for-production"

PERSON = {
    "sub": "010190-12345",
    "name": "Jānis Bērziņš",
    "kind": "person",
    "company": None,
    "company_name": None,
    "acr": "substantial",
}
REPRESENTATIVE = {
    "sub": "320000-12345",
    "name": "Anna Kalniņa",
    "kind": "company_representative",
    "company": "40003245752",
    "company_name": "SIA Piemērs",
    "acr": "high",
}


def test_a_signed_person_reads_back() -> None:
    identity = read_identity(SECRET, sign_identity(SECRET, PERSON))
    assert identity == Identity(sub="010190-12345", name="Jānis Bērziņš", kind="person", acr="substantial")
    assert identity.principal == "010190-12345"
    assert identity.audience == "residents"


def test_a_representative_acts_for_the_company() -> None:
    identity = read_identity(SECRET, sign_identity(SECRET, REPRESENTATIVE))
    assert identity.principal == "40003245752"
    assert identity.audience == "businesses"
    assert identity.claims() == {**REPRESENTATIVE, "institution": None, "roles": []}


EMPLOYEE = {
    "sub": "150585-12343",
    "name": "Ilze Kalna",
    "kind": "employee",
    "acr": "high",
    "institution": "nva",
    "roles": ["case_worker", "decision_maker"],
}


def test_an_employee_carries_an_institution_and_roles() -> None:
    identity = read_identity(SECRET, sign_identity(SECRET, EMPLOYEE))
    assert identity.is_employee and identity.institution == "nva"
    assert identity.roles == ("case_worker", "decision_maker")
    assert identity.audience == "institutions"
    assert read_identity(SECRET, sign_identity(SECRET, identity)) == identity


@pytest.mark.parametrize(
    "claims",
    [
        {**EMPLOYEE, "institution": None},
        {**EMPLOYEE, "institution": "Not An Id"},
        {**EMPLOYEE, "roles": []},
        {**EMPLOYEE, "roles": ["admin"]},
        {**EMPLOYEE, "roles": ["case_worker", "case_worker"]},
        {**EMPLOYEE, "company": "40003245752", "company_name": "SIA X"},
        {**PERSON, "institution": "nva"},
        {**PERSON, "roles": ["case_worker"]},
    ],
)
def test_employee_claims_are_checked(claims: dict[str, object]) -> None:
    with pytest.raises(InvalidIdentity):
        sign_identity(SECRET, claims)


def test_an_identity_object_signs_too() -> None:
    identity = Identity(sub="320000-12345", name="A", kind="person", acr="high")
    assert read_identity(SECRET, sign_identity(SECRET, identity)) == identity


def test_wrong_secret_is_rejected() -> None:
    token = sign_identity(SECRET, PERSON)
    with pytest.raises(InvalidIdentity, match="not valid"):
        read_identity("another-secret", token)


def test_tampered_token_is_rejected() -> None:
    token = sign_identity(SECRET, PERSON)
    # The same timestamp and signature with another payload: someone changed whose identity it is.
    _, timestamp, signature = token.rsplit(".", 2)
    other = URLSafeTimedSerializer(SECRET, salt=SALT).dumps({**PERSON, "sub": "020202-22222"})
    swapped = other.rsplit(".", 2)[0] + f".{timestamp}.{signature}"
    forged = URLSafeTimedSerializer("guess", salt=SALT).dumps({**PERSON, "sub": "020202-22222"})
    middle = len(token) // 2
    flipped = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    for bad in (swapped, forged, flipped, token[:-2], "x", token + "x"):
        with pytest.raises(InvalidIdentity):
            read_identity(SECRET, bad)


def test_another_salt_is_rejected() -> None:
    token = URLSafeTimedSerializer(SECRET, salt="something-else").dumps(PERSON)
    with pytest.raises(InvalidIdentity):
        read_identity(SECRET, token)


def test_expired_token_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - 301)
    token = sign_identity(SECRET, PERSON)
    monkeypatch.setattr(time, "time", real_time)
    with pytest.raises(InvalidIdentity, match="expired"):
        read_identity(SECRET, token)
    assert read_identity(SECRET, token, max_age=400).sub == PERSON["sub"]


def test_token_from_the_future_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 60)
    token = sign_identity(SECRET, PERSON)
    monkeypatch.setattr(time, "time", real_time)
    with pytest.raises(InvalidIdentity):
        read_identity(SECRET, token)


def test_empty_and_huge_tokens_are_rejected() -> None:
    for token in ("", "a" * 5000):
        with pytest.raises(InvalidIdentity):
            read_identity(SECRET, token)


def test_an_empty_secret_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="secret"):
        sign_identity("", PERSON)


@pytest.mark.parametrize(
    "change",
    [
        {"sub": "01019012345"},  # not canonical: no hyphen
        {"sub": "010190-32345"},  # century digit 3 does not exist
        {"sub": "011390-12345"},  # month 13
        {"sub": "310000-12345"},  # new-format codes start with 32
        {"sub": "٠١٠١٩٠-١٢٣٤٥"},  # Arabic-Indic digits
        {"sub": 10190012345},
        {"name": ""},
        {"name": "x" * 201},
        {"kind": "employee"},
        {"acr": "low"},
        {"company": "40003245752"},  # a person acting for themselves has no company
        {"kind": "company_representative"},  # a representative needs a company
        {"kind": "company_representative", "company": "4000324575", "company_name": "SIA"},
        {"kind": "company_representative", "company": "40003245752", "company_name": None},
        {"admin": True},
    ],
)
def test_malformed_claims_are_rejected_when_signing_and_reading(change: dict[str, Any]) -> None:
    claims = {**PERSON, **change}
    with pytest.raises(InvalidIdentity):
        sign_identity(SECRET, claims)
    # A token carrying them (signed by someone who bypassed sign_identity) is refused as well.
    token = URLSafeTimedSerializer(SECRET, salt=SALT).dumps(claims)
    with pytest.raises(InvalidIdentity):
        read_identity(SECRET, token)


def test_errors_never_repeat_the_personal_code() -> None:
    token = URLSafeTimedSerializer(SECRET, salt=SALT).dumps({**PERSON, "kind": "robot"})
    with pytest.raises(InvalidIdentity) as caught:
        read_identity(SECRET, token)
    assert "010190" not in str(caught.value)


def test_a_list_payload_is_rejected() -> None:
    token = URLSafeTimedSerializer(SECRET, salt=SALT).dumps(["010190-12345"])
    with pytest.raises(InvalidIdentity):
        read_identity(SECRET, token)
