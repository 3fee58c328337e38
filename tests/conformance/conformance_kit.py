"""Sources, fixtures and builders for the conformance suite: plain boto3 calls and requests.

(No conftest.py here: the suite's fixtures are imported from this module by name, so that
``from conftest import ...`` in the tests above keeps finding tests/conftest.py.)

Every case in this folder replays a request sequence whose answer from real AWS is public and
checks the local AWS gives the same status, error code, message, fields and header casing.
Sources are named per case: an AWS documentation page, or a recording of a real AWS response
published in LocalStack's test suite (``localstack/localstack``, ``tests/aws/services/...``
``*.snapshot.json``, each recording dated; the facts were read there, the code here is ours).
"""
import io
import json
import time
import uuid
import zipfile

import pytest
import requests
from conftest import create_function_when_ready

ACCOUNT = "123456789012"
REGION = "us-east-1"
# The published recordings, by file; the date of each recording is given with each case.
LS = "https://github.com/localstack/localstack/blob/main/tests/aws/services/"
LS_APIGW_LAMBDA = LS + "apigateway/test_apigateway_lambda.snapshot.json"
LS_APIGW_LAMBDA_TEST = LS + "apigateway/test_apigateway_lambda.py"
LS_APIGW_S3 = LS + "apigateway/test_apigateway_s3.snapshot.json"
LS_APIGW_INTEGRATIONS = LS + "apigateway/test_apigateway_integrations.snapshot.json"
LS_APIGW_COMMON = LS + "apigateway/test_apigateway_common.snapshot.json"
LS_APIGW_COMMON_TEST = LS + "apigateway/test_apigateway_common.py"
LS_LAMBDA = LS + "lambda_/test_lambda.snapshot.json"
LS_LAMBDA_API = LS + "lambda_/test_lambda_api.snapshot.json"
LS_S3 = LS + "s3/test_s3.snapshot.json"

APIGW_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def unique(prefix="conf"):
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def zipped(source: str, filename: str = "app.py") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(filename)
        info.external_attr = 0o644 << 16
        archive.writestr(info, source)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def create_function(aws):
    """create_function(source, handler="app.handler", timeout=3) -> the CreateFunction answer."""
    def create(source, handler="app.handler", timeout=3, filename="app.py"):
        name = unique("conffn")
        iam = aws("iam")
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"]["Arn"]
        iam.attach_role_policy(RoleName=name, PolicyArn=BASIC_EXECUTION)
        return create_function_when_ready(
            aws("lambda"), FunctionName=name, Runtime="python3.12", Role=role, Handler=handler,
            Timeout=timeout, Code={"ZipFile": zipped(source, filename)})
    return create


@pytest.fixture(scope="module")
def invoke_role(aws):
    """A role API Gateway may assume, allowed `action` on everything."""
    def create(action):
        name = unique("confrole")
        iam = aws("iam")
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(APIGW_TRUST))["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}))
        return arn
    return create


def lambda_uri(function_arn: str) -> str:
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def invoke_url(endpoint: str, api_id: str, stage: str, path: str = "/") -> str:
    """The local form of https://{api_id}.execute-api.{region}.amazonaws.com/{stage}{path}."""
    return f"{endpoint}/_aws/execute-api/{api_id}/{stage}{path}"


def add_mock(apigw, api_id, resource_id, method, template_body: dict):
    """A MOCK method answering 200 with a literal response template."""
    apigw.put_method(restApiId=api_id, resourceId=resource_id, httpMethod=method, authorizationType="NONE")
    apigw.put_method_response(restApiId=api_id, resourceId=resource_id, httpMethod=method, statusCode="200")
    apigw.put_integration(restApiId=api_id, resourceId=resource_id, httpMethod=method, type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_integration_response(restApiId=api_id, resourceId=resource_id, httpMethod=method,
                                   statusCode="200",
                                   responseTemplates={"application/json": json.dumps(template_body)})


def get(url, **kwargs):
    return requests.get(url, timeout=60, **kwargs)


def wait_for_logs(logs, group, predicate, timeout=10.0):
    """The messages of `group` once `predicate(messages)` holds (logs arrive after the answer)."""
    deadline = time.time() + timeout
    messages = []
    while time.time() < deadline:
        try:
            events = logs.filter_log_events(logGroupName=group)["events"]
        except logs.exceptions.ResourceNotFoundException:
            events = []
        messages = [e["message"] for e in events]
        if predicate(messages):
            return messages
        time.sleep(0.2)
    return messages
