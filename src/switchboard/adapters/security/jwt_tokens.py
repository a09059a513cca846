"""Access tokens as signed JWTs (HS256). Each carries a random `jti` so logout can revoke it.

The secret may arrive after construction (`use_secret`): when it lives in the database, it is read
at start-up, once the schema is migrated, before the first request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from switchboard.core.domain.errors import Unauthenticated
from switchboard.core.domain.ids import new_id
from switchboard.core.ports.system import AccessToken


class JwtTokenIssuer:
    def __init__(self, secret: str | None, ttl: timedelta, issuer: str = "switchboard") -> None:
        self._secret = secret or ""
        self._ttl = ttl
        self._issuer = issuer

    @property
    def has_secret(self) -> bool:
        return bool(self._secret)

    def use_secret(self, secret: str) -> None:
        self._secret = secret

    def _key(self) -> str:
        if not self._secret:  # a wiring mistake, never a client's: the server must not sign with ""
            raise RuntimeError("the token signing secret was not loaded (Runtime.start loads it)")
        return self._secret

    def issue(self, user_id: int) -> AccessToken:
        now = datetime.now(UTC)
        expires = now + self._ttl
        token_id = new_id("jti")
        # `iat` with its fraction (a NumericDate may have one), so a password reset can end every
        # session opened before it and none opened after, even within the same second
        claims = {"sub": str(user_id), "jti": token_id, "iat": now.timestamp(), "exp": expires, "iss": self._issuer}
        return AccessToken(jwt.encode(claims, self._key(), algorithm="HS256"), token_id, user_id, expires, now)

    def read(self, token: str) -> AccessToken:
        try:
            claims = jwt.decode(
                token, self._key(), algorithms=["HS256"], issuer=self._issuer,
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
