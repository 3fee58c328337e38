"""The API Gateway data plane for option 1 (S3 proxy), driven with plain boto3 and requests.

Doc references:
- GW: https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
- S3TUT: https://docs.aws.amazon.com/apigateway/latest/developerguide/integrating-api-with-aws-services-s3.html
- INTRESP: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-integration-settings-integration-response.html
- LIMITS: https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
- BINARY: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings-workflow.html
- PASSTHRU: https://docs.aws.amazon.com/apigateway/latest/developerguide/integration-passthrough-behaviors.html
"""
import json
import os

import pytest
import requests
from botocore.exceptions import ClientError
from conftest import when_key_works

UNRELATED = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::unrelated/*"}]}
BINARY = bytes(range(256)) * 64 + os.urandom(4096)  # invalid UTF-8 on purpose, like a photo


def test_put_through_the_proxy_stores_the_body_byte_exact(proxy_api):
    api = proxy_api()
    response = requests.put(api.url("photo.jpg"), data=BINARY, headers={"Content-Type": "image/jpeg"})
    assert response.status_code == 200
    assert api.get("photo.jpg") == BINARY
    head = api.s3.head_object(Bucket=api.bucket, Key="photo.jpg")
    assert head["ContentType"] == "image/jpeg"  # the client's Content-Type reaches S3


def test_a_second_put_to_the_same_key_overwrites_it(proxy_api):
    """S3 PutObject replaces an existing object (without versioning); so does the proxy."""
    api = proxy_api()
    assert requests.put(api.url("same.bin"), data=b"first").status_code == 200
    second = BINARY * 3
    assert requests.put(api.url("same.bin"), data=second).status_code == 200
    assert api.get("same.bin") == second
    # The ETag is the MD5 of what is stored (computed by API Gateway's data plane as it read).
    import hashlib
    etag = api.s3.head_object(Bucket=api.bucket, Key="same.bin")["ETag"].strip('"')
    assert etag == hashlib.md5(second).hexdigest()


def test_create_rest_api_keeps_binary_media_types_and_patch_adds_them(aws, name):
    apigw = aws("apigateway")
    created = apigw.create_rest_api(name=name, binaryMediaTypes=["*/*"])
    assert apigw.get_rest_api(restApiId=created["id"])["binaryMediaTypes"] == ["*/*"]
    other = apigw.create_rest_api(name=name + "b")
    apigw.update_rest_api(restApiId=other["id"], patchOperations=[
        {"op": "add", "path": "/binaryMediaTypes/image~1png"},
        {"op": "add", "path": "/binaryMediaTypes/*~1*"}])
    assert apigw.get_rest_api(restApiId=other["id"])["binaryMediaTypes"] == ["image/png", "*/*"]
    apigw.update_rest_api(restApiId=other["id"], patchOperations=[
        {"op": "remove", "path": "/binaryMediaTypes/image~1png"}])
    assert apigw.get_rest_api(restApiId=other["id"])["binaryMediaTypes"] == ["*/*"]


def test_without_binary_media_types_binary_bodies_arrive_as_utf8_text_BINARY(proxy_api):
    # BINARY: "Text data | Any | Undefined | Undefined -> UTF8-encoded string"
    api = proxy_api(binary=())
    response = requests.put(api.url("photo.jpg"), data=BINARY, headers={"Content-Type": "image/jpeg"})
    assert response.status_code == 200
    stored = api.get("photo.jpg")
    assert stored != BINARY
    assert stored == BINARY.decode("utf-8", errors="replace").encode("utf-8")
    text = "plain text survives: héllo".encode()
    requests.put(api.url("note.txt"), data=text, headers={"Content-Type": "text/plain"})
    assert api.get("note.txt") == text


def test_binary_media_type_wildcards_match_by_content_type(proxy_api):
    api = proxy_api(binary=("image/*",))
    requests.put(api.url("a.png"), data=BINARY, headers={"Content-Type": "image/png"})
    requests.put(api.url("a.bin"), data=BINARY, headers={"Content-Type": "application/octet-stream"})
    assert api.get("a.png") == BINARY
    assert api.get("a.bin") != BINARY


def test_a_stage_serves_its_deployment_until_redeployed(proxy_api):
    api = proxy_api()
    other_bucket = api.bucket + "-2"
    api.s3.create_bucket(Bucket=other_bucket)
    api.iam.put_role_policy(RoleName=f"{api.name}-role", PolicyName="p2",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                                {"Effect": "Allow", "Action": "s3:PutObject",
                                 "Resource": f"arn:aws:s3:::{other_bucket}/*"}]}))
    # Point the integration at the other bucket (moto has no UpdateIntegration: put it again).
    api.apigw.put_integration(
        restApiId=api.api_id, resourceId=api.resource_id, httpMethod="PUT", type="AWS",
        integrationHttpMethod="PUT", credentials=api.role_arn,
        uri=f"arn:aws:apigateway:us-east-1:s3:path/{other_bucket}/{{key}}",
        requestParameters={"integration.request.path.key": "method.request.path.object"})
    api.apigw.put_integration_response(restApiId=api.api_id, resourceId=api.resource_id,
                                       httpMethod="PUT", statusCode="200")
    requests.put(api.url("one"), data=b"1")
    assert api.keys() == ["one"]  # still the deployed integration
    api.deploy()
    requests.put(api.url("two"), data=b"2")
    assert api.s3.get_object(Bucket=other_bucket, Key="two")["Body"].read() == b"2"
    assert "two" not in api.keys()


def test_payload_over_10_mb_gets_413_and_writes_nothing_LIMITS(proxy_api):
    api = proxy_api()
    body = b"x" * (10 * 1024 * 1024 + 1)
    response = requests.put(api.url("big.bin"), data=body)
    assert response.status_code == 413
    assert response.text == "HTTP content length exceeded 10485760 bytes."
    chunked = requests.put(api.url("big2.bin"), data=iter([body[:6_000_000], body[6_000_000:]]))
    assert chunked.status_code == 413
    assert api.keys() == []


def test_payload_of_exactly_10_mb_is_accepted_LIMITS(proxy_api):
    api = proxy_api()
    body = os.urandom(10 * 1024 * 1024)
    assert requests.put(api.url("edge.bin"), data=body).status_code == 200
    assert api.get("edge.bin") == body


@pytest.mark.parametrize("method,path", [
    ("PUT", "/nothing/here"),        # no such resource
    ("GET", "/upload/a.txt"),        # resource without that method
    ("PUT", "/upload"),              # parent resource has no method
])
def test_unknown_route_gets_403_missing_authentication_token_GW(proxy_api, method, path):
    api = proxy_api()
    response = requests.request(method, api.base + path, data=b"x")
    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}
    assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert api.keys() == []


def test_unknown_stage_and_undeployed_api_get_403_GW(proxy_api, endpoint):
    api = proxy_api(deploy=False)
    response = requests.put(api.url("a"), data=b"x")
    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}
    api.deploy("prod")
    assert requests.put(f"{endpoint}/_aws/execute-api/{api.api_id}/prod/upload/a", data=b"x").status_code == 200
    assert requests.put(api.url("b"), data=b"x").status_code == 403  # stage v1 still does not exist


def test_unknown_api_id_gets_a_clear_404(endpoint):
    response = requests.put(f"{endpoint}/_aws/execute-api/nosuchapi0/v1/upload/a", data=b"x")
    assert response.status_code == 404
    assert "nosuchapi0" in response.json()["message"]


def test_role_that_api_gateway_cannot_assume_gets_500_and_writes_nothing(proxy_api):
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    api = proxy_api(trust=trust)
    response = requests.put(api.url("a.txt"), data=b"hello")
    assert response.status_code == 500
    assert response.text == '{"message": "Internal server error"}'
    assert api.keys() == []


def test_role_without_put_object_reaches_client_as_200_with_s3_error_when_only_default_response_S3TUT(proxy_api):
    # S3TUT: "We use the default mapping for 200 responses so that backend responses of the
    # status code not declared here will be returned to the caller as 200 ones."
    api = proxy_api(policy={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*"}]})
    response = requests.put(api.url("a.txt"), data=b"hello")
    assert response.status_code == 200
    assert "<Code>AccessDenied</Code>" in response.text
    assert "s3:PutObject" in response.text
    assert api.keys() == []


def test_selection_patterns_map_s3_errors_to_method_responses_INTRESP(proxy_api):
    api = proxy_api(policy={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::nope/*"}]},
        responses=(("200", None), ("400", r"4\d{2}"), ("500", r"5\d{2}")))
    response = requests.put(api.url("a.txt"), data=b"hello")
    assert response.status_code == 400
    assert "AccessDenied" in response.text
    assert api.keys() == []


def test_selection_pattern_must_match_the_whole_status_code(proxy_api):
    # "4" would match "403" as a prefix; API Gateway matches the whole status code.
    api = proxy_api(policy=UNRELATED,
                    responses=(("400", "4"),))
    response = requests.put(api.url("a.txt"), data=b"hello")
    assert response.status_code == 500


def test_forgotten_integration_response_gets_500_INTRESP(proxy_api):
    api = proxy_api(responses=())
    response = requests.put(api.url("a.txt"), data=b"hello")
    assert response.status_code == 500
    assert response.json() == {"message": "Internal server error"}


def test_integration_response_without_its_method_response_gets_500(proxy_api):
    api = proxy_api(method_responses=[])
    response = requests.put(api.url("a.txt"), data=b"hello")
    assert response.status_code == 500
    assert response.json() == {"message": "Internal server error"}


def test_attached_managed_policy_and_bucket_policy_are_evaluated(proxy_api, aws, name):
    api = proxy_api(policy=UNRELATED,
                    responses=(("200", None), ("400", r"4\d{2}")))
    iam = aws("iam")
    iam.attach_role_policy(RoleName=f"{api.name}-role",
                           PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")
    assert requests.put(api.url("ok.txt"), data=b"1").status_code == 200
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*",
                                                     "Action": "s3:PutObject",
                                                     "Resource": f"arn:aws:s3:::{api.bucket}/secret/*"}]}
    api.s3.put_bucket_policy(Bucket=api.bucket, Policy=json.dumps(deny))
    response = requests.put(api.url("secret%2Fx.txt"), data=b"1")
    assert response.status_code == 400 and "explicit deny" in response.text
    assert api.keys() == ["ok.txt"]


def test_api_key_required_GW(proxy_api):
    api = proxy_api(api_key_required=True)
    apigw = api.apigw
    key = apigw.create_api_key(name=api.name, enabled=True)
    disabled = apigw.create_api_key(name=api.name + "d", enabled=False)
    lonely = apigw.create_api_key(name=api.name + "l", enabled=True)  # in no usage plan
    plan = apigw.create_usage_plan(name=api.name, apiStages=[{"apiId": api.api_id, "stage": "v1"}])
    for k in (key, disabled):
        apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=k["id"], keyType="API_KEY")
    # the valid key once its link has taken effect (seconds, on AWS): the others stay refused
    accepted = when_key_works(lambda: requests.put(api.url("a.txt"), data=b"1",
                                                   headers={"x-api-key": key["value"]}))
    assert accepted.status_code == 200
    assert api.keys() == ["a.txt"]
    api.s3.delete_object(Bucket=api.bucket, Key="a.txt")
    for headers in ({}, {"x-api-key": "wrong-key-value-of-some-length"},
                    {"x-api-key": disabled["value"]}, {"x-api-key": lonely["value"]}):
        response = requests.put(api.url("a.txt"), data=b"1", headers=headers)
        assert response.status_code == 403
        assert response.json() == {"message": "Forbidden"}
        assert response.headers["x-amzn-ErrorType"] == "ForbiddenException"
    assert api.keys() == []
    assert requests.put(api.url("a.txt"), data=b"1", headers={"x-api-key": key["value"]}).status_code == 200
    assert api.keys() == ["a.txt"]


def test_mapping_an_undeclared_method_parameter_is_rejected_at_put_integration(proxy_api):
    with pytest.raises(ClientError) as err:
        proxy_api(declared={"method.request.header.Content-Type": False})
    assert err.value.response["Error"]["Code"] == "BadRequestException"
    assert "method.request.path.object" in err.value.response["Error"]["Message"]


def test_query_string_and_header_mappings_reach_s3(proxy_api):
    api = proxy_api(
        declared={"method.request.path.object": True, "method.request.querystring.owner": False},
        mapping={"integration.request.path.key": "method.request.path.object",
                 "integration.request.header.x-amz-meta-owner": "method.request.querystring.owner",
                 "integration.request.header.x-amz-meta-source": "'workbook'"})
    assert requests.put(api.url("m.txt") + "?owner=ada", data=b"1").status_code == 200
    meta = api.s3.head_object(Bucket=api.bucket, Key="m.txt")["Metadata"]
    assert meta == {"owner": "ada", "source": "workbook"}


def test_percent_encoded_slash_stays_in_the_key_S3TUT(proxy_api):
    # S3TUT: a key with '/' is sent encoded, e.g. test%2Ftest.txt
    api = proxy_api()
    assert requests.put(api.url("folder%2Fa%20b.txt"), data=b"1").status_code == 200
    assert api.keys() == ["folder/a b.txt"]


def test_greedy_proxy_resource_and_any_method(aws, endpoint, name):
    apigw, s3, iam = aws("apigateway"), aws("s3"), aws("iam")
    bucket = name + "-greedy"
    s3.create_bucket(Bucket=bucket)
    from conftest import APIGW_TRUST, put_policy
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(APIGW_TRUST))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(put_policy(bucket)))
    api = apigw.create_rest_api(name=name, binaryMediaTypes=["*/*"])
    res = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="{proxy+}")
    apigw.put_method(restApiId=api["id"], resourceId=res["id"], httpMethod="ANY",
                     authorizationType="NONE", requestParameters={"method.request.path.proxy": True})
    apigw.put_integration(restApiId=api["id"], resourceId=res["id"], httpMethod="ANY", type="AWS",
                          integrationHttpMethod="PUT", credentials=role,
                          uri=f"arn:aws:apigateway:us-east-1:s3:path/{bucket}/{{key}}",
                          requestParameters={"integration.request.path.key": "method.request.path.proxy"})
    apigw.put_method_response(restApiId=api["id"], resourceId=res["id"], httpMethod="ANY", statusCode="200")
    apigw.put_integration_response(restApiId=api["id"], resourceId=res["id"], httpMethod="ANY", statusCode="200")
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    response = requests.post(f"{endpoint}/_aws/execute-api/{api['id']}/v1/a/b/c.txt", data=b"deep")
    assert response.status_code == 200
    assert s3.get_object(Bucket=bucket, Key="a/b/c.txt")["Body"].read() == b"deep"


def test_mock_integration_and_passthrough_never_PASSTHRU(aws, endpoint, name):
    apigw = aws("apigateway")
    api = apigw.create_rest_api(name=name)
    root = api["rootResourceId"]
    apigw.put_method(restApiId=api["id"], resourceId=root, httpMethod="POST", authorizationType="NONE")
    apigw.put_integration(restApiId=api["id"], resourceId=root, httpMethod="POST", type="MOCK",
                          passthroughBehavior="NEVER",
                          requestTemplates={"application/json": '{"statusCode": 201}'})
    apigw.put_method_response(restApiId=api["id"], resourceId=root, httpMethod="POST", statusCode="201")
    apigw.put_integration_response(restApiId=api["id"], resourceId=root, httpMethod="POST",
                                   statusCode="201", selectionPattern="201",
                                   responseTemplates={"application/json": '{"mocked": true}'})
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    url = f"{endpoint}/_aws/execute-api/{api['id']}/v1/"
    response = requests.post(url, json={"a": 1})
    assert (response.status_code, response.json()) == (201, {"mocked": True})
    refused = requests.post(url, data=b"x", headers={"Content-Type": "text/csv"})
    assert refused.status_code == 415
    assert refused.json() == {"message": "Unsupported Media Type"}


def test_execution_log_lines_reach_cloudwatch_logs(proxy_api, aws):
    api = proxy_api(responses=())
    requests.put(api.url("a.txt"), data=b"1")
    logs = aws("logs")
    group = f"API-Gateway-Execution-Logs_{api.api_id}/v1"
    events = []
    for stream in logs.describe_log_streams(logGroupName=group)["logStreams"]:
        events += logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])["events"]
    text = "\n".join(e["message"] for e in events)
    assert "No match for output mapping and no default output mapping configured" in text
    assert "Method completed with status: 500" in text


def test_a_body_that_looks_like_vtl_is_data_not_a_template():
    """Only the mapping template is checked for Velocity; `$input.body` passes the body as is."""
    from localaws.apigateway.dataplane import render_template

    body = b'{"price": "$5", "note": "#if you can"}'
    assert render_template("$input.body", body, log_name="request template") == body
    with pytest.raises(Exception, match="Velocity"):
        render_template('{"id": "$context.requestId"}', body, log_name="request template")
