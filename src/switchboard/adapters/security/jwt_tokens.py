"""Access tokens as signed JWTs (HS256). Each carries a random `jti` so logout can revoke it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from switchboard.core.domain.errors import Unauthenticated
from switchboard.core.domain.ids import new_id
from switchboard.core.ports.system import AccessToken


class JwtTokenIssuer:
    def __init__(self, secret: str, ttl: timedelta, issuer: str = "switchboard") -> None:
        self._secret = secret
        self._ttl = ttl
        self._issuer = issuer

    def issue(self, user_id: int) -> AccessToken:
        now = datetime.now(UTC)
        expires = now + self._ttl
        token_id = new_id("jti")
        # `iat` with its fraction (a NumericDate may have one), so a password reset can end every
        # session opened before it and none opened after, even within the same second
        claims = {"sub": str(user_id), "jti": token_id, "iat": now.timestamp(), "exp": expires, "iss": self._issuer}
        return AccessToken(jwt.encode(claims, self._secret, algorithm="HS256"), token_id, user_id, expires, now)

    def read(self, token: str) -> AccessToken:
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=["HS256"], issuer=self._issuer,
                options={"require": ["sub", "jti", "exp"]},
            )
            issued = datetime.fromtimestamp(claims["iat"], UTC) if "iat" in claims else None
            return AccessToken(
                token, str(claims["jti"]), int(claims["sub"]), datetime.fromtimestamp(claims["exp"], UTC), issued
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("the access token has expired; log in again") from exc
        except (jwt.InvalidTokenError, ValueError) as exc:
            raise Unauthenticated("the access token is invalid") from exc
