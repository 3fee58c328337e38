"""Lambda@Edge viewer-request check: only requests carrying the shared secret reach S3.

CloudFront gives headers as lower-case names mapping to *lists* of {"key", "value"} entries,
so the value is ``headers["authorization"][0]["value"]``. (Comparing the list itself to a
string is never equal: a function that then forwards the request anyway lets everyone in.)

Lambda@Edge functions cannot have environment variables, so the secret is written into this
file when it is packaged (``__SHARED_SECRET__`` below): anyone who can read the function's code
can read the secret. Prefer a token that the function can verify without holding a secret worth
stealing (see edge_jwt.py, and RS256 in production).
"""
import hmac

SHARED_SECRET = "__SHARED_SECRET__"


def _unauthorized():
    return {
        "status": "401",
        "statusDescription": "Unauthorized",
        "headers": {
            "www-authenticate": [{"key": "WWW-Authenticate", "value": 'Bearer realm="uploads"'}],
            "content-type": [{"key": "Content-Type", "value": "text/plain"}],
        },
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
    given = entries[0]["value"] if entries else ""
    # compare_digest takes the same time wherever the strings differ: no timing hints.
    if not given or not hmac.compare_digest(given.encode(), SHARED_SECRET.encode()):
        # Log the decision, never the secret or what was sent.
        print(f"refused {request['method']} {request['uri']} from {request['clientIp']}")
        return _unauthorized()
    return request
