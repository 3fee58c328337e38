"""API Gateway's own answers (gateway responses) on the workbook's paths.

Types and status codes: https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
Lambda errors through API Gateway: https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html
504: https://repost.aws/knowledge-center/api-gateway-504-errors ("Endpoint request timed out")
Payload limit: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html
"""
import requests

from conformance_kit import create_function, invoke_role, invoke_url, lambda_uri, unique  # noqa: F401

SLOW = '''
import time
def handler(event, context):
    time.sleep(2)
    return {"statusCode": 200, "body": "late"}
'''
FAILS = '''
def handler(event, context):
    raise RuntimeError("boom")
'''


def _api(aws, fn, role, timeout_ms=None):
    apigw = aws("apigateway")
    api = apigw.create_rest_api(name=unique())
    extra = {"timeoutInMillis": timeout_ms} if timeout_ms else {}
    apigw.put_method(restApiId=api["id"], resourceId=api["rootResourceId"], httpMethod="ANY",
                     authorizationType="NONE")
    apigw.put_integration(restApiId=api["id"], resourceId=api["rootResourceId"], httpMethod="ANY",
                          type="AWS_PROXY", integrationHttpMethod="POST", uri=lambda_uri(fn["FunctionArn"]),
                          credentials=role, **extra)
    apigw.create_deployment(restApiId=api["id"], stageName="dev")
    return api["id"]


def test_integration_timeout_is_504(aws, endpoint, create_function, invoke_role):
    """INTEGRATION_TIMEOUT: 504 {"message": "Endpoint request timed out"}."""
    api_id = _api(aws, create_function(SLOW, timeout=5), invoke_role("lambda:InvokeFunction"), timeout_ms=200)
    response = requests.get(invoke_url(endpoint, api_id, "dev", "/"), timeout=60)
    assert response.status_code == 504 and response.json() == {"message": "Endpoint request timed out"}


def test_function_error_is_502(aws, endpoint, create_function, invoke_role):
    """An unhandled function error through a proxy integration: 502 {"message": "Internal server error"}."""
    api_id = _api(aws, create_function(FAILS), invoke_role("lambda:InvokeFunction"))
    response = requests.get(invoke_url(endpoint, api_id, "dev", "/"), timeout=60)
    assert response.status_code == 502 and response.json() == {"message": "Internal server error"}


def test_no_permission_to_invoke_is_500(aws, endpoint, create_function, invoke_role):
    """A role that may not invoke the function: 500 {"message": "Internal server error"}
    ("Invalid permissions on Lambda function" in the execution log)."""
    api_id = _api(aws, create_function(FAILS), invoke_role("s3:GetObject"))
    response = requests.get(invoke_url(endpoint, api_id, "dev", "/"), timeout=60)
    assert response.status_code == 500 and response.json() == {"message": "Internal server error"}


def test_payload_over_10_mb_is_413(aws, endpoint, create_function, invoke_role):
    """Maximum payload size 10 MB, not adjustable: 413 naming the limit."""
    api_id = _api(aws, create_function(FAILS), invoke_role("lambda:InvokeFunction"))
    response = requests.put(invoke_url(endpoint, api_id, "dev", "/"), data=b"x" * (10 * 1024 * 1024 + 1),
                            timeout=60)
    assert response.status_code == 413
    assert "HTTP content length exceeded 10485760 bytes." in response.text
