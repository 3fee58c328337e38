"""A Lambda authorizer for the presign API: it verifies the caller's Cognito ID token itself
and answers API Gateway with an IAM policy and a context.

As a TOKEN authorizer API Gateway calls it with ``{"type": "TOKEN", "authorizationToken": ...,
"methodArn": ...}``; as a REQUEST authorizer with the whole request (``headers``,
``queryStringParameters``, ``pathParameters``, ...) and ``methodArn``. It caches the answer for
the authorizer's TTL, keyed on the token (on every identity source for REQUEST): within the TTL the same
token is not checked again (so a user disabled meanwhile keeps access until it runs out), and
the cached policy is applied to *other* methods too. That is why the policy allows every
``GET`` of the stage (``.../{stage}/GET/*``) rather than only the methodArn of the first call.

Refusing: raise ``Exception("Unauthorized")`` for a bad token (API Gateway answers 401);
return a ``Deny`` policy to refuse a known user (403, "explicit deny"). Users named in
``BLOCKED_USERS`` (written in at packaging) are denied.

The token check is the edge function's (``edge_cognito.verify``), packaged beside this module.
"""
import edge_cognito

BLOCKED_USERS = set(filter(None, "__BLOCKED_USERS__".split(",")))


def _policy(effect, method_arn):
    # arn:aws:execute-api:{region}:{account}:{api}/{stage}/{verb}/{path}: every GET of this
    # stage, so a cached answer serves the next file's request too.
    api_arn, stage = method_arn.split("/")[0], method_arn.split("/")[1]
    return {"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": effect, "Resource": f"{api_arn}/{stage}/GET/*"}]}


def handler(event, context):
    if event["type"] == "TOKEN":
        token = event.get("authorizationToken", "")
    else:  # REQUEST: the header, as API Gateway passes the request on
        token = (event.get("headers") or {}).get("Authorization", "")
    if token.startswith("Bearer "):
        token = token[len("Bearer "):]
    try:
        claims = edge_cognito.verify(token)
    except ValueError as why:
        print(f"refused: {why}")
        raise Exception("Unauthorized")  # exactly this message: API Gateway's 401
    user = claims["sub"]
    effect = "Deny" if claims.get("cognito:username") in BLOCKED_USERS else "Allow"
    print(f"{effect} for user {user}")
    return {"principalId": user, "policyDocument": _policy(effect, event["methodArn"]),
            "context": {"username": claims.get("cognito:username", ""), "email": claims.get("email", "")}}
