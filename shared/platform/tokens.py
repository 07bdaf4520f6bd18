"""Signed bearer tokens: who is calling and with which roles, without any web framework.

Tokens are HS256 JWTs signed with a key from env (`CRM_JWT_SECRET`); `crm token` and
`make token` issue local development tokens with the same key. Kept apart from
`auth.py` (the FastAPI side) so that the `crm` command line can issue a token without
importing a web framework (it starts in well under a second).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

import jwt
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

Role = Literal["admin", "sales_rep", "sales_manager", "marketer", "support_agent", "analyst", "integration"]
ROLES: tuple[str, ...] = get_args(Role)
ISSUER = "crm-platform"
ALGORITHM = "HS256"


class AuthSettings(BaseSettings):
    """`CRM_JWT_SECRET`: the signing key shared by the issuer and every service."""

    model_config = SettingsConfigDict(env_prefix="CRM_JWT_", extra="ignore")

    secret: SecretStr = Field(min_length=32, description="HS256 key; 32+ random bytes (`openssl rand -hex 32`).")


@dataclass(frozen=True)
class Principal:
    """Who is calling, and with which roles."""

    subject: str
    roles: frozenset[str]

    def has_any(self, *roles: str) -> bool:
        """True if the caller holds one of `roles` (admin holds them all)."""
        return "admin" in self.roles or bool(self.roles.intersection(roles))


def issue_token(secret: str, subject: str, roles: list[str], ttl: timedelta = timedelta(hours=8)) -> str:
    """A signed token for `subject` with `roles`, valid for `ttl`."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}; known: {', '.join(ROLES)}")
    now = datetime.now(UTC)
    claims = {"sub": subject, "roles": sorted(roles), "iss": ISSUER, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(secret: str, token: str) -> Principal:
    """The principal of a valid token; `jwt.InvalidTokenError` otherwise."""
    claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER, options={"require": ["exp", "sub"]})
    return Principal(subject=str(claims["sub"]), roles=frozenset(claims.get("roles", [])))
