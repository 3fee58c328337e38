"""API Gateway authorizers in the local AWS, with plain boto3/requests (no workbook helpers).

LAMBDA_AUTH: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html
AUTH_INPUT: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html
AUTH_OUTPUT: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html
KC_401: https://repost.aws/knowledge-center/api-gateway-401-error-lambda-authorizer
KC_403: https://repost.aws/knowledge-center/api-gateway-403-error-lambda-authorizer
COGNITO_AUTH: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-integrate-with-cognito.html
JWT_VERIFY: https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html
GATEWAY_RESPONSES: https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
CREATE_AUTHORIZER: https://docs.aws.amazon.com/apigateway/latest/api/API_CreateAuthorizer.html
  (identitySource: all identity sources present, not null and non-empty, or 401 without calling
  the function; authorizerResultTtlInSeconds 0 disables caching)

The 500 body ``{"message": null}`` with ``x-amzn-ErrorType: AuthorizerConfigurationException``
for an authorizer that fails, and ``{"Message": ...}`` (capital M) for an explicit deny, are as
AWS answers them (reported in aws/aws-lambda-go#81, auth0-samples/jwt-rsa-aws-custom-authorizer#6
and serverless/examples#305).
"""
import base64
import json
import time

import jwt as pyjwt
import pytest
import requests

ACCOUNT = "123456789012"
ECHO = '''
import json
def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(event)}
'''
# An authorizer that decides by the token: "allow", "deny", "other" (allows another resource),
# "wild" (allows with wildcards), "raise", "nested" (a context object), "unauthorized".
# Each call counts up `calls` (per execution environment), returned in the context.
TOKEN_AUTHORIZER = '''
import json
calls = 0
def handler(event, context):
    global calls
    calls += 1
    token = event.get("authorizationToken") or event.get("headers", {}).get("X-Token")
    arn = event["methodArn"]
    api_arn = arn.split("/")[0]
    if token == "unauthorized":
        raise Exception("Unauthorized")
    if token == "raise":
        raise RuntimeError("database down")
    effect, resource = "Allow", arn
    if token == "deny":
        effect = "Deny"
    elif token == "other":
        resource = api_arn + "/v1/GET/elsewhere"
    elif token == "wild":
        resource = api_arn + "/*/POST/items/*"
    ctx = {"calls": calls, "flag": True, "event": json.dumps(event)}
    if token == "nested":
        ctx["bad"] = {"a": 1}
    return {"principalId": "user-" + str(token),
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]},
            "context": ctx}
'''


class AuthorizedApi:
    """POST /items/{id} -> ECHO, protected by one authorizer (raw boto3 calls)."""

    def __init__(self, aws, endpoint, echo, *, authorizer: dict, method_auth="CUSTOM",
                 permission=True, scopes=None):
        apigw = aws("apigateway")
        self.apigw = apigw
        api = apigw.create_rest_api(name=echo["FunctionName"])
        self.api_id = api["id"]
        self.authorizer = apigw.create_authorizer(restApiId=self.api_id, **authorizer)
        items = apigw.create_resource(restApiId=self.api_id, parentId=api["rootResourceId"], pathPart="items")
        item = apigw.create_resource(restApiId=self.api_id, parentId=items["id"], pathPart="{id}")
        extra = {"authorizationScopes": scopes} if scopes else {}
        apigw.put_method(restApiId=self.api_id, resourceId=item["id"], httpMethod="POST",
                         authorizationType=method_auth, authorizerId=self.authorizer["id"], **extra)
        apigw.put_integration(
            restApiId=self.api_id, resourceId=item["id"], httpMethod="POST", type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{echo['FunctionArn']}/invocations")
        apigw.create_deployment(restApiId=self.api_id, stageName="v1")
        lam = aws("lambda")
        lam.add_permission(FunctionName=echo["FunctionName"], StatementId="apigw",
                           Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
                           SourceArn=f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{self.api_id}/*/POST/items/*")
        uri = authorizer.get("authorizerUri")
        if uri and permission:
            function = uri.split("/functions/")[1].split("/invocations")[0]
            lam.add_permission(FunctionName=function, StatementId="authorizer",
                               Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
                               SourceArn=f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{self.api_id}/"
                                         f"authorizers/{self.authorizer['id']}")
        self.base = f"{endpoint}/_aws/execute-api/{self.api_id}/v1"

    def log_lines(self, aws):
        logs = aws("logs")
        group = f"API-Gateway-Execution-Logs_{self.api_id}/v1"
        return [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]


def _uri(fn):
    return f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{fn['FunctionArn']}/invocations"


@pytest.fixture
def token_api(aws, endpoint, make_function):
    def build(*, ttl=0, expression=None, permission=True, source=TOKEN_AUTHORIZER):
        authorizer_fn = make_function(source)
        echo = make_function(ECHO)
        spec = {"name": "tok", "type": "TOKEN", "authorizerUri": _uri(authorizer_fn),
                "identitySource": "method.request.header.Authorization",
                "authorizerResultTtlInSeconds": ttl}
        if expression:
            spec["identityValidationExpression"] = expression
        return AuthorizedApi(aws, endpoint, echo, authorizer=spec, permission=permission)
    return build


def _post(api, path="/items/1", token=None, **kwargs):
    headers = kwargs.pop("headers", {})
    if token is not None:
        headers["Authorization"] = token
    return requests.post(api.base + path, headers=headers, **kwargs)


# --- TOKEN authorizers ------------------------------------------------------------------------

def test_no_token_is_401_unauthorized_KC_401(token_api):
    api = token_api()
    response = _post(api)
    assert response.status_code == 401
    assert response.text == '{"message":"Unauthorized"}'
    assert response.headers["x-amzn-ErrorType"] == "UnauthorizedException"


def test_allowed_token_reaches_the_integration_with_principal_and_context_AUTH_INPUT_AUTH_OUTPUT(token_api):
    api = token_api()
    response = _post(api, "/items/42", token="allow")
    assert response.status_code == 200, response.text
    authorizer = response.json()["requestContext"]["authorizer"]
    assert authorizer["principalId"] == "user-allow"
    # Context values reach the integration as strings.
    assert authorizer["calls"] == str(int(authorizer["calls"])) and authorizer["flag"] == "true"
    assert isinstance(authorizer["integrationLatency"], int)
    # The TOKEN event: type, the token and the method ARN of the request's own path.
    event = json.loads(authorizer["event"])
    assert event == {"type": "TOKEN", "authorizationToken": "allow",
                     "methodArn": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api.api_id}/v1/POST/items/42"}


def test_explicit_deny_is_403_with_awss_message_KC_403(token_api):
    api = token_api()
    response = _post(api, token="deny")
    assert response.status_code == 403
    assert response.json() == {"Message": "User is not authorized to access this resource with an explicit deny"}
    assert response.headers["x-amzn-ErrorType"] == "AccessDeniedException"


def test_a_policy_for_another_resource_is_an_implicit_deny_KC_403(token_api):
    api = token_api()
    response = _post(api, token="other")
    assert response.status_code == 403
    assert response.json() == {"Message": "User is not authorized to access this resource"}


def test_policy_resources_take_wildcards_AUTH_OUTPUT(token_api):
    api = token_api()
    assert _post(api, "/items/abc", token="wild").status_code == 200


def test_raising_unauthorized_is_401_any_other_error_500_with_null_message_LAMBDA_AUTH(token_api, aws):
    api = token_api()
    response = _post(api, token="unauthorized")
    assert response.status_code == 401 and response.json() == {"message": "Unauthorized"}
    response = _post(api, token="raise")
    assert response.status_code == 500
    assert response.text == '{"message": null}'
    assert response.headers["x-amzn-ErrorType"] == "AuthorizerConfigurationException"
    assert "database down" not in response.text
    assert any("Authorizer error" in line and "database down" in line for line in api.log_lines(aws))


def test_a_context_value_that_is_an_object_is_a_500_AUTH_OUTPUT(token_api):
    api = token_api()
    response = _post(api, token="nested")
    assert response.status_code == 500 and response.json() == {"message": None}


def test_an_authorizer_api_gateway_may_not_invoke_is_a_500_LAMBDA_AUTH(token_api):
    api = token_api(permission=False)
    response = _post(api, token="allow")
    assert response.status_code == 500
    assert response.headers["x-amzn-ErrorType"] == "AuthorizerConfigurationException"


def test_a_token_not_matching_the_validation_expression_is_401_without_a_call_LAMBDA_AUTH(token_api):
    api = token_api(expression="^Bearer [-0-9a-zA-Z._]+$")
    # CreateAuthorizer keeps the expression (moto 5.2.5 dropped it).
    assert api.authorizer["identityValidationExpression"] == "^Bearer [-0-9a-zA-Z._]+$"
    assert _post(api, token="allow").status_code == 401
    response = _post(api, token="Bearer allow")
    # A matching token reaches the function as sent (which allows any token it does not know).
    assert response.status_code == 200
    assert json.loads(response.json()["requestContext"]["authorizer"]["event"])["authorizationToken"] == "Bearer allow"


def test_results_are_cached_for_the_ttl_keyed_on_the_token_LAMBDA_AUTH(token_api):
    api = token_api(ttl=300)
    first = _post(api, token="allow").json()["requestContext"]["authorizer"]
    second = _post(api, token="allow").json()["requestContext"]["authorizer"]
    assert second["calls"] == first["calls"]  # the cached result: the function was not called
    other = _post(api, token="wild").json()["requestContext"]["authorizer"]
    assert int(other["calls"]) > int(first["calls"])  # another token: another call


def test_without_caching_every_request_calls_the_authorizer_LAMBDA_AUTH(token_api):
    api = token_api(ttl=0)
    first = _post(api, token="allow").json()["requestContext"]["authorizer"]
    second = _post(api, token="allow").json()["requestContext"]["authorizer"]
    assert int(second["calls"]) > int(first["calls"])


def test_a_cached_policy_is_evaluated_against_each_method_arn_LAMBDA_AUTH(token_api):
    # The authorizer allows exactly the method ARN it was called for; cached, that policy does
    # not cover another path (the classic reason to allow wildcards when caching).
    api = token_api(ttl=300)
    assert _post(api, "/items/1", token="allow").status_code == 200
    response = _post(api, "/items/2", token="allow")
    assert response.status_code == 403
    assert response.json() == {"Message": "User is not authorized to access this resource"}


def test_create_authorizer_defaults_the_ttl_to_300(aws):
    apigw = aws("apigateway")
    api = apigw.create_rest_api(name="ttl-default")
    created = apigw.create_authorizer(restApiId=api["id"], name="a", type="TOKEN",
                                      authorizerUri="arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/"
                                                    "functions/arn:aws:lambda:us-east-1:123456789012:function:f/invocations",
                                      identitySource="method.request.header.Authorization")
    assert created["authorizerResultTtlInSeconds"] == 300


# --- REQUEST authorizers ----------------------------------------------------------------------

@pytest.fixture
def request_api(aws, endpoint, make_function):
    authorizer_fn = make_function(TOKEN_AUTHORIZER)
    echo = make_function(ECHO)
    return AuthorizedApi(aws, endpoint, echo, authorizer={
        "name": "req", "type": "REQUEST", "authorizerUri": _uri(authorizer_fn),
        "identitySource": "method.request.header.X-Token, method.request.querystring.tenant",
        "authorizerResultTtlInSeconds": 300})


def test_request_authorizers_need_every_identity_source_CREATE_AUTHORIZER(request_api):
    assert _post(request_api, headers={"X-Token": "allow"}).status_code == 401
    assert _post(request_api, "/items/1?tenant=a").status_code == 401
    response = _post(request_api, "/items/1?tenant=a", headers={"X-Token": "allow"})
    assert response.status_code == 200, response.text
    event = json.loads(response.json()["requestContext"]["authorizer"]["event"])
    assert event["type"] == "REQUEST"
    assert event["methodArn"].endswith(f"{request_api.api_id}/v1/POST/items/1")
    assert event["headers"]["X-Token"] == "allow" and event["queryStringParameters"] == {"tenant": "a"}
    assert event["resource"] == "/items/{id}" and event["pathParameters"] == {"id": "1"}
    assert "body" not in event


def test_request_results_are_cached_per_identity_source_values_LAMBDA_AUTH(request_api):
    def calls(tenant):
        response = _post(request_api, f"/items/1?tenant={tenant}", headers={"X-Token": "wild"})
        return response.json()["requestContext"]["authorizer"]["calls"]
    first = calls("a")
    assert calls("a") == first
    assert calls("b") != first


# --- Cognito user pools -----------------------------------------------------------------------

@pytest.fixture
def pool(aws, name):
    """A user pool, an app client allowing USER_PASSWORD_AUTH, and a confirmed user."""
    idp = aws("cognito-idp")
    created = idp.create_user_pool(PoolName=name)["UserPool"]
    client = idp.create_user_pool_client(UserPoolId=created["Id"], ClientName="web",
                                         ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH",
                                                            "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]
    idp.sign_up(ClientId=client["ClientId"], Username="learner", Password="Correct-horse-1",
                UserAttributes=[{"Name": "email", "Value": "learner@example.com"}])
    idp.admin_confirm_sign_up(UserPoolId=created["Id"], Username="learner")
    tokens = idp.initiate_auth(ClientId=client["ClientId"], AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "learner", "PASSWORD": "Correct-horse-1"})
    yield {"id": created["Id"], "arn": created["Arn"], "client": client["ClientId"],
           "tokens": tokens["AuthenticationResult"]}
    idp.delete_user_pool(UserPoolId=created["Id"])


def test_the_pools_jwks_and_openid_configuration_are_served_on_loopback_JWT_VERIFY(pool, endpoint):
    jwks = requests.get(f"{endpoint}/{pool['id']}/.well-known/jwks.json")
    assert jwks.status_code == 200
    keys = jwks.json()["keys"]
    token = pool["tokens"]["IdToken"]
    header = pyjwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["kid"] in {k["kid"] for k in keys}
    config = requests.get(f"{endpoint}/{pool['id']}/.well-known/openid-configuration").json()
    assert config["issuer"] == f"https://cognito-idp.us-east-1.amazonaws.com/{pool['id']}"
    assert config["jwks_uri"] == f"{endpoint}/{pool['id']}/.well-known/jwks.json"
    # A JWT library we did not write verifies the token with the served key.
    key = pyjwt.PyJWK(next(k for k in keys if k["kid"] == header["kid"]))
    claims = pyjwt.decode(token, key.key, algorithms=["RS256"], audience=pool["client"],
                          issuer=config["issuer"])
    assert claims["token_use"] == "id" and claims["cognito:username"] == "learner"
    access = pyjwt.decode(pool["tokens"]["AccessToken"], key.key, algorithms=["RS256"],
                          issuer=config["issuer"], options={"verify_aud": False})
    assert access["token_use"] == "access" and access["client_id"] == pool["client"]


def test_each_pool_signs_with_its_own_key_JWT_VERIFY(aws, endpoint, name):
    idp = aws("cognito-idp")
    ids = [idp.create_user_pool(PoolName=f"{name}{i}")["UserPool"]["Id"] for i in range(2)]
    try:
        kids = [requests.get(f"{endpoint}/{i}/.well-known/jwks.json").json()["keys"][0]["kid"] for i in ids]
        assert kids[0] != kids[1]
    finally:
        for pool_id in ids:
            idp.delete_user_pool(UserPoolId=pool_id)


def test_an_unknown_pools_jwks_is_404(endpoint):
    assert requests.get(f"{endpoint}/us-east-1_NoSuchPool/.well-known/jwks.json").status_code == 404


@pytest.fixture
def cognito_api(aws, endpoint, make_function, pool):
    def build(pools, scopes=None):
        echo = make_function(ECHO)
        return AuthorizedApi(aws, endpoint, echo, method_auth="COGNITO_USER_POOLS", scopes=scopes,
                             authorizer={"name": "pool", "type": "COGNITO_USER_POOLS",
                                         "providerARNs": pools,
                                         "identitySource": "method.request.header.Authorization"})
    return build


def _tamper(token):
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


def test_cognito_authorizer_accepts_the_pools_id_token_and_passes_the_claims_COGNITO_AUTH(pool, cognito_api):
    api = cognito_api([pool["arn"]])
    response = _post(api, token=pool["tokens"]["IdToken"])
    assert response.status_code == 200, response.text
    claims = response.json()["requestContext"]["authorizer"]["claims"]
    expected = pyjwt.decode(pool["tokens"]["IdToken"], options={"verify_signature": False})
    assert claims["sub"] == expected["sub"] and claims["cognito:username"] == "learner"
    assert all(isinstance(v, str) for v in claims.values())
    assert claims["exp"] == time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(expected["exp"]))


def test_cognito_authorizer_refusals_are_401_COGNITO_AUTH(aws, pool, cognito_api, name):
    api = cognito_api([pool["arn"]])
    id_token = pool["tokens"]["IdToken"]
    for token in (None, "", "not-a-jwt", _tamper(id_token), id_token[:-4] + "AAAA"):
        response = _post(api, token=token)
        assert response.status_code == 401, token
        assert response.text == '{"message":"Unauthorized"}'
    # A token of another pool (its own key and issuer).
    idp = aws("cognito-idp")
    other = idp.create_user_pool(PoolName=name + "x")["UserPool"]["Id"]
    try:
        client = idp.create_user_pool_client(UserPoolId=other, ClientName="c",
                                             ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])["UserPoolClient"]["ClientId"]
        idp.admin_create_user(UserPoolId=other, Username="u", MessageAction="SUPPRESS")
        idp.admin_set_user_password(UserPoolId=other, Username="u", Password="Correct-horse-1", Permanent=True)
        foreign = idp.initiate_auth(ClientId=client, AuthFlow="USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": "u", "PASSWORD": "Correct-horse-1"})
        assert _post(api, token=foreign["AuthenticationResult"]["IdToken"]).status_code == 401
    finally:
        idp.delete_user_pool(UserPoolId=other)


def test_an_expired_token_is_refused_JWT_VERIFY(pool):
    # Tokens live at least five minutes: the clock is moved instead (the verifier the
    # authorizer uses, in this process's local AWS).
    from localaws import cognito

    token = pool["tokens"]["IdToken"]
    exp = pyjwt.decode(token, options={"verify_signature": False})["exp"]
    assert cognito.verify_token(token, [pool["id"]], now=exp - 1).claims["exp"] == exp
    with pytest.raises(cognito.InvalidToken, match="expired"):
        cognito.verify_token(token, [pool["id"]], now=exp + 1)


def test_methods_with_scopes_need_an_access_token_holding_one_COGNITO_AUTH(pool, cognito_api):
    api = cognito_api([pool["arn"]], scopes=["aws.cognito.signin.user.admin"])
    assert _post(api, token=pool["tokens"]["IdToken"]).status_code == 401
    access = pool["tokens"]["AccessToken"]
    assert "aws.cognito.signin.user.admin" in pyjwt.decode(access, options={"verify_signature": False})["scope"]
    assert _post(api, token=access).status_code == 200
    other = cognito_api([pool["arn"]], scopes=["uploads/write"])
    assert _post(other, token=access).status_code == 401
