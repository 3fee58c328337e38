"""Option 3's edge function checking Cognito ID tokens with the pool's JWKS
(helpers/functions/edge_cognito.py), run in the local Lambda runtime with plain boto3.

JWT_VERIFY: https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html
EDGE_EVENT: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html
EDGE_LIMITS: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-restrictions.html
  (Lambda@Edge: no environment variables; settings are written into the code)
RFC8017: https://www.rfc-editor.org/rfc/rfc8017#section-8.2.2 (RSASSA-PKCS1-v1_5 verification)
"""
import base64
import json
import os
import types

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = open(os.path.join(ROOT, "helpers", "functions", "edge_cognito.py")).read()
PASSWORD = "Correct-horse-1"


def _module(substitutions):
    source = SOURCE
    for placeholder, value in substitutions.items():
        source = source.replace(placeholder, value)
    module = types.ModuleType("edge_cognito_test")
    exec(compile(source, "edge_cognito.py", "exec"), module.__dict__)
    return module, source


def test_rsa_pkcs1_v15_in_integer_arithmetic_agrees_with_cryptography_RFC8017():
    module, _ = _module({})
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    message = b"header.claims"
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    assert module.rsa_sha256_verifies(message, signature, numbers.n, numbers.e)
    assert not module.rsa_sha256_verifies(b"header.claimz", signature, numbers.n, numbers.e)
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    assert not module.rsa_sha256_verifies(message, flipped, numbers.n, numbers.e)
    # A PSS signature over the same bytes is not PKCS#1 v1.5.
    pss = key.sign(message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
    assert not module.rsa_sha256_verifies(message, pss, numbers.n, numbers.e)


@pytest.fixture
def pool(aws, name):
    idp = aws("cognito-idp")
    pool_id = idp.create_user_pool(PoolName=name)["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web",
                                         ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])["UserPoolClient"]["ClientId"]

    def token(user, *, client_id=client, use="IdToken"):
        idp.sign_up(ClientId=client_id, Username=user, Password=PASSWORD)
        idp.admin_confirm_sign_up(UserPoolId=pool_id, Username=user)
        result = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": user, "PASSWORD": PASSWORD})
        return result["AuthenticationResult"][use]

    yield types.SimpleNamespace(id=pool_id, client=client, token=token, idp=idp)
    idp.delete_user_pool(UserPoolId=pool_id)


def _claims(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@pytest.fixture
def edge(aws, endpoint, pool, make_function):
    """The edge function with the pool written in, created and invoked with plain boto3."""
    _, source = _module({"__USER_POOL_ID__": pool.id, "__REGION__": "us-east-1",
                         "__CLIENT_ID__": pool.client,
                         "__JWKS_URL__": f"{endpoint}/{pool.id}/.well-known/jwks.json"})
    fn = make_function(source, handler="app.handler", Timeout=5, MemorySize=128)
    lam = aws("lambda")

    def call(uri, token, scheme="Bearer ", method="PUT"):
        headers = {"host": [{"key": "Host", "value": "d1.cloudfront.net"}]}
        if token is not None:
            headers["authorization"] = [{"key": "Authorization", "value": scheme + token}]
        event = {"Records": [{"cf": {"config": {"eventType": "viewer-request"},
                                     "request": {"method": method, "uri": uri, "querystring": "",
                                                 "clientIp": "203.0.113.1", "headers": headers}}}]}
        answer = lam.invoke(FunctionName=fn["FunctionName"], Payload=json.dumps(event), LogType="Tail")
        return json.loads(answer["Payload"].read()), base64.b64decode(answer["LogResult"]).decode()
    return call


def test_the_pools_id_token_passes_for_the_users_own_prefix_only_JWT_VERIFY(pool, edge):
    token = pool.token("learner")
    sub = _claims(token)["sub"]
    request, log = edge(f"/uploads/{sub}/cat.jpg", token)
    assert request["uri"] == f"/uploads/{sub}/cat.jpg"
    assert "authorization" not in request["headers"]  # the token does not travel on to S3
    assert "fetched the JWKS" in log
    # Fetched once per execution environment: the warm environment reuses it.
    _, log = edge(f"/uploads/{sub}/dog.jpg", token)
    assert "fetched the JWKS" not in log
    refused, _ = edge("/uploads/someone-else/cat.jpg", token)
    assert refused["status"] == "403"


def test_a_cors_preflight_without_a_token_goes_on_to_s3(edge):
    """A preflight carries no credentials ("CORS-preflight request ... never includes credentials",
    Fetch standard, https://fetch.spec.whatwg.org/#cors-preflight-fetch), so the function lets
    OPTIONS through unchanged and S3 answers it from the bucket's CORS rules (S3 User Guide, "How
    does Amazon S3 evaluate the CORS configuration on a bucket?",
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html); a PUT without one is still
    refused."""
    request, _ = edge("/uploads/anyone/cat.jpg", None, method="OPTIONS")
    assert "status" not in request
    assert (request["method"], request["uri"]) == ("OPTIONS", "/uploads/anyone/cat.jpg")
    refused, _ = edge("/uploads/anyone/cat.jpg", None)
    assert refused["status"] == "401"


@pytest.mark.parametrize("case", ["none", "not-bearer", "garbage", "tampered", "access-token",
                                  "other-client", "alg-none"])
def test_refusals_are_401_JWT_VERIFY(pool, edge, case):
    token = pool.token("learner")
    sub = _claims(token)["sub"]
    scheme = "Bearer "
    if case == "none":
        token = None
    elif case == "not-bearer":
        scheme = "Basic "
    elif case == "garbage":
        token = "a.b.c"
    elif case == "tampered":
        header, _, signature = token.split(".")
        forged = {**_claims(token), "cognito:username": "admin"}
        token = f"{header}.{base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip('=')}.{signature}"
    elif case == "access-token":
        token = pool.token("learner2", use="AccessToken")
        sub = _claims(token)["sub"]
    elif case == "other-client":
        other = pool.idp.create_user_pool_client(UserPoolId=pool.id, ClientName="other",
                                                 ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])
        token = pool.token("learner3", client_id=other["UserPoolClient"]["ClientId"])
        sub = _claims(token)["sub"]
    elif case == "alg-none":
        header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode().rstrip("=")
        token = f"{header}.{token.split('.')[1]}."
    answer, _ = edge(f"/uploads/{sub}/cat.jpg", token, scheme)
    assert answer["status"] == "401", case
    assert answer["headers"]["www-authenticate"][0]["value"] == 'Bearer error="invalid_token"'


def test_a_token_of_another_pool_is_refused_by_its_kid_JWT_VERIFY(aws, pool, edge, name):
    idp = aws("cognito-idp")
    other = idp.create_user_pool(PoolName=name + "o")["UserPool"]["Id"]
    try:
        client = idp.create_user_pool_client(UserPoolId=other, ClientName="c",
                                             ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])["UserPoolClient"]["ClientId"]
        idp.sign_up(ClientId=client, Username="u", Password=PASSWORD)
        idp.admin_confirm_sign_up(UserPoolId=other, Username="u")
        token = idp.initiate_auth(ClientId=client, AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": "u", "PASSWORD": PASSWORD})["AuthenticationResult"]["IdToken"]
        answer, log = edge(f"/uploads/{_claims(token)['sub']}/x", token)
        assert answer["status"] == "401" and "unknown kid" in log
    finally:
        idp.delete_user_pool(UserPoolId=other)


def test_an_expired_token_is_refused_JWT_VERIFY(pool, endpoint):
    module, _ = _module({"__USER_POOL_ID__": pool.id, "__REGION__": "us-east-1",
                         "__CLIENT_ID__": pool.client,
                         "__JWKS_URL__": f"{endpoint}/{pool.id}/.well-known/jwks.json"})
    token = pool.token("learner")
    exp = _claims(token)["exp"]
    assert module.verify(token, now=exp - 1)["exp"] == exp
    with pytest.raises(ValueError, match="expired"):
        module.verify(token, now=exp)


def test_the_package_needs_only_the_standard_library():
    """A Lambda zip carries what it imports beyond the standard library and boto3."""
    import ast
    import sys

    imported = set()
    for node in ast.walk(ast.parse(SOURCE)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)
