"""API Gateway REST API control plane (PutIntegration validation, integration responses) and
routing, MOCK, API keys and gateway responses, as recorded against AWS.

PutIntegration: https://docs.aws.amazon.com/apigateway/latest/api/API_PutIntegration.html
Routing: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-settings-method-request.html
Gateway responses: https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
Recordings: LS_APIGW_INTEGRATIONS test_put_integration_validation (2024-06-06) and
test_put_integration_responses (2023-05-26); LS_APIGW_LAMBDA test_put_integration_aws_proxy_uri
(2025-03-03); LS_APIGW_COMMON TestApigatewayRouting (test_routing_not_found recorded 2024-07-23;
the sibling-routing tests validated against AWS, same file).
"""
import json

import pytest
import requests
from botocore.exceptions import ClientError
from conftest import when_key_works

from conformance_kit import (ACCOUNT, LS_APIGW_COMMON, LS_APIGW_INTEGRATIONS, REGION, add_mock,
                             invoke_url, unique)

LAMBDA_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:MyLambda"
LAMBDA_URI = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{LAMBDA_ARN}/invocations"
ONLY_LAMBDA = ("Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose "
               "stream invocations.")
NO_PATH = "AWS ARN for integration must contain path or action"

# (case, type, uri, integrationHttpMethod, error message or None for 201)
PUT_INTEGRATION_CASES = [
    ("http-needs-method", "HTTP", "http://example.com", None, "Enumeration value for HttpMethod must be non-empty"),
    ("aws-needs-method", "AWS", "http://example.com", None, "Enumeration value for HttpMethod must be non-empty"),
    ("mock-needs-no-method", "MOCK", "http://example.com", None, None),
    ("aws-s3-path", "AWS", f"arn:aws:apigateway:{REGION}:s3:path/b/k", "POST", None),
    ("aws-lambda", "AWS", LAMBDA_URI, "POST", None),
    ("aws-proxy-lambda", "AWS_PROXY", LAMBDA_URI, "POST", None),
    ("aws-proxy-s3", "AWS_PROXY", f"arn:aws:apigateway:{REGION}:s3:path/b/k", "POST", ONLY_LAMBDA),
    ("aws-not-an-arn", "AWS", "non-valid-arn", "POST", "Invalid ARN specified in the request"),
    ("aws-arn-not-apigateway", "AWS", "arn:aws:iam::0000000000:role/service-role/asdf", "POST", NO_PATH),
    ("proxy-function-arn-as-uri", "AWS_PROXY", LAMBDA_ARN, "POST", NO_PATH),
    ("proxy-bad-arn-prefix", "AWS_PROXY", f"bad-arn:lambda:path/2015-03-31/functions/{LAMBDA_ARN}/invocations",
     "POST", "Invalid ARN specified in the request"),
    ("proxy-lambda-test-kind", "AWS_PROXY",
     f"arn:aws:apigateway:{REGION}:lambda:test/2015-03-31/functions/{LAMBDA_ARN}/invocations", "POST", NO_PATH),
    ("proxy-firehose-with-lambda-path", "AWS_PROXY",
     f"arn:aws:apigateway:{REGION}:firehose:path/2015-03-31/functions/{LAMBDA_ARN}/invocations", "POST", ONLY_LAMBDA),
    ("proxy-malformed-lambda-path", "AWS_PROXY",
     f"arn:aws:apigateway:{REGION}:lambda:path/random/value/{LAMBDA_ARN}/invocations", "POST", ONLY_LAMBDA),
]


@pytest.fixture(scope="module")
def apigw(aws):
    return aws("apigateway")


@pytest.fixture(scope="module")
def bare_api(apigw):
    api = apigw.create_rest_api(name=unique())
    apigw.put_method(restApiId=api["id"], resourceId=api["rootResourceId"], httpMethod="GET",
                     authorizationType="NONE")
    apigw.put_method_response(restApiId=api["id"], resourceId=api["rootResourceId"], httpMethod="GET",
                              statusCode="200")
    return api


@pytest.mark.parametrize("case,type_,uri,method,error", PUT_INTEGRATION_CASES,
                         ids=[c[0] for c in PUT_INTEGRATION_CASES])
def test_put_integration_validation_matches_aws(apigw, bare_api, case, type_, uri, method, error):
    """LS_APIGW_INTEGRATIONS test_put_integration_validation (2024-06-06) and LS_APIGW_LAMBDA
    test_put_integration_aws_proxy_uri (2025-03-03): 201 with the defaults filled in, or 400
    BadRequestException with AWS's message."""
    kwargs = {"integrationHttpMethod": method} if method else {}
    if type_ == "AWS" and ":s3:" in uri:  # the recording names a role for S3 (Lambda needs none)
        kwargs["credentials"] = f"arn:aws:iam::{ACCOUNT}:role/service-role/testfunction-role-oe783psq"
    call = dict(restApiId=bare_api["id"], resourceId=bare_api["rootResourceId"], httpMethod="GET", type=type_,
                uri=uri, **kwargs)
    if error is None:
        created = apigw.put_integration(**call)
        assert created["ResponseMetadata"]["HTTPStatusCode"] == 201 and created["type"] == type_
        assert created["passthroughBehavior"] == "WHEN_NO_MATCH" and created["timeoutInMillis"] == 29000
        return
    with pytest.raises(ClientError) as caught:
        apigw.put_integration(**call)
    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"] == {"Code": "BadRequestException", "Message": error}


def test_integration_response_round_trip(apigw):
    """LS_APIGW_INTEGRATIONS test_put_integration_responses (recorded 2023-05-26): selectionPattern
    and contentHandling come back from PutIntegrationResponse (201) and GetIntegrationResponse."""
    api = apigw.create_rest_api(name=unique())
    common = {"restApiId": api["id"], "resourceId": api["rootResourceId"], "httpMethod": "PUT"}
    apigw.put_method(**common, authorizationType="NONE")
    apigw.put_method_response(**common, statusCode="200")
    apigw.put_integration(**common, type="MOCK")
    put = apigw.put_integration_response(**common, statusCode="200", selectionPattern=r"2\d{2}",
                                         contentHandling="CONVERT_TO_BINARY")
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 201
    got = apigw.get_integration_response(**common, statusCode="200")
    for answer in (put, got):
        assert (answer["statusCode"], answer["selectionPattern"], answer["contentHandling"]) == (
            "200", r"2\d{2}", "CONVERT_TO_BINARY")


# --- routing ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def routing_api(apigw):
    """/test POST, /test/any ANY, /{proxy+} OPTIONS (TestApigatewayRouting,
    test_proxy_routing_with_hardcoded_resource_sibling); /part1 GET, /part1/hardcoded-value GET,
    and the greedy /{proxy+} also GET (..._sibling_order); /existing GET (test_routing_not_found)."""
    api = apigw.create_rest_api(name=unique())
    api_id, root = api["id"], api["rootResourceId"]

    def resource(parent, part):
        return apigw.create_resource(restApiId=api_id, parentId=parent, pathPart=part)["id"]

    test = resource(root, "test")
    add_mock(apigw, api_id, test, "POST", {"statusCode": 200, "message": "POST request"})
    add_mock(apigw, api_id, resource(test, "any"), "ANY", {"statusCode": 200, "message": "ANY request"})
    proxy = resource(root, "{proxy+}")
    add_mock(apigw, api_id, proxy, "OPTIONS", {"statusCode": 200, "message": "OPTIONS request"})
    add_mock(apigw, api_id, proxy, "GET", {"statusCode": 200, "message": "proxy"})
    part1 = resource(root, "part1")
    add_mock(apigw, api_id, part1, "GET", {"statusCode": 200, "message": "part1"})
    add_mock(apigw, api_id, resource(part1, "hardcoded-value"), "GET", {"statusCode": 200, "message": "hardcoded-value"})
    add_mock(apigw, api_id, resource(root, "existing"), "GET", {"statusCode": 200, "message": "exists"})
    apigw.create_deployment(restApiId=api_id, stageName="dev")
    return api_id


# (case, method, path, message of the MOCK that answers)
ROUTING_CASES = [
    ("options-falls-back-to-proxy-sibling", "OPTIONS", "/test", "OPTIONS request"),
    ("method-on-literal-resource", "POST", "/test", "POST request"),
    ("any-beats-proxy-for-options", "OPTIONS", "/test/any", "ANY request"),
    ("any-for-get", "GET", "/test/any", "ANY request"),
    ("literal-parent", "GET", "/part1", "part1"),
    ("literal-child", "GET", "/part1/hardcoded-value", "hardcoded-value"),
    ("unknown-child-to-greedy", "GET", "/part1/random-value", "proxy"),
    ("working-route", "GET", "/existing", "exists"),
]


@pytest.mark.parametrize("case,method,path,message", ROUTING_CASES, ids=[c[0] for c in ROUTING_CASES])
def test_routing_matches_aws(endpoint, routing_api, case, method, path, message):
    response = requests.request(method, invoke_url(endpoint, routing_api, "dev", path), timeout=60)
    assert response.status_code == 200 and response.json()["message"] == message


@pytest.fixture(scope="module")
def not_found_api(apigw):
    api = apigw.create_rest_api(name=unique())
    existing = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="existing")["id"]
    add_mock(apigw, api["id"], existing, "GET", {"statusCode": 200, "message": "exists"})
    apigw.create_deployment(restApiId=api["id"], stageName="dev")
    return api["id"]


@pytest.mark.parametrize("method,path", [("GET", "/random-non-existing"), ("POST", "/existing")],
                         ids=["not-found", "wrong-method"])
def test_no_route_is_missing_authentication_token(endpoint, not_found_api, method, path):
    """LS_APIGW_COMMON test_routing_not_found (recorded 2024-07-23): 403
    {"message": "Missing Authentication Token"}, x-amzn-ErrorType MissingAuthenticationTokenException."""
    response = requests.request(method, invoke_url(endpoint, not_found_api, "dev", path), timeout=60)
    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}
    assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


# --- API keys --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def keyed_api(apigw, endpoint):
    api = apigw.create_rest_api(name=unique())
    rid = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="test")["id"]
    apigw.put_method(restApiId=api["id"], resourceId=rid, httpMethod="GET", authorizationType="NONE",
                     apiKeyRequired=True)
    apigw.put_method_response(restApiId=api["id"], resourceId=rid, httpMethod="GET", statusCode="200")
    apigw.put_integration(restApiId=api["id"], resourceId=rid, httpMethod="GET", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_integration_response(restApiId=api["id"], resourceId=rid, httpMethod="GET", statusCode="200",
                                   responseTemplates={"application/json": '{"message": "ok"}'})
    apigw.create_deployment(restApiId=api["id"], stageName="dev")
    plan = apigw.create_usage_plan(name=unique(), apiStages=[{"apiId": api["id"], "stage": "dev"}])
    key = apigw.create_api_key(name=unique(), enabled=True)
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    # a new key's link takes effect after some seconds (403 until then), on AWS too
    when_key_works(lambda: requests.get(invoke_url(endpoint, api["id"], "dev", "/test"),
                                        headers={"x-api-key": key["value"]}, timeout=60))
    return api["id"], key


@pytest.mark.parametrize("sent,status,body", [
    (None, 403, {"message": "Forbidden"}),
    ("not-a-key", 403, {"message": "Forbidden"}),
    ("the-key", 200, {"message": "ok"}),
], ids=["no-key", "unknown-key", "valid-key"])
def test_api_key_required(endpoint, keyed_api, sent, status, body):
    """Gateway response INVALID_API_KEY: 403 (supported-gateway-response-types page), body
    {"message":"Forbidden"}; LS_APIGW_COMMON TestUsagePlans.test_api_key_required_for_methods
    (recorded 2023-07-27) calls with and without x-api-key."""
    api_id, key = keyed_api
    headers = {"x-api-key": key["value"] if sent == "the-key" else sent} if sent else {}
    response = requests.get(invoke_url(endpoint, api_id, "dev", "/test"), headers=headers, timeout=60)
    assert response.status_code == status and response.json() == body
    if status == 403:
        assert response.headers["x-amzn-ErrorType"] == "ForbiddenException"


def test_mock_integration_answers_from_templates(endpoint, routing_api):
    """MOCK integration (https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-mock-integration.html):
    the request template's statusCode selects the integration response, whose template is the
    body; the default Content-Type is application/json."""
    response = requests.get(invoke_url(endpoint, routing_api, "dev", "/existing"), timeout=60)
    assert response.headers["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"statusCode": 200, "message": "exists"}
