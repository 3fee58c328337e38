"""API Gateway Lambda proxy integrations (AWS_PROXY) in the local AWS, with plain boto3/requests.

PROXY: https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
ERRORS: https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html
MALFORMED: https://repost.aws/knowledge-center/malformed-502-api-gateway
PERMS: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-invoke-api.html
"""
import base64
import json

import pytest
import requests

ECHO = '''
import json
def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(event)}
'''


class LambdaApi:
    """GET|POST /items/{id} -> a function, built with raw boto3 calls."""

    def __init__(self, aws, endpoint, fn, *, permission=True, method="POST", binary=(),
                 timeout_ms=None, source_arn=None):
        apigw = aws("apigateway")
        kwargs = {"binaryMediaTypes": list(binary)} if binary else {}
        api = apigw.create_rest_api(name=fn["FunctionName"], **kwargs)
        self.api_id = api["id"]
        items = apigw.create_resource(restApiId=self.api_id, parentId=api["rootResourceId"], pathPart="items")
        item = apigw.create_resource(restApiId=self.api_id, parentId=items["id"], pathPart="{id}")
        apigw.put_method(restApiId=self.api_id, resourceId=item["id"], httpMethod=method,
                         authorizationType="NONE", requestParameters={"method.request.path.id": True})
        extra = {"timeoutInMillis": timeout_ms} if timeout_ms else {}
        apigw.put_integration(
            restApiId=self.api_id, resourceId=item["id"], httpMethod=method, type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{fn['FunctionArn']}/invocations",
            **extra)
        apigw.create_deployment(restApiId=self.api_id, stageName="v1")
        if permission:
            aws("lambda").add_permission(
                FunctionName=fn["FunctionName"], StatementId="apigw", Action="lambda:InvokeFunction",
                Principal="apigateway.amazonaws.com",
                SourceArn=source_arn or f"arn:aws:execute-api:us-east-1:123456789012:{self.api_id}/*/{method}/items/*")
        self.base = f"{endpoint}/_aws/execute-api/{self.api_id}/v1"


@pytest.fixture
def lambda_api(aws, endpoint, make_function):
    def build(source, *, function_kwargs=None, **options):
        fn = make_function(source, **(function_kwargs or {}))
        return LambdaApi(aws, endpoint, fn, **options)
    return build


def test_the_proxy_event_carries_the_whole_request_PROXY(lambda_api):
    api = lambda_api(ECHO)
    response = requests.post(f"{api.base}/items/42?color=red&color=blue&size=L",
                             data="hello", headers={"Content-Type": "text/plain", "X-Trace": "t1"})
    assert response.status_code == 200
    event = response.json()
    assert set(event) == {"resource", "path", "httpMethod", "headers", "multiValueHeaders",
                          "queryStringParameters", "multiValueQueryStringParameters", "pathParameters",
                          "stageVariables", "requestContext", "body", "isBase64Encoded"}
    assert event["resource"] == "/items/{id}" and event["path"] == "/items/42"
    assert event["httpMethod"] == "POST" and event["pathParameters"] == {"id": "42"}
    assert event["queryStringParameters"] == {"color": "blue", "size": "L"}
    assert event["multiValueQueryStringParameters"]["color"] == ["red", "blue"]
    assert event["headers"]["X-Trace"] == "t1"
    assert event["body"] == "hello" and event["isBase64Encoded"] is False
    assert event["stageVariables"] is None
    context = event["requestContext"]
    assert context["stage"] == "v1" and context["path"] == "/v1/items/42"
    assert context["resourcePath"] == "/items/{id}" and context["apiId"] == api.api_id
    assert context["accountId"] == "123456789012" and context["identity"]["sourceIp"] == "127.0.0.1"


def test_binary_bodies_arrive_base64_encoded_when_binary_media_types_match_PROXY(lambda_api):
    api = lambda_api(ECHO, binary=("*/*",))
    payload = bytes(range(256))
    event = requests.post(f"{api.base}/items/1", data=payload,
                          headers={"Content-Type": "application/octet-stream"}).json()
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload


def test_without_add_permission_api_gateway_gets_500_ERRORS(lambda_api):
    api = lambda_api(ECHO, permission=False)
    response = requests.post(f"{api.base}/items/1")
    assert response.status_code == 500
    assert response.text == '{"message": "Internal server error"}'


def test_a_permission_for_another_api_does_not_count_PERMS(lambda_api):
    api = lambda_api(ECHO, source_arn="arn:aws:execute-api:us-east-1:123456789012:otherapi00/*/POST/items/*")
    assert requests.post(f"{api.base}/items/1").status_code == 500


def test_a_function_error_gets_502_ERRORS(lambda_api):
    api = lambda_api("def handler(e, c):\n    raise RuntimeError('boom')\n")
    response = requests.post(f"{api.base}/items/1")
    assert response.status_code == 502
    assert response.text == '{"message": "Internal server error"}'
    assert "boom" not in response.text


@pytest.mark.parametrize("returned", [
    "'just a string'",
    "{'statusCode': 200, 'wrongValue': 'value'}",
    "{'statusCode': 'test'}",
    "{'statusCode': 200, 'multiValueHeaders': {'x': 'not-a-list'}}",
    "{'statusCode': 200, 'body': {'not': 'a string'}}",
])
def test_malformed_proxy_responses_get_502_MALFORMED(lambda_api, returned):
    api = lambda_api(f"def handler(e, c):\n    return {returned}\n")
    response = requests.post(f"{api.base}/items/1")
    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}


def test_valid_response_shapes_and_header_merging_PROXY(lambda_api):
    api = lambda_api("def handler(e, c):\n    return {'statusCode': '201', 'headers': {'X-One': True, "
                     "'X-Multi': 'solo'}, 'multiValueHeaders': {'X-Multi': ['a', 'b']}}\n")
    response = requests.post(f"{api.base}/items/1")
    assert response.status_code == 201 and response.text == ""
    assert response.headers["X-One"] == "true"
    assert response.headers["X-Multi"] == "a, b, solo"
    assert response.headers["Content-Type"] == "application/json"


def test_base64_response_is_decoded_only_for_a_matching_accept_PROXY(lambda_api):
    source = ("import base64\ndef handler(e, c):\n    return {'statusCode': 200, 'isBase64Encoded': True,"
              " 'headers': {'Content-Type': 'image/png'}, 'body': base64.b64encode(b'\\x89PNG').decode()}\n")
    api = lambda_api(source, binary=("image/png",))
    assert requests.post(f"{api.base}/items/1", headers={"Accept": "image/png"}).content == b"\x89PNG"
    assert requests.post(f"{api.base}/items/1", headers={"Accept": "text/html"}).text == "iVBORw=="


def test_integration_timeout_gets_504(lambda_api):
    api = lambda_api("import time\ndef handler(e, c):\n    time.sleep(3)\n    return {'statusCode': 200}\n",
                     function_kwargs={"Timeout": 10}, timeout_ms=1000)
    response = requests.post(f"{api.base}/items/1")
    assert response.status_code == 504
    assert response.json() == {"message": "Endpoint request timed out"}


def test_request_over_lambda_s_6_mb_gets_413_request_too_long(lambda_api):
    api = lambda_api(ECHO)
    response = requests.post(f"{api.base}/items/1", data=b"a" * (6 * 1024 * 1024 + 1),
                             headers={"Content-Type": "text/plain"})
    assert response.status_code == 413
    assert response.text == '{"message": "Request Too Long"}'


def test_the_function_is_reused_warm_through_the_api(lambda_api):
    api = lambda_api("import os\nN = 0\ndef handler(e, c):\n    global N\n    N += 1\n"
                     "    return {'statusCode': 200, 'body': f'{os.getpid()} {N}'}\n")
    answers = [requests.post(f"{api.base}/items/1").text.split() for _ in range(3)]
    assert len({pid for pid, _ in answers}) == 1
    assert [n for _, n in answers] == ["1", "2", "3"]
