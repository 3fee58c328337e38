"""Lambda@Edge viewer-request check with a JSON Web Token (PyJWT, packaged with the function).

The client sends ``Authorization: Bearer <token>``; the function verifies the signature (HS256
with the key written in at packaging, ``__JWT_KEY__``), the expiry (``exp``), and that the
token allows uploads (``scope`` contains ``upload``). Tokens expire on their own, and many
clients can hold different ones. With RS256 the function would hold only a public key, which is
not a secret at all: prefer that in production.
"""
import jwt

JWT_KEY = "__JWT_KEY__"


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
        # A browser's CORS preflight never carries credentials (the Fetch standard leaves them
        # out), so it cannot pass the check: let it through, and S3 answers it from the
        # bucket's CORS rules (it stores nothing). Refusing it breaks every upload from a page.
        return request
    entries = request["headers"].get("authorization", [])
    value = entries[0]["value"] if entries else ""
    if not value.startswith("Bearer "):
        return _unauthorized("no bearer token")
    try:
        # algorithms is an allow-list: never let the token choose ("none" or a different key type).
        claims = jwt.decode(value[len("Bearer "):], JWT_KEY, algorithms=["HS256"],
                            options={"require": ["exp", "sub"]})
    except jwt.InvalidTokenError as err:
        return _unauthorized(type(err).__name__)
    if "upload" not in str(claims.get("scope", "")).split():
        return _unauthorized("token without upload scope")
    return request
