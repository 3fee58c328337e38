"""CloudFront data plane in the local AWS: S3 origins through an OAI or OAC, allowed methods,
viewer-request Lambda@Edge functions (plain boto3 and requests).

EVENT: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html
GENERATED: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-generating-http-responses-in-requests.html
5XX: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/http-5xx-errors.html
403METHOD: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/http-403-invalid-method.html
OAI: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html
"""
import base64
import json
import hashlib
import os

import pytest
import requests

from conftest import BASIC_EXECUTION, create_function_when_ready, put_bucket_policy_when_ready, zip_code
from test_cloudfront_control_plane import EDGE_TRUST, distribution_config

AUTH_CHECK = '''
import hmac
SECRET = "my-secret-key"
def handler(event, context):
    request = event["Records"][0]["cf"]["request"]
    given = request["headers"].get("authorization", [{"value": ""}])[0]["value"]
    if not hmac.compare_digest(given, SECRET):
        return {"status": "401", "statusDescription": "Unauthorized", "body": "Unauthorized",
                "headers": {"www-authenticate": [{"key": "WWW-Authenticate", "value": "Bearer"}]}}
    return request
'''

# The tempting bug: headers are lists of {key, value}, so comparing one to a string never matches.
LIST_VS_STRING = '''
def handler(event, context):
    request = event["Records"][0]["cf"]["request"]
    headers = request["headers"]
    if "authorization" not in headers:
        return {"status": "401", "body": "Unauthorized"}
    if headers["authorization"] == "my-secret-key":
        return request
    return request
'''


@pytest.fixture
def site(aws, endpoint, name):
    """Factory: a bucket, an OAC (or a legacy OAI) allowed s3:PutObject only, and a distribution."""
    counter = iter(range(100))

    def build(*, edge_source=None, access="oac", methods=None, include_body=False, timeout=3):
        n = f"{name}{next(counter)}"
        s3, cf, iam, lam = aws("s3"), aws("cloudfront"), aws("iam"), aws("lambda")
        s3.create_bucket(Bucket=n)
        associations = None
        fn_name = None
        if edge_source:
            role = iam.create_role(RoleName=n, AssumeRolePolicyDocument=json.dumps(EDGE_TRUST))["Role"]["Arn"]
            iam.attach_role_policy(RoleName=n, PolicyArn=BASIC_EXECUTION)
            create_function_when_ready(lam, FunctionName=n, Runtime="python3.12", Role=role,
                                       Handler="app.handler", Timeout=timeout,
                                       Code={"ZipFile": zip_code({"app.py": edge_source})})
            arn = lam.publish_version(FunctionName=n)["FunctionArn"]
            fn_name = n
            associations = [{"LambdaFunctionARN": arn, "EventType": "viewer-request", "IncludeBody": include_body}]
        oai = None
        if access == "oai":
            oai = cf.create_cloud_front_origin_access_identity(CloudFrontOriginAccessIdentityConfig={
                "CallerReference": n, "Comment": ""})["CloudFrontOriginAccessIdentity"]["Id"]
        config = distribution_config(n, oai, associations)
        if access == "oac":
            oac = cf.create_origin_access_control(OriginAccessControlConfig={
                "Name": n, "SigningProtocol": "sigv4", "SigningBehavior": "always",
                "OriginAccessControlOriginType": "s3"})["OriginAccessControl"]["Id"]
            config["Origins"]["Items"][0]["OriginAccessControlId"] = oac
            config["Origins"]["Items"][0]["S3OriginConfig"] = {"OriginAccessIdentity": ""}
        if methods:
            config["DefaultCacheBehavior"]["AllowedMethods"] = {
                "Quantity": len(methods), "Items": methods, "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}}
        dist = cf.create_distribution(DistributionConfig=config)["Distribution"]
        if access == "oai":
            principal = {"AWS": f"arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity {oai}"}
            condition = {}
        else:
            principal = {"Service": "cloudfront.amazonaws.com"}
            condition = {"Condition": {"StringEquals": {"AWS:SourceArn": dist["ARN"]}}}
        put_bucket_policy_when_ready(s3, n, {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": principal, "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{n}/*", **condition}]})
        return type("Site", (), {"bucket": n, "dist": dist, "function": fn_name,
                                 "url": f"{endpoint}/_aws/cloudfront/{dist['Id']}",
                                 "keys": lambda self: [o["Key"] for o in s3.list_objects_v2(Bucket=n).get("Contents", [])]})()
    return build


def test_put_through_an_oai_stores_the_object_and_get_is_refused_OAI(aws, site):
    """Through a legacy OAI, S3 takes a PUT only with the body's SHA-256 in x-amz-content-sha256
    (CloudFront signs with SigV4 but cannot hash the body): without it 400 InvalidRequest, with
    a wrong one 400 XAmzContentSHA256Mismatch, nothing stored either way (CloudFront Developer
    Guide, "Restrict access to an Amazon S3 origin", legacy OAI section)."""
    s = site(access="oai")
    data = os.urandom(50_000)
    missing = requests.put(f"{s.url}/photos/cat.jpg", data=data, headers={"Content-Type": "image/jpeg"})
    assert missing.status_code == 400 and "<Code>InvalidRequest</Code>" in missing.text
    assert "Please use AWS4-HMAC-SHA256." in missing.text
    wrong = requests.put(f"{s.url}/photos/cat.jpg", data=data, headers={
        "Content-Type": "image/jpeg", "x-amz-content-sha256": hashlib.sha256(b"other").hexdigest()})
    assert wrong.status_code == 400 and "<Code>XAmzContentSHA256Mismatch</Code>" in wrong.text
    assert s.keys() == []
    response = requests.put(f"{s.url}/photos/cat.jpg", data=data, headers={
        "Content-Type": "image/jpeg", "x-amz-content-sha256": hashlib.sha256(data).hexdigest()})
    assert response.status_code == 200
    assert response.headers["X-Cache"] == "Miss from cloudfront" and response.headers["X-Amz-Cf-Id"]
    assert aws("s3").get_object(Bucket=s.bucket, Key="photos/cat.jpg")["Body"].read() == data
    refused = requests.get(f"{s.url}/photos/cat.jpg")
    assert refused.status_code == 403 and "<Code>AccessDenied</Code>" in refused.text


def test_the_distribution_s_domain_in_the_host_header_routes_too(endpoint, site):
    s = site()
    response = requests.put(f"{endpoint}/via-host.txt", data=b"1", headers={"Host": s.dist["DomainName"]})
    assert response.status_code == 200 and s.keys() == ["via-host.txt"]


def test_oac_with_the_distribution_s_source_arn_OAI(aws, site):
    s = site(access="oac")
    assert requests.put(f"{s.url}/oac.txt", data=b"1").status_code == 200
    other = site(access="oac")
    # Point the first bucket's policy at another distribution: the condition no longer holds.
    aws("s3").put_bucket_policy(Bucket=s.bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{s.bucket}/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": other.dist["ARN"]}}}]}))
    assert requests.put(f"{s.url}/oac2.txt", data=b"1").status_code == 403
    assert s.keys() == ["oac.txt"]


def test_a_method_outside_allowed_methods_gets_403_403METHOD(site):
    s = site(methods=["GET", "HEAD"])
    response = requests.put(f"{s.url}/x.txt", data=b"1")
    assert response.status_code == 403
    assert "not configured to allow the HTTP request method" in response.text
    assert response.headers["X-Cache"] == "Error from cloudfront"
    assert s.keys() == []


def test_viewer_request_function_guards_uploads_GENERATED(site):
    s = site(edge_source=AUTH_CHECK)
    missing = requests.put(f"{s.url}/a.txt", data=b"1")
    assert missing.status_code == 401 and missing.text == "Unauthorized"
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    wrong = requests.put(f"{s.url}/a.txt", data=b"1", headers={"Authorization": "guess"})
    assert wrong.status_code == 401
    assert s.keys() == []
    right = requests.put(f"{s.url}/a.txt", data=b"1", headers={"Authorization": "my-secret-key"})
    assert right.status_code == 200 and s.keys() == ["a.txt"]


def test_comparing_the_header_list_to_a_string_lets_anyone_through(site):
    s = site(edge_source=LIST_VS_STRING)
    assert requests.put(f"{s.url}/a.txt", data=b"1").status_code == 401
    anything = requests.put(f"{s.url}/b.txt", data=b"1", headers={"Authorization": "anything at all"})
    assert anything.status_code == 200 and s.keys() == ["b.txt"]


@pytest.mark.parametrize("source,status,marker", [
    ("def handler(e, c):\n    raise ValueError('boom')\n", 503, "LambdaExecutionError"),
    ("def handler(e, c):\n    return 'not an object'\n", 502, "LambdaValidationError"),
    ("def handler(e, c):\n    return {'status': '700'}\n", 502, "LambdaValidationError"),
    ("def handler(e, c):\n    r = e['Records'][0]['cf']['request']\n    r['uri'] = 'no-slash'\n    return r\n",
     502, "LambdaValidationError"),
    ("import time\ndef handler(e, c):\n    time.sleep(3)\n", 503, "LambdaExecutionError"),
    # Wrong types in a returned request or response: validation errors, never a crash.
    ("def handler(e, c):\n    r = e['Records'][0]['cf']['request']\n    r['querystring'] = {'a': 1}\n    return r\n",
     502, "LambdaValidationError"),
    ("def handler(e, c):\n    r = e['Records'][0]['cf']['request']\n    r['headers']['x-a'] = [{'value': 5}]\n"
     "    return r\n", 502, "LambdaValidationError"),
    ("def handler(e, c):\n    r = e['Records'][0]['cf']['request']\n"
     "    r['body'] = {'action': 'replace', 'encoding': 'text', 'data': 7}\n    return r\n",
     502, "LambdaValidationError"),
    ("def handler(e, c):\n    return {'status': '200', 'headers': {'x-a': ['not-an-object']}}\n",
     502, "LambdaValidationError"),
    ("def handler(e, c):\n    return {'status': '200', 'body': {'not': 'a string'}}\n", 502, "LambdaValidationError"),
])
def test_function_failures_give_cloudfront_s_errors_5XX(site, source, status, marker):
    s = site(edge_source=source, timeout=1)
    response = requests.put(f"{s.url}/a.txt", data=b"1")
    assert response.status_code == status
    assert response.headers["X-Cache"] == f"{marker} from cloudfront"
    assert "The request could not be satisfied" in response.text and "boom" not in response.text
    assert s.keys() == []


def test_the_event_has_cloudfront_s_shape_and_the_body_with_include_body_EVENT(aws, site):
    echo = ("import json, base64\ndef handler(e, c):\n    return {'status': '200', 'body': json.dumps(e)}\n")
    s = site(edge_source=echo, include_body=True)
    event = requests.put(f"{s.url}/dir/f.txt?x=1", data=b"hello", headers={"X-Custom": "v"}).json()
    cf = event["Records"][0]["cf"]
    assert cf["config"]["eventType"] == "viewer-request" and cf["config"]["distributionId"] == s.dist["Id"]
    request = cf["request"]
    assert request["method"] == "PUT" and request["uri"] == "/dir/f.txt" and request["querystring"] == "x=1"
    assert request["headers"]["x-custom"] == [{"key": "X-Custom", "value": "v"}]
    assert base64.b64decode(request["body"]["data"]) == b"hello" and request["body"]["inputTruncated"] is False
    # Lambda@Edge logs in the Region of the edge location that ran it, under us-east-1.NAME
    # (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-logs.html);
    # the local CloudFront's edge location is in eu-west-2 (README), so us-east-1 has nothing.
    group = f"/aws/lambda/us-east-1.{s.function}"
    edge = aws("logs", region="eu-west-2").describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert [g["logGroupName"] for g in edge] == [group]
    assert not aws("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"]


def test_a_returned_request_is_forwarded_with_its_changes_EVENT(site):
    rewrite = ("def handler(e, c):\n    r = e['Records'][0]['cf']['request']\n"
               "    r['uri'] = '/inbox' + r['uri']\n"
               "    r['headers']['x-amz-meta-checked'] = [{'key': 'x-amz-meta-checked', 'value': 'yes'}]\n"
               "    return r\n")
    s = site(edge_source=rewrite)
    assert requests.put(f"{s.url}/note.txt", data=b"hi").status_code == 200
    assert s.keys() == ["inbox/note.txt"]


def test_percent_encoded_keys_are_decoded_once_on_the_way_to_s3(site):
    s = site()
    assert requests.put(f"{s.url}/reports/100%25%20done.txt", data=b"1").status_code == 200
    assert requests.put(f"{s.url}/a%2520b.txt", data=b"2").status_code == 200
    assert sorted(s.keys()) == ["a%20b.txt", "reports/100% done.txt"]


def test_a_viewer_s_copy_source_header_is_not_forwarded_to_the_origin(aws, site):
    """A PUT with x-amz-copy-source would make the origin identity copy (read) another object;
    the bucket policy allows only s3:PutObject, so the header must not turn a write into a read."""
    s = site()
    aws("s3").put_object(Bucket=s.bucket, Key="private.txt", Body=b"secret")
    response = requests.put(f"{s.url}/copy.txt", data=b"mine",
                            headers={"x-amz-copy-source": f"/{s.bucket}/private.txt"})
    assert response.status_code == 200
    assert aws("s3").get_object(Bucket=s.bucket, Key="copy.txt")["Body"].read() == b"mine"
