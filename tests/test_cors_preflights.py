"""Browser preflights to API Gateway and CloudFront, judged from outside with plain HTTP as a
browser sends them (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-*``).

API Gateway (REST): "Enabling CORS for a REST API resource"
(https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-cors.html): a proxy
integration's backend returns the CORS headers itself; a preflight needs an ``OPTIONS`` method,
usually a MOCK integration whose integration response sets static header values
(``method.response.header.Access-Control-Allow-Origin`` = ``'https://...'``). Without one, the
preflight meets no route: 403 ``{"message":"Missing Authentication Token"}``
(https://repost.aws/knowledge-center/api-gateway-authentication-token-errors; gateway response
MISSING_AUTHENTICATION_TOKEN,
https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).

CloudFront: the behaviour's AllowedMethods decide whether OPTIONS is served at all (403 page
otherwise, https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/http-403-invalid-method.html);
S3 answers a preflight only if CloudFront forwards it the ``Origin`` and
``Access-Control-Request-*`` headers
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/RequestAndResponseBehaviorS3Origin.html#RequestS3-cors,
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/header-caching.html#header-caching-web-cors),
e.g. with the managed origin request policy CORS-S3Origin
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-origin-request-policies.html);
a response headers policy adds CORS headers to the origin's answer without changing its status
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/understanding-response-headers-policies.html,
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-response-headers-policies.html).
"""
import json

import pytest
import requests
from botocore.exceptions import ClientError

from test_cloudfront_control_plane import distribution_config

SITE = "http://127.0.0.1:8123"
OTHER = "http://127.0.0.1:9"
CORS_S3_ORIGIN = "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf"
CORS_WITH_PREFLIGHT = "5cc3b908-e619-4b99-88e5-2cf7f45965bd"
SIMPLE_CORS = "60669652-455b-4ae9-85a4-c4c02393f86c"
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]


def preflight(url, origin=SITE, method="PUT", headers="content-type"):
    sent = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        sent["Access-Control-Request-Headers"] = headers
    return requests.options(url, headers=sent, timeout=30)


def cors_headers(response):
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


# --- API Gateway ----------------------------------------------------------------------------

@pytest.fixture
def api(aws, endpoint, name):
    """/upload with GET (MOCK), deployed to v1; .add_options(...) adds the console's OPTIONS."""
    apigw = aws("apigateway")
    api_id = apigw.create_rest_api(name=name)["id"]
    root = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
    resource = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="upload")["id"]
    common = {"restApiId": api_id, "resourceId": resource}
    apigw.put_method(**common, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(**common, httpMethod="GET", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_method_response(**common, httpMethod="GET", statusCode="200")
    apigw.put_integration_response(**common, httpMethod="GET", statusCode="200")

    class Api:
        url = f"{endpoint}/_aws/execute-api/{api_id}/v1/upload"

        @staticmethod
        def deploy():
            apigw.create_deployment(restApiId=api_id, stageName="v1")

        @staticmethod
        def add_options(values):
            apigw.put_method(**common, httpMethod="OPTIONS", authorizationType="NONE")
            apigw.put_integration(**common, httpMethod="OPTIONS", type="MOCK",
                                  requestTemplates={"application/json": '{"statusCode": 200}'})
            apigw.put_method_response(**common, httpMethod="OPTIONS", statusCode="200", responseParameters={
                f"method.response.header.{header}": False for header in values})
            apigw.put_integration_response(**common, httpMethod="OPTIONS", statusCode="200", responseParameters={
                f"method.response.header.{header}": f"'{value}'" for header, value in values.items()})

    Api.apigw, Api.common = apigw, common
    Api.deploy()
    return Api


def test_a_preflight_to_a_resource_without_options_gets_missing_authentication_token(api):
    """No OPTIONS method (and no ANY): no route, API Gateway's 403 with its JSON body and error
    type, and no CORS header, so the browser reports a CORS failure."""
    response = preflight(api.url)
    assert response.status_code == 403
    assert response.text == '{"message":"Missing Authentication Token"}'
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert response.headers["x-amzn-RequestId"]
    assert cors_headers(response) == {}


def test_an_options_mock_answers_with_its_static_headers_after_a_deployment(api):
    """The OPTIONS method with a MOCK integration answers 200 with the integration response's
    static values; the stage serves it only once deployed again. The values are static: API
    Gateway does not compare the Origin with them (the browser does, and refuses another origin)."""
    values = {"Access-Control-Allow-Origin": SITE, "Access-Control-Allow-Methods": "GET,OPTIONS",
              "Access-Control-Allow-Headers": "content-type"}
    api.add_options(values)
    assert preflight(api.url).status_code == 403  # not deployed yet: the stage is a snapshot
    api.deploy()
    response = preflight(api.url)
    assert response.status_code == 200 and response.content == b""
    assert cors_headers(response) == values
    other = preflight(api.url, origin=OTHER)
    assert other.status_code == 200 and other.headers["Access-Control-Allow-Origin"] == SITE
    # The actual GET has no CORS header: its own integration response must add one.
    assert cors_headers(requests.get(api.url, headers={"Origin": SITE}, timeout=30)) == {}


def test_an_integration_response_may_set_only_the_headers_its_method_response_declares(api):
    """PutIntegrationResponse with a header the method response does not declare: AWS's 400
    BadRequestException naming the expression (recorded answer, quoted in the module)."""
    apigw, common = api.apigw, api.common
    apigw.put_method(**common, httpMethod="OPTIONS", authorizationType="NONE")
    apigw.put_integration(**common, httpMethod="OPTIONS", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_method_response(**common, httpMethod="OPTIONS", statusCode="200")
    with pytest.raises(ClientError) as refused:
        apigw.put_integration_response(**common, httpMethod="OPTIONS", statusCode="200", responseParameters={
            "method.response.header.Access-Control-Allow-Origin": f"'{SITE}'"})
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert refused.value.response["Error"] == {
        "Code": "BadRequestException",
        "Message": "Invalid mapping expression specified: Validation Result: warnings : [], errors : "
                   "[Invalid mapping expression parameter specified: "
                   "method.response.header.Access-Control-Allow-Origin]"}


# --- CloudFront -----------------------------------------------------------------------------

@pytest.fixture
def distribution(aws, endpoint, name):
    """Factory: a bucket (optionally with CORS for SITE) behind a distribution through an OAC
    allowed s3:PutObject, with the behaviour's extra settings."""
    counter = iter(range(100))

    def build(*, methods=ALL_METHODS, cors=True, **behaviour):
        n = f"{name}{next(counter)}"
        s3, cf = aws("s3"), aws("cloudfront")
        s3.create_bucket(Bucket=n)
        if cors:
            s3.put_bucket_cors(Bucket=n, CORSConfiguration={"CORSRules": [{
                "AllowedOrigins": [SITE], "AllowedMethods": ["PUT"], "AllowedHeaders": ["content-type"],
                "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]})
        config = distribution_config(n)
        oac = cf.create_origin_access_control(OriginAccessControlConfig={
            "Name": n, "SigningProtocol": "sigv4", "SigningBehavior": "always",
            "OriginAccessControlOriginType": "s3"})["OriginAccessControl"]["Id"]
        config["Origins"]["Items"][0].update(OriginAccessControlId=oac, S3OriginConfig={"OriginAccessIdentity": ""})
        config["DefaultCacheBehavior"]["AllowedMethods"] = {
            "Quantity": len(methods), "Items": methods, "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}}
        config["DefaultCacheBehavior"].update(behaviour)
        dist = cf.create_distribution(DistributionConfig=config)["Distribution"]
        s3.put_bucket_policy(Bucket=n, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{n}/*", "Condition": {"StringEquals": {"AWS:SourceArn": dist["ARN"]}}}]}))
        keys = lambda: [o["Key"] for o in s3.list_objects_v2(Bucket=n).get("Contents", [])]  # noqa: E731
        return type("Dist", (), {"url": f"{endpoint}/_aws/cloudfront/{dist['Id']}", "keys": staticmethod(keys),
                                 "config": cf.get_distribution_config(Id=dist["Id"])["DistributionConfig"]})
    return build


def test_options_outside_the_allowed_methods_gets_cloudfront_s_403_page(distribution):
    d = distribution(methods=["GET", "HEAD"])
    response = preflight(f"{d.url}/a.bin")
    assert response.status_code == 403
    assert "not configured to allow the HTTP request method" in response.text
    assert response.headers["X-Cache"] == "Error from cloudfront"
    assert cors_headers(response) == {}


def test_without_forwarded_cors_headers_s3_sees_no_cors_request(distribution):
    """CachingDisabled and no origin request policy: S3 gets an OPTIONS without Origin and
    answers 400 (S3 API, "OPTIONS object": Origin is required); an actual PUT is stored but
    its answer carries no CORS header, so a browser could not read it."""
    d = distribution()
    response = preflight(f"{d.url}/a.bin")
    assert response.status_code == 400
    assert "<Code>BadRequest</Code>" in response.text
    assert "Insufficient information. Origin request header needed." in response.text
    assert cors_headers(response) == {}
    put = requests.put(f"{d.url}/a.bin", data=b"1", headers={"Origin": SITE, "Content-Type": "text/plain"},
                       timeout=30)
    assert put.status_code == 200 and cors_headers(put) == {}


def test_the_cors_s3origin_policy_lets_s3_answer_the_preflight(distribution):
    d = distribution(OriginRequestPolicyId=CORS_S3_ORIGIN)
    assert d.config["DefaultCacheBehavior"]["OriginRequestPolicyId"] == CORS_S3_ORIGIN
    response = preflight(f"{d.url}/a.bin")
    assert response.status_code == 200
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": SITE, "Access-Control-Allow-Methods": "PUT",
        "Access-Control-Allow-Headers": "content-type", "Access-Control-Expose-Headers": "ETag",
        "Access-Control-Max-Age": "600", "Access-Control-Allow-Credentials": "true"}
    refused = preflight(f"{d.url}/a.bin", origin=OTHER)
    assert refused.status_code == 403 and "This CORS request is not allowed" in refused.text
    put = requests.put(f"{d.url}/a.bin", data=b"1", headers={"Origin": SITE, "Content-Type": "text/plain"},
                       timeout=30)
    assert put.status_code == 200
    assert put.headers["Access-Control-Allow-Origin"] == SITE
    assert put.headers["Access-Control-Expose-Headers"] == "ETag"
    assert d.keys() == ["a.bin"]


def test_with_the_policy_a_bucket_without_cors_still_refuses(distribution):
    d = distribution(OriginRequestPolicyId=CORS_S3_ORIGIN, cors=False)
    response = preflight(f"{d.url}/a.bin")
    assert response.status_code == 403
    assert "CORSResponse: CORS is not enabled for this bucket." in response.text


def test_legacy_forwarded_values_with_origin_forward_the_cors_headers(distribution):
    d = distribution(CachePolicyId="", ForwardedValues={
        "QueryString": False, "Cookies": {"Forward": "none"},
        "Headers": {"Quantity": 3, "Items": ["Origin", "Access-Control-Request-Method",
                                             "Access-Control-Request-Headers"]}})
    assert preflight(f"{d.url}/a.bin").status_code == 200


def test_a_response_headers_policy_adds_cors_headers_but_keeps_the_status(distribution):
    """CORS-With-Preflight adds its three headers to a preflight's answer, whatever S3 said: S3
    (without the Origin) still answers 400, and a browser refuses a preflight that is not 2xx."""
    d = distribution(ResponseHeadersPolicyId=CORS_WITH_PREFLIGHT)
    response = preflight(f"{d.url}/a.bin")
    assert response.status_code == 400
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT",
        "Access-Control-Allow-Headers": "*"}
    # A request without Origin is no CORS request: nothing is added.
    assert cors_headers(requests.put(f"{d.url}/b.bin", data=b"1", timeout=30)) == {}


def test_the_origin_s_cors_headers_win_over_the_policy_s(distribution):
    """With CORS-S3Origin and SimpleCORS, S3's Access-Control-Allow-Origin (the page's origin)
    is kept: the managed policies do not override the origin's headers."""
    d = distribution(OriginRequestPolicyId=CORS_S3_ORIGIN, ResponseHeadersPolicyId=SIMPLE_CORS)
    put = requests.put(f"{d.url}/a.bin", data=b"1", headers={"Origin": SITE, "Content-Type": "text/plain"},
                       timeout=30)
    assert put.headers["Access-Control-Allow-Origin"] == SITE
    other = requests.put(f"{d.url}/b.bin", data=b"1", headers={"Origin": OTHER, "Content-Type": "text/plain"},
                         timeout=30)
    assert other.headers["Access-Control-Allow-Origin"] == "*"  # S3 matched no rule; the policy adds *
