"""Lambda@Edge viewer-request check of an Amazon Cognito token (RS256), standard library only.

The client sends ``Authorization: Bearer <ID token>``. The function verifies, as "Verifying a
JSON Web Token" asks
(https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html):

1. the signature: RS256 with the user pool's public key named by the token's ``kid``, from the
   pool's JWKS (fetched once per execution environment and kept while it stays warm; fetched
   again only for a ``kid`` it does not know, which is how key rotation shows);
2. ``iss``: the pool's URL; ``token_use``: ``id``; ``aud``: the app client's id;
3. ``exp``: not passed.

Lambda@Edge has no environment variables, so the pool, its Region, the app client and where the
JWKS lives are written into this code when it is packaged (``__USER_POOL_ID__`` ...). The pool id
and client id are not secrets: the function holds no secret at all.

RSA PKCS#1 v1.5 verification is a few lines of integer arithmetic (RFC 8017, section 8.2.2), so
the package needs no ``cryptography`` wheel built for Lambda's Linux (a compiled library that a
zip made on another machine would carry for the wrong platform).
"""
import base64
import hashlib
import hmac
import json
import time
import urllib.request

USER_POOL_ID = "__USER_POOL_ID__"
REGION = "__REGION__"
CLIENT_ID = "__CLIENT_ID__"
# https://cognito-idp.{region}.amazonaws.com/{pool}/.well-known/jwks.json on AWS.
JWKS_URL = "__JWKS_URL__"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{USER_POOL_ID}"

# DER prefix of a SHA-256 DigestInfo (RFC 8017, section 9.2, note 1).
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")

_keys = None  # kid -> (n, e), fetched once per execution environment


def _b64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _fetch_keys():
    with urllib.request.urlopen(JWKS_URL, timeout=3) as response:
        document = json.load(response)
    print(f"fetched the JWKS: {len(document['keys'])} key(s)")
    return {key["kid"]: (int.from_bytes(_b64url(key["n"]), "big"),
                         int.from_bytes(_b64url(key["e"]), "big"))
            for key in document["keys"] if key.get("kty") == "RSA"}


def _public_key(kid):
    global _keys
    if _keys is None or kid not in _keys:
        _keys = _fetch_keys()
    return _keys.get(kid)


def rsa_sha256_verifies(signed, signature, n, e):
    """RSASSA-PKCS1-v1_5 with SHA-256: decrypt the signature with the public key and compare it
    with the padding, DigestInfo and hash it must hold."""
    size = (n.bit_length() + 7) // 8
    if len(signature) != size:
        return False
    number = int.from_bytes(signature, "big")
    if number >= n:
        return False
    decoded = pow(number, e, n).to_bytes(size, "big")
    suffix = SHA256_DIGEST_INFO + hashlib.sha256(signed).digest()
    expected = b"\x00\x01" + b"\xff" * (size - len(suffix) - 3) + b"\x00" + suffix
    return hmac.compare_digest(decoded, expected)


def verify(token, now=None):
    """The token's claims, or raise ValueError saying why it is refused."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a JWT")
    try:
        header = json.loads(_b64url(parts[0]))
        claims = json.loads(_b64url(parts[1]))
        signature = _b64url(parts[2])
    except ValueError:
        raise ValueError("not a JWT") from None
    if header.get("alg") != "RS256":  # an allow-list: never let the token choose ("none", HS256)
        raise ValueError("alg is not RS256")
    key = _public_key(header.get("kid"))
    if key is None:
        raise ValueError("unknown kid")
    if not rsa_sha256_verifies(f"{parts[0]}.{parts[1]}".encode(), signature, *key):
        raise ValueError("bad signature")
    if claims.get("iss") != ISSUER:
        raise ValueError("another issuer")
    if claims.get("token_use") != "id" or claims.get("aud") != CLIENT_ID:
        raise ValueError("not an ID token for this app client")
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= (time.time() if now is None else now):
        raise ValueError("expired")
    return claims


def _unauthorized(reason):
    print(f"refused: {reason}")
    return {
        "status": "401",
        "statusDescription": "Unauthorized",
        "headers": {"www-authenticate": [{"key": "WWW-Authenticate",
                                          "value": 'Bearer error="invalid_token"'}]},
        "body": "Unauthorized",
    }


def handler(event, context):
    request = event["Records"][0]["cf"]["request"]
    if request["method"] == "OPTIONS":
        # A browser's CORS preflight never carries the token (the Fetch standard sends it without
        # credentials or the page's own headers), so it cannot pass the check: let it through,
        # and S3 answers it from the bucket's CORS rules, storing nothing. Refusing it would
        # break every upload from a web page (notebook 05).
        return request
    entries = request["headers"].get("authorization", [])
    value = entries[0]["value"] if entries else ""
    if not value.startswith("Bearer "):
        return _unauthorized("no bearer token")
    try:
        claims = verify(value[len("Bearer "):])
    except ValueError as why:
        return _unauthorized(str(why))
    # Each user writes under their own prefix only: /uploads/{sub}/...
    if not request["uri"].startswith(f"/uploads/{claims['sub']}/"):
        print("refused: outside the user's own prefix")
        return {"status": "403", "statusDescription": "Forbidden", "body": "Forbidden"}
    # The token has done its job: S3 must not see it (with an origin access control CloudFront
    # signs the origin request itself).
    request["headers"].pop("authorization", None)
    return request
