"""The session helpers behind the expiry warning and the recovery of a form posted after the session ended."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, g, session
from werkzeug.datastructures import MultiDict

from app.auth import session as auth_session
from app.auth.providers import load_demo_people
from app.auth.session import (
    EXPIRED_KEY,
    EXPIRY_FIELD,
    SESSION_KEY,
    STASH_KEY,
    STASH_MAX_AGE_SECONDS,
    STASH_MAX_BYTES,
    get_current_user,
    keep_alive,
    sign_in,
    signed_out_by_expiry,
    stash_form,
    take_stashed_form,
    time_left,
)
from identity import Identity
from tests.fixtures.session_clock import Clock

PAGE = "/lv/my/drafts/abc/pages/education"
PEOPLE = {person.id: person.identity for person in load_demo_people()}
LIGA, JANIS = PEOPLE["liga-berzina"], PEOPLE["janis-ozolins"]


@pytest.fixture
def app() -> Flask:
    flask_app = Flask(__name__)
    flask_app.config.update(SECRET_KEY="unit-secret", SESSION_IDLE_MINUTES=20, SESSION_MAX_HOURS=12)
    return flask_app


@pytest.fixture
def ctx(app: Flask, clock: Clock) -> Iterator[None]:
    """A request context with a session; `new_request()` starts the next request of the same browser."""
    with app.test_request_context("/"):
        yield


def new_request() -> None:
    """Forget what this request read from the session, as the next request of the same browser would."""
    g.pop("auth_user", None)


def signed_in_as(identity: Identity) -> None:
    sign_in(identity)
    session["csrf_token"] = "raw-token"  # as Flask-WTF keeps it, once a page with a form was shown


def expire(clock: Clock) -> None:
    clock.advance(20 * 60 + 1)
    new_request()
    assert get_current_user() is None


# --- time left -------------------------------------------------------------------------------------------------


def test_nobody_signed_in_has_no_time_left(ctx: None) -> None:
    assert time_left() is None


def test_time_left_counts_down_from_the_limits(ctx: None, clock: Clock) -> None:
    signed_in_as(LIGA)
    left = time_left()
    assert left is not None and (left.idle_seconds, left.absolute_seconds) == (1200, 43200)
    clock.advance(300.5)
    left = time_left()
    assert left is not None and (left.idle_seconds, left.absolute_seconds) == (899, 42899)  # rounded down
    assert left.seconds == 899 and left.can_be_extended


def test_keep_alive_starts_the_idle_limit_again_but_not_the_absolute_one(ctx: None, clock: Clock) -> None:
    signed_in_as(LIGA)
    clock.advance(600)
    keep_alive()
    left = time_left()
    assert left is not None and left.idle_seconds == 1200 and left.absolute_seconds == 43200 - 600


def test_near_the_absolute_limit_the_session_cannot_be_extended(ctx: None, clock: Clock) -> None:
    signed_in_as(LIGA)
    for _ in range(36):  # active all day: a request every 20 minutes
        clock.advance(1199)
        keep_alive()
    left = time_left()
    assert left is not None and left.absolute_seconds == 43200 - 36 * 1199 == 36
    assert left.seconds == 36 and not left.can_be_extended


# --- running out -----------------------------------------------------------------------------------------------


def test_running_out_keeps_the_csrf_token_and_who_it_was_but_no_identity(ctx: None, clock: Clock) -> None:
    signed_in_as(LIGA)
    expire(clock)
    assert SESSION_KEY not in session and session[EXPIRED_KEY] == "idle"
    assert session["csrf_token"] == "raw-token"
    assert signed_out_by_expiry()
    assert LIGA.sub not in repr(dict(session))  # a keyed hash, not the personal code


def test_without_a_session_that_ran_out_nothing_is_stashed(ctx: None) -> None:
    assert not signed_out_by_expiry()
    assert stash_form(PAGE, MultiDict({"profession": "pavārs"})) is False
    assert STASH_KEY not in session


# --- stashing a form -------------------------------------------------------------------------------------------


def test_a_stash_survives_signing_in_again_as_the_same_person_and_is_taken_once(ctx: None, clock: Clock) -> None:
    signed_in_as(LIGA)
    expire(clock)
    posted = MultiDict(
        [("csrf_token", "x"), (EXPIRY_FIELD, "1"), ("profession", "pavārs"), ("days", "1"), ("days", "3")]
    )
    assert stash_form(PAGE, posted) is True
    sign_in(LIGA)
    assert take_stashed_form("/lv/my/drafts/abc/pages/other") is None  # another page: left for its own page
    taken = take_stashed_form(PAGE)
    assert taken is not None and taken.to_dict(flat=False) == {"profession": ["pavārs"], "days": ["1", "3"]}
    assert take_stashed_form(PAGE) is None  # once


def test_a_different_person_signing_in_does_not_get_the_stash(ctx: None, clock: Clock) -> None:
    signed_in_as(LIGA)
    expire(clock)
    assert stash_form(PAGE, MultiDict({"profession": "pavārs"}))
    sign_in(JANIS)
    assert STASH_KEY not in session
    assert take_stashed_form(PAGE) is None


def test_a_stash_taken_by_someone_else_is_dropped(ctx: None, clock: Clock) -> None:
    signed_in_as(LIGA)
    expire(clock)
    assert stash_form(PAGE, MultiDict({"profession": "pavārs"}))
    stash = session[STASH_KEY]
    sign_in(JANIS)
    session[STASH_KEY] = stash  # e.g. a cookie copied around: still not shown to another person
    assert take_stashed_form(PAGE) is None and STASH_KEY not in session


def test_a_stash_older_than_the_limit_is_not_given_back(ctx: None, clock: Clock) -> None:
    signed_in_as(LIGA)
    expire(clock)
    assert stash_form(PAGE, MultiDict({"profession": "pavārs"}))
    clock.advance(STASH_MAX_AGE_SECONDS + 1)
    sign_in(LIGA)
    assert take_stashed_form(PAGE) is None


def test_an_old_stash_is_dropped_on_the_next_request(app: Flask, ctx: None, clock: Clock) -> None:
    signed_in_as(LIGA)
    expire(clock)
    assert stash_form(PAGE, MultiDict({"profession": "pavārs"}))
    auth_session._touch()
    assert STASH_KEY in session
    clock.advance(STASH_MAX_AGE_SECONDS + 1)
    auth_session._touch()
    assert STASH_KEY not in session


def test_a_form_too_large_for_the_cookie_is_not_stashed_at_all(ctx: None, clock: Clock) -> None:
    signed_in_as(LIGA)
    expire(clock)
    assert stash_form(PAGE, MultiDict({"profession": "pavārs"}))
    assert stash_form(PAGE, MultiDict({"a": "x" * (STASH_MAX_BYTES // 2), "b": "y" * (STASH_MAX_BYTES // 2)})) is False
    assert STASH_KEY not in session  # not the earlier, smaller one either: it is not what the page showed last


def test_latvian_letters_count_as_the_cookie_stores_them(ctx: None, clock: Clock) -> None:
    signed_in_as(LIGA)
    expire(clock)
    # The session serializer writes "ā" as \u0101: six bytes each.
    assert stash_form(PAGE, MultiDict({"a": "ā" * (STASH_MAX_BYTES // 8)}))
    assert not stash_form(PAGE, MultiDict({"a": "ā" * (STASH_MAX_BYTES // 5)}))
