"""Cognito user pools' data plane: the keys a pool signs with, served on loopback, and the
check of a pool's RS256 tokens (what API Gateway's ``COGNITO_USER_POOLS`` authorizer does).

moto serves the control plane and issues the tokens (sign-up, confirmation, ``InitiateAuth``
with ``USER_PASSWORD_AUTH``, ...); the bridge gives each pool its own RSA key and ``kid``.

Supported:
- ``GET /{userPoolId}/.well-known/jwks.json``: the pool's public keys, as AWS serves them at
  ``https://cognito-idp.{region}.amazonaws.com/{userPoolId}/.well-known/jwks.json``;
- ``GET /{userPoolId}/.well-known/openid-configuration``: ``issuer`` (the tokens' ``iss``, the
  AWS URL) and ``jwks_uri`` (here: on this local AWS, where a client can fetch it);
- :func:`verify_token`: signature (RS256, the pool's ``kid``), ``iss``, ``exp`` and
  ``token_use`` as "Verifying a JSON Web Token" prescribes
  (https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html).

Limitations: one key per pool (AWS publishes two and rotates them); no hosted UI, OAuth 2.0
endpoints (``/oauth2/token``) or token revocation; an unknown pool answers 404 with a JSON
``ResourceNotFoundException`` (the exact body AWS sends there is not recorded here).

RSA signatures are checked with ``cryptography``; this module never imports moto (it reads the
keys through the bridge).
"""
from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass
from typing import Any, Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from . import moto_bridge

_WELL_KNOWN = re.compile(r"^/(?P<pool>[a-z]{2}(?:-[a-z]+)+-\d_[0-9A-Za-z]+)/\.well-known/"
                         r"(?P<what>jwks\.json|openid-configuration)$")


def issuer(region: str, pool_id: str) -> str:
    """The ``iss`` claim of a pool's tokens."""
    return f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"


class WellKnown:
    """WSGI app for a pool's ``/.well-known/`` documents."""

    @staticmethod
    def matches(environ: dict[str, Any]) -> bool:
        return (environ.get("REQUEST_METHOD") in ("GET", "HEAD")
                and _WELL_KNOWN.match(environ.get("PATH_INFO", "")) is not None)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        match = _WELL_KNOWN.match(environ.get("PATH_INFO", ""))
        assert match is not None
        pool_id = match.group("pool")
        jwks = moto_bridge.cognito_jwks(pool_id)
        region = moto_bridge.cognito_pool_region(pool_id)
        if jwks is None or region is None:
            status, document = "404 Not Found", {
                "__type": "ResourceNotFoundException",
                "message": f"User pool {pool_id} does not exist."}
        elif match.group("what") == "jwks.json":
            status, document = "200 OK", jwks
        else:
            host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
            base = f"{environ.get('wsgi.url_scheme', 'http')}://{host}"
            status, document = "200 OK", {
                "authorization_endpoint": f"{base}/oauth2/authorize",
                "id_token_signing_alg_values_supported": ["RS256"],
                "issuer": issuer(region, pool_id),
                "jwks_uri": f"{base}/{pool_id}/.well-known/jwks.json",
                "response_types_supported": ["code", "token"],
                "scopes_supported": ["openid", "email", "phone", "profile"],
                "subject_types_supported": ["public"],
                "token_endpoint": f"{base}/oauth2/token",
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "userinfo_endpoint": f"{base}/oauth2/userInfo",
            }
        body = json.dumps(document).encode()
        start_response(status, [("Content-Type", "application/json;charset=UTF-8"),
                                ("Content-Length", str(len(body)))])
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


class InvalidToken(Exception):
    """Why a token was refused (for the execution log; the client only sees 401)."""


@dataclass(frozen=True)
class VerifiedToken:
    header: dict[str, Any]
    claims: dict[str, Any]
    pool_id: str


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64url_int(part: str) -> int:
    return int.from_bytes(_b64url(part), "big")


def parse(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Header, claims, signed bytes and signature of a compact JWS; InvalidToken if malformed."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("not a JWT (three dot-separated parts)")
    try:
        header = json.loads(_b64url(parts[0]))
        claims = json.loads(_b64url(parts[1]))
        signature = _b64url(parts[2])
    except (ValueError, UnicodeDecodeError):
        raise InvalidToken("not a JWT (bad base64url or JSON)") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise InvalidToken("not a JWT (header or claims not an object)")
    return header, claims, f"{parts[0]}.{parts[1]}".encode(), signature


def verify_signature(jwks: dict[str, Any], header: dict[str, Any], signed: bytes, signature: bytes) -> None:
    if header.get("alg") != "RS256":
        raise InvalidToken(f"alg {header.get('alg')!r} is not RS256")
    key = next((k for k in jwks.get("keys", []) if k.get("kid") == header.get("kid")), None)
    if key is None:
        raise InvalidToken(f"kid {header.get('kid')!r} is not in the pool's JWKS")
    public = rsa.RSAPublicNumbers(_b64url_int(key["e"]), _b64url_int(key["n"])).public_key()
    try:
        public.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise InvalidToken("signature does not verify") from None


def pool_id_from_arn(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def verify_token(token: str, pool_ids: list[str], *, now: float | None = None) -> VerifiedToken:
    """A token issued by one of the pools: signature with the pool's key, ``iss`` of that pool,
    not expired, ``token_use`` ``id`` or ``access``. Raises InvalidToken saying why not."""
    header, claims, signed, signature = parse(token)
    iss = claims.get("iss")
    for pool_id in pool_ids:
        region = moto_bridge.cognito_pool_region(pool_id)
        if region is None or iss != issuer(region, pool_id):
            continue
        jwks = moto_bridge.cognito_jwks(pool_id) or {"keys": []}
        verify_signature(jwks, header, signed, signature)
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or exp <= (time.time() if now is None else now):
            raise InvalidToken("token expired")
        if claims.get("token_use") not in ("id", "access"):
            raise InvalidToken(f"token_use {claims.get('token_use')!r} is neither id nor access")
        return VerifiedToken(header, claims, pool_id)
    raise InvalidToken(f"iss {iss!r} is none of the authorizer's user pools")
