"""OAuth2 bearer JWTs with roles, for every endpoint but health.

Tokens are HS256-signed with a key from env (`CRM_JWT_SECRET`); `crm token` and
`make token` issue local development tokens with the same key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, get_args

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
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


_bearer = HTTPBearer(auto_error=False, description="JWT from `make token` / `crm token`.")


def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """The caller of this request, or 401."""
    if credentials is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer token", {"WWW-Authenticate": "Bearer"})
    secret: SecretStr = request.app.state.jwt_secret
    try:
        return decode_token(secret.get_secret_value(), credentials.credentials)
    except jwt.InvalidTokenError as exc:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, f"invalid token: {exc}", {"WWW-Authenticate": "Bearer"}
        ) from exc


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Any:
    """`Depends` that lets through callers holding one of `roles` (or admin), else 403.

    Use as `user: Annotated[Principal, require_roles("sales_rep")]`.
    """

    def check(user: CurrentUser) -> Principal:
        if not user.has_any(*roles):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"requires one of the roles: {', '.join(roles)}")
        return user

    return Depends(check)
