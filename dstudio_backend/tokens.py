"""JWTs as Supabase signs them (HS256 with the project's secret): the anon and
service-role API keys, users' access tokens, and signed storage URLs."""

from __future__ import annotations

import secrets
import time
from typing import Any

import jwt

ROLES = ("anon", "authenticated", "service_role")
VERIFIED_CACHE = 4096   # tokens whose signature was checked once; a client sends the same one for an hour


class TokenError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class Tokens:
    def __init__(self, secret: str | None = None, issuer: str = "dstudio-backend"):
        self.secret = secret or secrets.token_urlsafe(48)
        self.issuer = issuer
        # token -> (its claims, when it expires): every request carries a JWT, and checking
        # its signature and claims again costs more than the rest of a simple request's Python.
        # Only what verified is kept; its expiry is still checked on every use.
        self._verified: dict[str, tuple[dict[str, Any], float]] = {}

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.secret, algorithm="HS256")

    def api_key(self, role: str, years: int = 10) -> str:
        now = int(time.time())
        return self.sign({"iss": self.issuer, "role": role, "iat": now, "exp": now + years * 365 * 86400})

    def access_token(self, user: dict[str, Any], session_id: str, expires_in: int) -> tuple[str, int]:
        now = int(time.time())
        expires_at = now + expires_in
        claims = {
            "iss": f"{self.issuer}/auth/v1", "aud": "authenticated", "sub": str(user["id"]),
            "email": user.get("email") or "", "phone": "", "role": "authenticated",
            "app_metadata": user.get("raw_app_meta_data") or {}, "user_metadata": user.get("raw_user_meta_data") or {},
            "aal": "aal1", "amr": [{"method": "password", "timestamp": now}], "session_id": session_id,
            "is_anonymous": False, "iat": now, "exp": expires_at,
        }
        return self.sign(claims), expires_at

    def sign_url(self, url: str, expires_in: int, **extra: Any) -> str:
        """A signed URL's token for ``url`` (``bucket/name``). It carries no ``role``, so it is
        never taken as an API key; an upload URL's token says ``kind: upload``."""
        now = int(time.time())
        return self.sign({**extra, "url": url, "iat": now, "exp": now + expires_in})

    def verify_url(self, token: str, url: str, kind: str | None = None) -> dict[str, Any]:
        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"])
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("InvalidJWT", "the signed URL has expired") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenError("InvalidJWT", f"invalid signed URL token: {exc}") from exc
        if claims.get("url") != url:
            raise TokenError("InvalidSignature", "the signed URL was made for another object")
        if claims.get("kind") != kind:
            raise TokenError("InvalidSignature", "the signed URL was made for another operation")
        return claims

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a token signed with the secret, not expired, with a known role
        (a copy: the caller may change it)."""
        known = self._verified.get(token)
        if known is not None:
            claims, expires = known
            if time.time() < expires:
                return dict(claims)
            del self._verified[token]
            raise TokenError("PGRST303", "JWT expired")
        claims = self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE:
            self._verified.clear()  # simpler than an LRU and as good for a few hundred clients
        # PyJWT read exp as int(exp) and found it in the future (or there is none)
        self._verified[token] = (dict(claims), int(claims["exp"]) if "exp" in claims else float("inf"))
        return claims

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"], options={"verify_aud": False})
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("PGRST303", "JWT expired") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenError("PGRST301", f"invalid JWT: {exc}") from exc
        if claims.get("role") not in ROLES:
            raise TokenError("PGRST301", f"JWT role {claims.get('role')!r} is not one of {', '.join(ROLES)}")
        return claims
