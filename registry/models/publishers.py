"""Publisher tokens: issue one to an institution, and find the institution a token belongs to."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.models.tables import PublisherToken

TOKEN_PREFIX = "lvreg_"  # noqa: S105 - a public marker that tells tokens apart, not a secret


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, institution_id: str, label: str) -> str:
    """Create a new token for `institution_id` and return it; only its digest is stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        PublisherToken(
            institution_id=institution_id, token_sha256=_digest(token), label=label, created_at=datetime.now(UTC)
        )
    )
    return token


def institution_for_token(session: Session, token: str) -> str | None:
    """Return the institution a valid, unrevoked token belongs to, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    stmt = select(PublisherToken.institution_id).where(
        PublisherToken.token_sha256 == _digest(token), PublisherToken.revoked_at.is_(None)
    )
    return session.scalar(stmt)


def revoke_tokens(session: Session, institution_id: str) -> int:
    """Revoke every token of `institution_id`; return how many were revoked."""
    tokens = session.scalars(
        select(PublisherToken).where(
            PublisherToken.institution_id == institution_id, PublisherToken.revoked_at.is_(None)
        )
    ).all()
    for row in tokens:
        row.revoked_at = datetime.now(UTC)
    return len(tokens)
