"""OAuth2 bearer JWTs with roles, for every endpoint but health: the FastAPI side of `tokens.py`.

The names of `tokens.py` (settings, principal, issuing and reading tokens) are
re-exported here, where the services have always imported them from.
"""

from __future__ import annotations

from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from shared.platform.tokens import (
    ALGORITHM,
    ISSUER,
    ROLES,
    AuthSettings,
    Principal,
    Role,
    decode_token,
    issue_token,
)

__all__ = [
    "ALGORITHM",
    "ISSUER",
    "ROLES",
    "AuthSettings",
    "CurrentUser",
    "Principal",
    "Role",
    "current_principal",
    "decode_token",
    "issue_token",
    "require_roles",
]

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
