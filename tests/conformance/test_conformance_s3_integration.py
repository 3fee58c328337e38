"""API Gateway REST API -> S3 (AWS integration by path), as recorded against AWS.

Content handling: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings-workflow.html
S3 proxy: https://docs.aws.amazon.com/apigateway/latest/developerguide/integrating-api-with-aws-services-s3.html
Recordings: LS_APIGW_S3 (conformance_kit), test_apigateway_s3_any (recorded 2025-01-31),
test_apigateway_s3_method_mapping (2024-06-14) and TestApiGatewayS3BinarySupport (2025-03-17):
the same gzip body (invalid UTF-8), its base64 and a UTF-8 text, PUT and GET through
``/{object_path+}`` ANY with ``integrationHttpMethod: ANY``.
"""
import base64
import gzip
import json
import xml.etree.ElementTree as ET

import pytest
import requests

from conformance_kit import (LS_APIGW_S3, REGION, invoke_role, invoke_url, unique)  # noqa: F401

RAW = gzip.compress(b"compressed data, should be invalid UTF-8 string", mtime=1676569620)
ENCODED = base64.b64encode(RAW)
TEXT = b"this is a UTF8 text typed object"
REPLACED = RAW.decode("utf-8", errors="replace").encode()  # what a text-only path makes of RAW
BODIES = {"binary-raw": RAW, "binary-encoded": ENCODED, "text": TEXT}


class S3Api:
    """``/{object_path+}`` ANY -> S3 ``{bucket}/{object_path}``, built as the recording did."""

    def __init__(self, aws, endpoint, role, *, request_handling=None, response_handling=None,
                 binary=(), deploy=True):
        self.aws, self.endpoint = aws, endpoint
        self.apigw, self.s3 = aws("apigateway"), aws("s3")
        self.bucket = unique("confbkt")
        self.s3.create_bucket(Bucket=self.bucket)
        api = self.apigw.create_rest_api(name=unique(), **({"binaryMediaTypes": list(binary)} if binary else {}))
        self.api_id = api["id"]
        self.resource_id = self.apigw.create_resource(restApiId=self.api_id, parentId=api["rootResourceId"],
                                                      pathPart="{object_path+}")["id"]
        self.apigw.put_method(restApiId=self.api_id, resourceId=self.resource_id, httpMethod="ANY",
                              authorizationType="NONE", requestParameters={
                                  "method.request.path.object_path": True,
                                  "method.request.header.Content-Type": False,
                                  "method.request.header.response-content-type": False})
        self.apigw.put_method_response(restApiId=self.api_id, resourceId=self.resource_id, httpMethod="ANY",
                                       statusCode="200", responseParameters={"method.response.header.ETag": False})
        extra = {"contentHandling": request_handling} if request_handling else {}
        self.put_integration = self.apigw.put_integration(
            restApiId=self.api_id, resourceId=self.resource_id, httpMethod="ANY", type="AWS",
            integrationHttpMethod="ANY", uri=f"arn:aws:apigateway:{REGION}:s3:path/{self.bucket}/{{object_path}}",
            credentials=role, requestParameters={
                "integration.request.path.object_path": "method.request.path.object_path",
                "integration.request.header.Content-Type": "method.request.header.Content-Type",
                "integration.request.querystring.response-content-type": "method.request.header.response-content-type"},
            **extra)
        extra = {"contentHandling": response_handling} if response_handling else {}
        self.apigw.put_integration_response(
            restApiId=self.api_id, resourceId=self.resource_id, httpMethod="ANY", statusCode="200",
            responseParameters={"method.response.header.ETag": "integration.response.header.ETag"}, **extra)
        if deploy:
            self.deploy("test")

    def deploy(self, stage):
        self.apigw.create_deployment(restApiId=self.api_id, stageName=stage)

    def add_binary_type(self, media_type, stage):
        self.apigw.update_rest_api(restApiId=self.api_id, patchOperations=[
            {"op": "add", "path": "/binaryMediaTypes/" + media_type.replace("/", "~1")}])
        self.deploy(stage)

    def url(self, key, stage="test"):
        return invoke_url(self.endpoint, self.api_id, stage, "/" + key)

    def stored(self, key):
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None


@pytest.fixture(scope="module")
def s3_role(invoke_role):
    return invoke_role("s3:*")


# --- the client's method through integrationHttpMethod ANY -------------------------------------

def test_any_method_forwards_the_clients_method(aws, endpoint, s3_role):
    """LS_APIGW_S3, test_apigateway_s3_any (recorded 2025-01-31): GET of a missing key -> 200
    with S3's NoSuchKey XML (Code, Key, Message: only a default 200 integration response);
    PUT stores; GET returns it; DELETE deletes."""
    api = S3Api(aws, endpoint, s3_role)
    url = api.url("test.json")
    missing = requests.get(url, timeout=60)
    assert missing.status_code == 200
    error = ET.fromstring(missing.content)
    assert (error.findtext("Code"), error.findtext("Key"), error.findtext("Message")) == (
        "NoSuchKey", "test.json", "The specified key does not exist.")
    for put_id in (1, 2):
        put = requests.put(url, json={"put_id": put_id}, headers={"Content-Type": "application/json"}, timeout=60)
        assert put.status_code == 200
        got = requests.get(url, timeout=60)
        assert got.status_code == 200 and got.json() == {"put_id": put_id}
    assert requests.delete(url, timeout=60).status_code == 200
    assert api.stored("test.json") is None


def test_method_mapping_put_from_get(aws, endpoint, s3_role):
    """LS_APIGW_S3, test_apigateway_s3_method_mapping (recorded 2024-06-14): GET /put with an
    integration PUT and a literal request template stores the template's text."""
    apigw = aws("apigateway")
    api = S3Api(aws, endpoint, s3_role, deploy=False)
    root = [r for r in apigw.get_resources(restApiId=api.api_id)["items"] if r["path"] == "/"][0]["id"]
    put = apigw.create_resource(restApiId=api.api_id, parentId=root, pathPart="put")["id"]
    apigw.put_method(restApiId=api.api_id, resourceId=put, httpMethod="GET", authorizationType="NONE")
    apigw.put_method_response(restApiId=api.api_id, resourceId=put, httpMethod="GET", statusCode="200")
    apigw.put_integration(restApiId=api.api_id, resourceId=put, httpMethod="GET", type="AWS",
                          integrationHttpMethod="PUT", credentials=s3_role,
                          uri=f"arn:aws:apigateway:{REGION}:s3:path/{api.bucket}/test.json",
                          requestParameters={"integration.request.header.Content-Type": "'application/json'"},
                          requestTemplates={"application/json": '{"message": "great success!"}'})
    apigw.put_integration_response(restApiId=api.api_id, resourceId=put, httpMethod="GET", statusCode="200")
    api.deploy("test")
    assert requests.get(api.url("put"), timeout=60).status_code == 200
    assert json.loads(api.stored("test.json")) == {"message": "great success!"}


# --- request payloads: Content-Type against binaryMediaTypes, contentHandling -------------------

# (case, integration contentHandling, binary media type added, body, request Content-Type,
#  status, what S3 stores) -- LS_APIGW_S3 test_apigw_s3_binary_support_request[None|CONVERT_TO_TEXT]
# and ..._request_convert_to_binary, recorded 2025-03-17.
REQUEST_CASES = [
    ("text-path-corrupts-binary", None, None, "binary-raw", "image/png", 200, REPLACED),
    ("text-path-keeps-base64-text", None, None, "binary-encoded", "image/png", 200, ENCODED),
    ("binary-type-keeps-bytes", None, "image/png", "binary-raw", "image/png", 200, RAW),
    ("other-content-type-is-text", None, "image/png", "binary-raw", "text/plain", 200, REPLACED),
    ("to-text-encodes-binary", "CONVERT_TO_TEXT", "image/png", "binary-raw", "image/png", 200, ENCODED),
    ("to-text-encodes-text-sent-as-binary-type", "CONVERT_TO_TEXT", "image/png", "text", "image/png", 200, base64.b64encode(TEXT)),
    ("to-text-text-type", "CONVERT_TO_TEXT", "image/png", "text", "text/plain", 200, TEXT),
    ("to-binary-decodes-text", "CONVERT_TO_BINARY", None, "binary-encoded", "image/png", 200, RAW),
    ("to-binary-invalid-base64-is-500", "CONVERT_TO_BINARY", None, "binary-raw", "image/png", 500, None),
    ("to-binary-text-not-base64-is-500", "CONVERT_TO_BINARY", None, "text", "text/plain", 500, None),
    ("to-binary-binary-type-kept", "CONVERT_TO_BINARY", "image/png", "binary-raw", "image/png", 200, RAW),
]


@pytest.mark.parametrize("case,handling,media_type,key,content_type,status,stored", REQUEST_CASES,
                         ids=[c[0] for c in REQUEST_CASES])
def test_request_content_handling_matches_aws(aws, endpoint, s3_role, case, handling, media_type, key,
                                              content_type, status, stored):
    api = S3Api(aws, endpoint, s3_role, request_handling=handling)
    stage = "test"
    if media_type:
        api.add_binary_type(media_type, stage := "test2")
    response = requests.put(api.url(key, stage), data=BODIES[key], headers={"Content-Type": content_type},
                            timeout=60)
    assert response.status_code == status
    if status == 500:
        assert response.json() == {"message": "Internal server error"}
    assert api.stored(key) == stored


def test_binary_payload_into_a_request_template_is_500(aws, endpoint, s3_role):
    """LS_APIGW_S3 ..._request_convert_to_binary_with_request_template (2025-03-17): the
    template (set with UpdateIntegration) is not applied to image/png, which is stored decoded;
    an application/json request whose decoded bytes would reach the template is a 500."""
    api = S3Api(aws, endpoint, s3_role, request_handling="CONVERT_TO_BINARY", deploy=False)
    api.apigw.update_integration(restApiId=api.api_id, resourceId=api.resource_id, httpMethod="ANY",
                                 patchOperations=[{"op": "add", "path": "/requestTemplates/application~1json",
                                                   "value": json.dumps({"data": "$input.body"})}])
    integration = api.apigw.get_integration(restApiId=api.api_id, resourceId=api.resource_id, httpMethod="ANY")
    assert integration["requestTemplates"] == {"application/json": '{"data": "$input.body"}'}
    assert integration["contentHandling"] == "CONVERT_TO_BINARY"
    api.deploy("test")
    ok = requests.put(api.url("binary-encoded"), data=ENCODED, headers={"Content-Type": "image/png"}, timeout=60)
    assert ok.status_code == 200 and api.stored("binary-encoded") == RAW
    refused = requests.put(api.url("other"), data=ENCODED, headers={"Content-Type": "application/json"}, timeout=60)
    assert refused.status_code == 500 and api.stored("other") is None


# --- response payloads: the object's Content-Type and the client's Accept ----------------------

@pytest.fixture(scope="module")
def response_apis(aws, endpoint, s3_role):
    """One API per response contentHandling, each with the three objects stored by S3 directly
    and a second stage with image/png as a binary media type."""
    apis = {}
    for handling in (None, "CONVERT_TO_TEXT", "CONVERT_TO_BINARY"):
        api = S3Api(aws, endpoint, s3_role, response_handling=handling)
        for key, body in BODIES.items():
            api.s3.put_object(Bucket=api.bucket, Key=key, Body=body)
        api.add_binary_type("image/png", "test2")
        apis[handling] = api
    return apis


# (case, response contentHandling, stage, key, Accept, response-content-type, status, body)
# -- LS_APIGW_S3 test_apigw_s3_binary_support_response_no_content_handling, ..._convert_to_text,
# ..._convert_to_binary, recorded 2025-03-17. The payload is binary when the object's
# Content-Type (here overridden with response-content-type) is a binary media type.
OCTET = "binary/octet-stream"
RESPONSE_CASES = [
    ("no-media-types-text", None, "test", "text", "text/plain", OCTET, 200, TEXT),
    ("no-media-types-binary-corrupted", None, "test", "binary-raw", "image/png", OCTET, 200, REPLACED),
    ("text-payload-binary-accept-decoded", None, "test2", "binary-encoded", "image/png", OCTET, 200, RAW),
    ("text-payload-binary-accept-not-base64", None, "test2", "binary-raw", "image/png", OCTET, 500, None),
    ("binary-payload-binary-accept-as-is", None, "test2", "binary-raw", "image/png", "image/png", 200, RAW),
    ("binary-payload-text-accept-encoded", None, "test2", "text", "text/plain", "image/png", 200,
     base64.b64encode(TEXT)),
    ("text-payload-text-accept-text", None, "test2", "binary-raw", "text/plain", OCTET, 200, REPLACED),
    ("to-text-binary-payload-encoded", "CONVERT_TO_TEXT", "test2", "binary-raw", "image/png", "image/png", 200,
     ENCODED),
    ("to-text-text-payload-kept", "CONVERT_TO_TEXT", "test2", "binary-encoded", "image/png", OCTET, 200, ENCODED),
    ("to-binary-text-payload-decoded", "CONVERT_TO_BINARY", "test", "binary-encoded", "image/png", OCTET, 200, RAW),
    ("to-binary-text-not-base64", "CONVERT_TO_BINARY", "test", "text", "text/plain", OCTET, 500, None),
    ("to-binary-binary-payload-as-is", "CONVERT_TO_BINARY", "test2", "binary-raw", "text/plain", "image/png", 200,
     RAW),
]


@pytest.mark.parametrize("case,handling,stage,key,accept,payload_type,status,body", RESPONSE_CASES,
                         ids=[c[0] for c in RESPONSE_CASES])
def test_response_content_handling_matches_aws(response_apis, case, handling, stage, key, accept,
                                               payload_type, status, body):
    api = response_apis[handling]
    response = requests.get(api.url(key, stage), headers={"Accept": accept, "response-content-type": payload_type},
                            timeout=60)
    assert response.status_code == status
    if status == 200:
        assert response.content == body
        assert response.headers["ETag"]  # mapped from S3's answer
    else:
        assert response.json() == {"message": "Internal server error"}


def test_update_integration_response_content_handling(aws, endpoint, s3_role):
    """LS_APIGW_S3 ..._response_convert_to_binary_with_request_template (2025-03-17):
    UpdateIntegrationResponse changes contentHandling (GetIntegrationResponse shows it); with
    CONVERT_TO_TEXT a response template receives text; after switching to CONVERT_TO_BINARY
    the decoded bytes reaching the template make a 500."""
    api = S3Api(aws, endpoint, s3_role, response_handling="CONVERT_TO_TEXT", deploy=False)
    api.s3.put_object(Bucket=api.bucket, Key="binary-encoded", Body=ENCODED)
    common = {"restApiId": api.api_id, "resourceId": api.resource_id, "httpMethod": "ANY", "statusCode": "200"}
    api.apigw.update_integration_response(**common, patchOperations=[
        {"op": "add", "path": "/responseTemplates/application~1json", "value": json.dumps({"data": "$input.body"})}])
    api.add_binary_type("image/png", "test")
    got = requests.get(api.url("binary-encoded"), headers={"Accept": "image/png"}, timeout=60)
    assert got.status_code == 200 and json.loads(got.content) == {"data": ENCODED.decode()}
    updated = api.apigw.update_integration_response(**common, patchOperations=[
        {"op": "replace", "path": "/contentHandling", "value": "CONVERT_TO_BINARY"}])
    assert updated["contentHandling"] == "CONVERT_TO_BINARY"
    assert api.apigw.get_integration_response(**common)["contentHandling"] == "CONVERT_TO_BINARY"
    api.deploy("test")
    assert requests.get(api.url("binary-encoded"), headers={"Accept": "image/png"}, timeout=60).status_code == 500
