"""Every service checks who signed a request and what that principal may do, as AWS does.

Plain boto3 (botocore signs; the local AWS recomputes each signature from the key's secret):

- an unknown access key and a wrong secret get each service's own error, in its protocol:
  IAM and STS (query) and CloudFront (REST-XML): 403 ``InvalidClientTokenId`` /
  ``SignatureDoesNotMatch``
  (https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html); Lambda and API Gateway
  (REST-JSON): 403 ``UnrecognizedClientException``
  (https://docs.aws.amazon.com/lambda/latest/api/CommonErrors.html) / ``InvalidSignatureException``
  (the SigV4 auth trait's implicit error, HTTP 403); CloudWatch Logs (JSON 1.1): the same codes
  with 400; S3: 403 ``InvalidAccessKeyId`` / ``SignatureDoesNotMatch``
  (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList);
- the root's ``test``/``test``, IAM users' keys and STS session keys work;
- an IAM user's or role session's calls are authorized against its policies: "User: ARN is not
  authorized to perform: ACTION on resource: RESOURCE because no identity-based policy allows
  the ACTION action" (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).

Before: signatures in the Authorization header were not checked, an unknown key acted as the
root, and control-plane calls were never authorized.
"""
import hashlib
import io
import json
import uuid

import boto3
import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

import helpers as wb
from conftest import LAMBDA_TRUST, create_function_when_ready, zip_code

ACCOUNT = "123456789012"
INVALID_TOKEN = "The security token included in the request is invalid."
MISMATCH = ("The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service documentation "
            "for details.")
S3_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
               "Check your key and signing method.")


def client(endpoint, service, key="test", secret="test", token=None, **config):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
                        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"},
                                      **config))


def refusal(call):
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


# One cheap read per service, and each protocol's answer to a bad key and a bad signature.
CALLS = {
    "s3": lambda c: c.list_buckets(),
    "iam": lambda c: c.list_roles(),
    "sts": lambda c: c.get_caller_identity(),
    "cloudfront": lambda c: c.list_distributions(),
    "lambda": lambda c: c.list_functions(),
    "apigateway": lambda c: c.get_rest_apis(),
    "logs": lambda c: c.describe_log_groups(),
}
UNKNOWN_KEY = {
    "s3": (403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."),
    "iam": (403, "InvalidClientTokenId", INVALID_TOKEN),
    "sts": (403, "InvalidClientTokenId", INVALID_TOKEN),
    "cloudfront": (403, "InvalidClientTokenId", INVALID_TOKEN),
    "lambda": (403, "UnrecognizedClientException", INVALID_TOKEN),
    "apigateway": (403, "UnrecognizedClientException", INVALID_TOKEN),
    "logs": (400, "UnrecognizedClientException", INVALID_TOKEN),
}
WRONG_SECRET = {
    "s3": (403, "SignatureDoesNotMatch", S3_MISMATCH),
    "iam": (403, "SignatureDoesNotMatch", MISMATCH),
    "sts": (403, "SignatureDoesNotMatch", MISMATCH),
    "cloudfront": (403, "SignatureDoesNotMatch", MISMATCH),
    "lambda": (403, "InvalidSignatureException", MISMATCH),
    "apigateway": (403, "InvalidSignatureException", MISMATCH),
    "logs": (400, "InvalidSignatureException", MISMATCH),
}


@pytest.mark.parametrize("service", sorted(CALLS))
def test_the_documented_root_credentials_work_for_every_service(endpoint, service):
    CALLS[service](client(endpoint, service))


@pytest.mark.parametrize("service", sorted(CALLS))
def test_an_unknown_access_key_gets_the_services_own_error(endpoint, service):
    assert refusal(lambda: CALLS[service](client(endpoint, service, "AKIAUNKNOWNKEY000000", "x"))) \
        == UNKNOWN_KEY[service]


@pytest.mark.parametrize("service", sorted(CALLS))
def test_a_wrong_secret_gets_signature_does_not_match(endpoint, service):
    assert refusal(lambda: CALLS[service](client(endpoint, service, "test", "not-the-secret"))) \
        == WRONG_SECRET[service]


def test_s3_error_names_the_key_and_shows_what_was_signed(endpoint):
    """S3's SignatureDoesNotMatch carries AWSAccessKeyId, StringToSign and CanonicalRequest."""
    with pytest.raises(ClientError) as caught:
        client(endpoint, "s3", "test", "wrong").list_buckets()
    error = caught.value.response["Error"]
    assert error["AWSAccessKeyId"] == "test"
    assert error["StringToSign"].startswith("AWS4-HMAC-SHA256\n")
    assert error["CanonicalRequest"].startswith("GET\n/\n")


# --- S3's other ways of signing -------------------------------------------------------------------

@pytest.fixture
def bucket(endpoint):
    s3 = client(endpoint, "s3")
    name = "sig-" + uuid.uuid4().hex[:10]
    s3.create_bucket(Bucket=name)
    yield name
    for item in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=item["Key"])
    s3.delete_bucket(Bucket=name)


def test_s3_accepts_and_checks_sigv2_in_the_authorization_header(endpoint, bucket):
    """S3 still accepts Signature Version 2 ("AWS AKID:signature") where it did
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html)."""
    v2 = client(endpoint, "s3", signature_version="s3")
    v2.put_object(Bucket=bucket, Key="v2.txt", Body=b"signed with v2")
    assert v2.get_object(Bucket=bucket, Key="v2.txt")["Body"].read() == b"signed with v2"
    assert refusal(lambda: client(endpoint, "s3", "test", "wrong", signature_version="s3").list_buckets())[:2] \
        == (403, "SignatureDoesNotMatch")


def signed_put(endpoint, bucket, key, body, payload_hash, secret="test", headers=None):
    url = f"{endpoint}/{bucket}/{key}"
    request = AWSRequest(method="PUT", url=url, data=body,
                         headers={"x-amz-content-sha256": payload_hash, **(headers or {})})
    S3SigV4Auth(Credentials("test", secret), "s3", "us-east-1").add_auth(request)
    return requests.put(url, data=body, headers=dict(request.headers.items()))


def test_s3_signs_the_payload_hash_as_sent_unsigned_payload_included(endpoint, bucket):
    """The payload hash signed is x-amz-content-sha256 as sent: the body's SHA-256, or
    UNSIGNED-PAYLOAD (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html)."""
    body = b"hashed or not"
    assert signed_put(endpoint, bucket, "hashed", body, hashlib.sha256(body).hexdigest()).status_code == 200
    assert signed_put(endpoint, bucket, "unsigned", body, "UNSIGNED-PAYLOAD").status_code == 200
    wrong = signed_put(endpoint, bucket, "wrong", body, "UNSIGNED-PAYLOAD", secret="other")
    assert wrong.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in wrong.text


def test_s3_sigv4_without_a_payload_hash_header_is_refused(endpoint, bucket):
    """SigV4 requests to S3 must send x-amz-content-sha256: "Missing required header for this
    request: x-amz-content-sha256" (400 InvalidRequest)."""
    url = f"{endpoint}/{bucket}/nohash"
    request = AWSRequest(method="PUT", url=url, data=b"x")
    from botocore.auth import SigV4Auth  # signs without the header, as for other services

    SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(request)
    answer = requests.put(url, data=b"x", headers=dict(request.headers.items()))
    assert answer.status_code == 400 and "<Code>InvalidRequest</Code>" in answer.text
    assert "Missing required header for this request: x-amz-content-sha256" in answer.text


def test_s3_streaming_uploads_sign_their_streaming_payload_value(endpoint, bucket):
    """An aws-chunked upload with a trailing checksum (what boto3 and the JavaScript SDK send for
    streams) signs STREAMING-UNSIGNED-PAYLOAD-TRAILER as its payload hash
    (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html)."""
    import base64
    import zlib

    data = b"streamed " * 5000
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    body = f"{len(data):x}\r\n".encode() + data + f"\r\n0\r\nx-amz-checksum-crc32:{crc}\r\n\r\n".encode()
    headers = {"Content-Encoding": "aws-chunked", "x-amz-trailer": "x-amz-checksum-crc32",
               "x-amz-decoded-content-length": str(len(data))}
    answer = signed_put(endpoint, bucket, "stream", body, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", headers=headers)
    assert answer.status_code == 200, answer.text
    assert client(endpoint, "s3").get_object(Bucket=bucket, Key="stream")["Body"].read() == data
    wrong = signed_put(endpoint, bucket, "s2", body, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", secret="other",
                       headers=headers)
    assert wrong.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in wrong.text


def test_other_services_sign_paths_encoded_twice_so_s3_style_signing_is_refused(endpoint):
    """SigV4 encodes each path segment twice for every service but S3
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html):
    Lambda's ListTags, whose path holds the function ARN, signed the S3 way is refused; the
    helpers' clients sign it right."""
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:no-such-function"
    as_s3 = client(endpoint, "lambda", signature_version="s3v4")
    assert refusal(lambda: as_s3.list_tags(Resource=arn))[:2] == (403, "InvalidSignatureException")
    target = wb.connect("local", endpoint_url=endpoint, start=False)
    assert refusal(lambda: target.client("lambda").list_tags(Resource=arn))[:2] == (404, "ResourceNotFoundException")


# --- IAM users and STS sessions ---------------------------------------------------------------------

def make_user(endpoint, name, policy=None):
    iam = client(endpoint, "iam")
    iam.create_user(UserName=name)
    if policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def allow(*actions, resource="*", effect="Allow"):
    return {"Version": "2012-10-17", "Statement": [{"Effect": effect, "Action": list(actions), "Resource": resource}]}


def test_an_iam_users_keys_work_and_are_checked_like_any_others(endpoint, name):
    key, secret = make_user(endpoint, name, allow("lambda:ListFunctions"))
    who = client(endpoint, "sts", key, secret).get_caller_identity()
    assert who["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{name}"
    client(endpoint, "lambda", key, secret).list_functions()
    assert refusal(lambda: client(endpoint, "lambda", key, "wrong").list_functions())[:2] == \
        (403, "InvalidSignatureException")
    client(endpoint, "iam").update_access_key(UserName=name, AccessKeyId=key, Status="Inactive")
    assert refusal(lambda: client(endpoint, "lambda", key, secret).list_functions())[:2] == \
        (403, "UnrecognizedClientException")


def test_sts_session_keys_work_only_with_their_token(endpoint, name):
    iam = client(endpoint, "iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                      "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(allow("lambda:ListFunctions")))
    session = client(endpoint, "sts").assume_role(RoleArn=role, RoleSessionName="s1")["Credentials"]
    keys = (session["AccessKeyId"], session["SecretAccessKey"])
    who = client(endpoint, "sts", *keys, token=session["SessionToken"]).get_caller_identity()
    assert who["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/s1"
    client(endpoint, "lambda", *keys, token=session["SessionToken"]).list_functions()
    assert refusal(lambda: client(endpoint, "lambda", *keys).list_functions()) == \
        (403, "UnrecognizedClientException", INVALID_TOKEN)
    denied = refusal(lambda: client(endpoint, "lambda", *keys, token=session["SessionToken"])
                     .get_function(FunctionName="s3wb-anything"))
    assert denied == (403, "AccessDeniedException",
                      f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{name}/s1 is not authorized to perform: "
                      f"lambda:GetFunction on resource: arn:aws:lambda:us-east-1:{ACCOUNT}:function:s3wb-anything "
                      "because no identity-based policy allows the lambda:GetFunction action")


# --- control-plane authorization ------------------------------------------------------------------

@pytest.fixture
def learner(endpoint, name):
    """An IAM user holding exactly the workbook's policy (helpers.workbook_policy())."""
    created = wb.create_workbook_user(None, name, iam=client(endpoint, "iam"))
    return created["access_key_id"], created["secret_access_key"], created["user_arn"]


def denial(arn, action, resource):
    return f"User: {arn} is not authorized to perform: {action} on resource: {resource} " \
           f"because no identity-based policy allows the {action} action"


def test_the_workbook_policy_allows_its_own_names_and_refuses_others_in_each_services_shape(endpoint, learner):
    key, secret, arn = learner
    iam, lam = client(endpoint, "iam", key, secret), client(endpoint, "lambda", key, secret)
    trust = json.dumps(LAMBDA_TRUST)
    suffix = uuid.uuid4().hex[:8]
    role = iam.create_role(RoleName=f"s3wb-{suffix}", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    assert refusal(lambda: iam.create_role(RoleName=f"other-{suffix}", AssumeRolePolicyDocument=trust)) == \
        (403, "AccessDenied", denial(arn, "iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/other-{suffix}"))
    package = zip_code({"app.py": "def handler(event, context):\n    return 1\n"})
    other = f"other-{suffix}"
    assert refusal(lambda: lam.create_function(FunctionName=other, Runtime="python3.12", Role=role,
                                               Handler="app.handler", Code={"ZipFile": package})) == \
        (403, "AccessDeniedException",
         denial(arn, "lambda:CreateFunction", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{other}"))
    created = create_function_when_ready(lam, FunctionName=f"s3wb-{suffix}", Runtime="python3.12", Role=role,
                                         Handler="app.handler", Code={"ZipFile": package})
    assert created["FunctionName"] == f"s3wb-{suffix}"
    assert refusal(lambda: client(endpoint, "apigateway", key, secret).get_account()) == \
        (403, "AccessDeniedException", denial(arn, "apigateway:GET", "arn:aws:apigateway:us-east-1::/account"))
    assert refusal(lambda: client(endpoint, "logs", key, secret).describe_log_streams(logGroupName="/other")) == \
        (400, "AccessDeniedException",
         denial(arn, "logs:DescribeLogStreams", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/other"))
    assert refusal(lambda: client(endpoint, "cloudfront", key, secret).list_functions())[:2] == \
        (403, "AccessDenied")
    client(endpoint, "cloudfront", key, secret).list_distributions()
    lam.delete_function(FunctionName=f"s3wb-{suffix}")
    iam.delete_role(RoleName=f"s3wb-{suffix}")


def test_handing_a_role_to_lambda_needs_iam_pass_role_on_it(endpoint, name):
    """CreateFunction with a role needs iam:PassRole on that role
    (https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html)."""
    key, secret = make_user(endpoint, name, allow("lambda:CreateFunction"))
    role = client(endpoint, "iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"]["Arn"]
    package = zip_code({"app.py": "def handler(event, context):\n    return 1\n"})
    assert refusal(lambda: client(endpoint, "lambda", key, secret).create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler", Code={"ZipFile": package})) == \
        (403, "AccessDeniedException", denial(f"arn:aws:iam::{ACCOUNT}:user/{name}", "iam:PassRole", role))


def test_an_explicit_deny_wins_and_says_so(endpoint, name):
    key, secret = make_user(endpoint, name, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:ListRoles", "Resource": "*"}]})
    status, code, message = refusal(lambda: client(endpoint, "iam", key, secret).list_roles())
    assert (status, code) == (403, "AccessDenied")
    assert message.endswith("with an explicit deny in an identity-based policy")
    client(endpoint, "iam", key, secret).list_users()


def test_get_caller_identity_needs_no_permission(endpoint, name):
    """STS API Reference, GetCallerIdentity: "No permissions are required to perform this
    operation." even with a Deny."""
    key, secret = make_user(endpoint, name, allow("sts:*", effect="Deny"))
    assert client(endpoint, "sts", key, secret).get_caller_identity()["Arn"].endswith(f":user/{name}")


def test_delete_objects_is_authorized_for_each_key(endpoint, bucket, name):
    """Multi-object delete needs s3:DeleteObject on each object, not on the bucket
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html)."""
    root = client(endpoint, "s3")
    for key in ("keep/a", "tmp/a"):
        root.put_object(Bucket=bucket, Key=key, Body=b"x")
    key, secret = make_user(endpoint, name, allow("s3:DeleteObject", resource=f"arn:aws:s3:::{bucket}/tmp/*"))
    user = client(endpoint, "s3", key, secret)
    user.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "tmp/a"}]})
    assert refusal(lambda: user.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "keep/a"}]}))[:2] == \
        (403, "AccessDenied")
    assert [o["Key"] for o in root.list_objects_v2(Bucket=bucket)["Contents"]] == ["keep/a"]


# --- who the root is, and IAM's policy simulator ----------------------------------------------------

def test_the_root_keys_are_the_account_root(endpoint):
    """GetCallerIdentity for root credentials: the account as UserId and ARN ``...:root``
    (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html). Before:
    moto's ``arn:aws:sts::123456789012:user/moto``."""
    who = client(endpoint, "sts").get_caller_identity()
    assert (who["UserId"], who["Account"], who["Arn"]) == (ACCOUNT, ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root")


def test_the_policy_simulator_evaluates_a_users_policies(endpoint, learner):
    """SimulatePrincipalPolicy (moto has none): each action and resource gets allowed,
    implicitDeny or explicitDeny
    (https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html)."""
    _, _, arn = learner
    iam = client(endpoint, "iam")
    results = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["s3:PutObject", "ec2:RunInstances"],
        ResourceArns=["arn:aws:s3:::s3wb-abc/x", "arn:aws:s3:::other/x"])["EvaluationResults"]
    assert [(r["EvalActionName"], r["EvalResourceName"], r["EvalDecision"]) for r in results] == [
        ("s3:PutObject", "arn:aws:s3:::s3wb-abc/x", "allowed"),
        ("s3:PutObject", "arn:aws:s3:::other/x", "implicitDeny"),
        ("ec2:RunInstances", "arn:aws:s3:::s3wb-abc/x", "implicitDeny"),
        ("ec2:RunInstances", "arn:aws:s3:::other/x", "implicitDeny")]
    assert refusal(lambda: iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/nobody-{uuid.uuid4().hex[:6]}",
        ActionNames=["s3:PutObject"]))[:2] == (404, "NoSuchEntity")


def test_check_permissions_simulates_the_workbook_for_a_local_user(endpoint, learner, monkeypatch):
    """helpers.check_permissions works the same on the local AWS as on an account: a user with
    the workbook's policy (its keys given as the helpers read them) is allowed every action the
    workbook calls."""
    key, secret, arn = learner
    monkeypatch.setenv("WORKBOOK_ACCESS_KEY_ID", key)
    monkeypatch.setenv("WORKBOOK_SECRET_ACCESS_KEY", secret)
    result = wb.check_permissions(wb.connect("local", endpoint_url=endpoint, start=False))
    assert result["checked"] and result["principal"] == arn and result["denied"] == []
    assert len(result["allowed"]) == len(wb.workbook_actions())


def test_associating_an_edge_function_needs_get_function_and_enable_replication_on_it(endpoint, name):
    """To associate a Lambda@Edge function with a distribution, the caller also needs
    lambda:GetFunction and lambda:EnableReplication* on the function version
    (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-edge-permissions.html)."""
    version = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}:1"
    key, secret = make_user(endpoint, name, allow("cloudfront:CreateDistribution", "lambda:GetFunction"))
    behaviour = {"TargetOriginId": "s3", "ViewerProtocolPolicy": "https-only",
                 "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
                 "LambdaFunctionAssociations": {"Quantity": 1, "Items": [
                     {"LambdaFunctionARN": version, "EventType": "viewer-request"}]}}
    config = {"CallerReference": name, "Comment": "edge", "Enabled": True, "DefaultCacheBehavior": behaviour,
              "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": f"{name}.s3.us-east-1.amazonaws.com"}]}}
    assert refusal(lambda: client(endpoint, "cloudfront", key, secret).create_distribution(DistributionConfig=config)) \
        == (403, "AccessDenied", denial(f"arn:aws:iam::{ACCOUNT}:user/{name}", "lambda:EnableReplication", version))


def test_unsigned_calls_to_apis_the_local_aws_serves_itself_are_refused(endpoint):
    """An unsigned request is missing its authentication token
    (https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html, MissingAuthenticationToken)."""
    invoke = requests.post(f"{endpoint}/2015-03-31/functions/any/invocations", data=b"{}")
    assert invoke.status_code == 403 and invoke.json() == {"message": "Missing Authentication Token"}
    assert invoke.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    oai = requests.get(f"{endpoint}/2020-05-31/origin-access-identity/cloudfront")
    assert oai.status_code == 403 and "<Code>MissingAuthenticationToken</Code>" in oai.text


# --- the request time against the clock ----------------------------------------------------------
#
# "In most cases, a request must reach AWS within five minutes of the time stamp in the request.
# Otherwise, AWS denies the request" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_aws-signing.html);
# S3 allows 15 minutes, "RequestTimeTooSkewed: The difference between the request time and the
# current time is too large." (403, https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList)
# with RequestTime, ServerTime and MaxAllowedSkewMilliseconds 900000 in its XML, as S3 sends them.
# The SigV4 services answer "Signature expired: 20160609T184512Z is now earlier than
# 20160610T013008Z (20160610T014508Z - 15 min.)" (STS, 403 SignatureDoesNotMatch), "... - 5 min."
# (Lambda 403, CloudWatch Logs 400, InvalidSignatureException) and "Signature not yet current:
# T is still later than T' (NOW + 15 min.)" for a clock that runs fast: their recorded answers.

import datetime as _dt
import re
import time

import botocore.auth

SKEW_WINDOW = {"s3": 15, "iam": 15, "sts": 15, "cloudfront": 5, "lambda": 5, "apigateway": 5, "logs": 5}
SKEW_CODE = {"s3": (403, "RequestTimeTooSkewed"), "iam": (403, "SignatureDoesNotMatch"),
             "sts": (403, "SignatureDoesNotMatch"), "cloudfront": (403, "SignatureDoesNotMatch"),
             "lambda": (403, "InvalidSignatureException"),
             "apigateway": (403, "InvalidSignatureException"), "logs": (400, "InvalidSignatureException")}
STAMP = r"\d{8}T\d{6}Z"


@pytest.fixture
def client_clock(monkeypatch):
    """Sets the clock botocore signs with (SigV4's X-Amz-Date, SigV2's Date) this many minutes
    off the real one, as on a machine whose clock is wrong."""
    def set_offset(minutes):
        shifted = lambda: _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(minutes=minutes)  # noqa: E731
        monkeypatch.setattr(botocore.auth, "get_current_datetime",
                            lambda remove_tzinfo=True: shifted().replace(tzinfo=None) if remove_tzinfo else shifted())
        monkeypatch.setattr(botocore.auth.HmacV1Auth, "_get_date",
                            lambda self: shifted().strftime("%a, %d %b %Y %H:%M:%S GMT"))
    return set_offset


@pytest.mark.parametrize("service", sorted(CALLS))
def test_a_request_signed_too_long_ago_is_refused_with_the_services_words(endpoint, service, client_clock):
    minutes = SKEW_WINDOW[service]
    client_clock(-(minutes + 2))
    status, code, message = refusal(lambda: CALLS[service](client(endpoint, service)))
    assert (status, code) == SKEW_CODE[service]
    if service == "s3":
        assert message == "The difference between the request time and the current time is too large."
    else:
        assert re.fullmatch(rf"Signature expired: {STAMP} is now earlier than {STAMP} \({STAMP} - {minutes} min\.\)",
                            message), message


@pytest.mark.parametrize("service", sorted(CALLS))
def test_a_request_dated_in_the_future_is_refused_too(endpoint, service, client_clock):
    minutes = SKEW_WINDOW[service]
    client_clock(minutes + 2)
    status, code, message = refusal(lambda: CALLS[service](client(endpoint, service)))
    assert (status, code) == SKEW_CODE[service]
    if service != "s3":
        assert re.fullmatch(rf"Signature not yet current: {STAMP} is still later than {STAMP} "
                            rf"\({STAMP} \+ {minutes} min\.\)", message), message


@pytest.mark.parametrize("service", sorted(CALLS))
def test_a_clock_a_few_minutes_off_is_within_every_services_window(endpoint, service, client_clock):
    client_clock(-3)
    CALLS[service](client(endpoint, service))
    client_clock(3)
    CALLS[service](client(endpoint, service))


def test_s3_and_sts_allow_fifteen_minutes_lambda_five(endpoint, client_clock):
    client_clock(-10)
    client(endpoint, "s3").list_buckets()
    client(endpoint, "sts").get_caller_identity()
    assert refusal(lambda: client(endpoint, "lambda").list_functions())[1] == "InvalidSignatureException"


def test_s3_says_when_the_request_was_made_and_what_time_it_is(endpoint, client_clock):
    """RequestTime is X-Amz-Date as sent; ServerTime S3's clock; MaxAllowedSkewMilliseconds 900000."""
    client_clock(-30)
    with pytest.raises(ClientError) as caught:
        client(endpoint, "s3").list_buckets()
    error = caught.value.response["Error"]
    sent = _dt.datetime.strptime(error["RequestTime"], "%Y%m%dT%H%M%SZ").replace(tzinfo=_dt.timezone.utc)
    server = _dt.datetime.strptime(error["ServerTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.timezone.utc)
    assert _dt.timedelta(minutes=29) < server - sent < _dt.timedelta(minutes=31)
    assert abs(server.timestamp() - time.time()) < 60
    assert error["MaxAllowedSkewMilliseconds"] == "900000"


def test_s3_sigv2_is_checked_against_its_date_header(endpoint, bucket, client_clock):
    """SigV2 signs the Date header (https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html),
    which S3 compares with its clock the same way."""
    client_clock(-20)
    with pytest.raises(ClientError) as caught:
        client(endpoint, "s3", signature_version="s3").put_object(Bucket=bucket, Key="late", Body=b"x")
    assert caught.value.response["Error"]["Code"] == "RequestTimeTooSkewed"
    assert caught.value.response["Error"]["RequestTime"].endswith(" GMT")
    client_clock(0)
    assert "Contents" not in client(endpoint, "s3").list_objects_v2(Bucket=bucket)


def test_a_default_boto3_client_does_not_retry_a_skewed_request(endpoint, client_clock):
    """botocore neither corrects its clock nor retries these errors (its retry rules name neither
    RequestTimeTooSkewed nor InvalidSignatureException): the learner sees AWS's words at once."""
    client_clock(-20)
    default = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="test", aws_secret_access_key="test")
    with pytest.raises(ClientError) as caught:
        default.list_buckets()
    assert caught.value.response["Error"]["Code"] == "RequestTimeTooSkewed"
    assert caught.value.response["ResponseMetadata"]["RetryAttempts"] == 0


def test_a_signed_request_without_a_time_is_refused(endpoint, bucket):
    """S3: 403 AccessDenied "AWS authentication requires a valid Date or x-amz-date header";
    the SigV4 services: IncompleteSignature "Authorization header requires existence of either a
    'X-Amz-Date' or a 'Date' header." (https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html)."""
    url = f"{endpoint}/{bucket}/undated"
    request = AWSRequest(method="PUT", url=url, data=b"x",
                         headers={"x-amz-content-sha256": hashlib.sha256(b"x").hexdigest()})
    S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(request)
    headers = {k: v for k, v in request.headers.items() if k.lower() != "x-amz-date"}
    answer = requests.put(url, data=b"x", headers=headers)
    assert answer.status_code == 403 and "<Code>AccessDenied</Code>" in answer.text
    assert "AWS authentication requires a valid Date or x-amz-date header" in answer.text

    from botocore.auth import SigV4Auth

    sts = AWSRequest(method="POST", url=f"{endpoint}/", data="Action=GetCallerIdentity&Version=2011-06-15",
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials("test", "test"), "sts", "us-east-1").add_auth(sts)
    headers = {k: v for k, v in sts.headers.items() if k.lower() != "x-amz-date"}
    answer = requests.post(f"{endpoint}/", data=sts.body, headers=headers)
    assert answer.status_code == 403 and "<Code>IncompleteSignature</Code>" in answer.text
    assert "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header." in answer.text


# --- the body against the payload hash it was signed with -----------------------------------------

def sent_other_than_signed(url, signed, sent):
    """A PUT signed (botocore's S3 signer, which hashes the body into x-amz-content-sha256) over
    one body and sent with another."""
    request = AWSRequest(method="PUT", url=url, data=signed)
    S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(request)
    assert request.headers["x-amz-content-sha256"] == hashlib.sha256(signed).hexdigest()
    return requests.put(url, data=sent, headers=dict(request.headers.items()))


def test_s3_refuses_a_body_that_is_not_what_its_signed_sha256_announced(endpoint, bucket):
    """A SigV4 body is signed through x-amz-content-sha256; S3 hashes what arrives and answers a
    difference with 400 XAmzContentSHA256Mismatch "The provided 'x-amz-content-sha256' header does
    not match what was computed." with ClientComputedContentSHA256 and S3ComputedContentSHA256
    (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList,
    https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html), storing nothing."""
    signed = b"what the client signed, hashed " * 100000  # 3 MB: spooled to a file, not memory
    body = signed.replace(b"signed", b"sent!!")  # changed after signing, same length
    announced = hashlib.sha256(signed).hexdigest()
    answer = sent_other_than_signed(f"{endpoint}/{bucket}/swapped", signed, body)
    assert answer.status_code == 400, answer.text
    assert "<Code>XAmzContentSHA256Mismatch</Code>" in answer.text
    assert ("<Message>The provided 'x-amz-content-sha256' header does not match what was computed.</Message>"
            in answer.text)
    assert f"<ClientComputedContentSHA256>{announced}</ClientComputedContentSHA256>" in answer.text
    assert f"<S3ComputedContentSHA256>{hashlib.sha256(body).hexdigest()}</S3ComputedContentSHA256>" in answer.text
    assert "Contents" not in client(endpoint, "s3").list_objects_v2(Bucket=bucket)


def test_s3_checks_each_parts_signed_sha256_too(endpoint, bucket):
    s3 = client(endpoint, "s3")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="parts")["UploadId"]
    try:
        url = f"{endpoint}/{bucket}/parts?partNumber=1&uploadId={upload}"
        answer = sent_other_than_signed(url, b"p" * 1024, b"q" * 1024)
        assert answer.status_code == 400 and "<Code>XAmzContentSHA256Mismatch</Code>" in answer.text
        assert s3.list_parts(Bucket=bucket, Key="parts", UploadId=upload).get("Parts", []) == []
    finally:
        s3.abort_multipart_upload(Bucket=bucket, Key="parts", UploadId=upload)


def test_boto3_sigv4_uploads_sign_the_real_sha256_and_pass(endpoint, bucket):
    """boto3 signs the body's SHA-256 when it sends no trailer checksum (when_required) over
    plain HTTP: the check passes for a client we did not write."""
    s3 = client(endpoint, "s3", request_checksum_calculation="when_required")
    sent = []
    s3.meta.events.register("before-send.s3.PutObject",
                            lambda request, **_: sent.append(request.headers["x-amz-content-sha256"]))
    s3.put_object(Bucket=bucket, Key="real", Body=b"hashed by botocore")
    assert [v.decode() if isinstance(v, bytes) else v for v in sent] == [
        hashlib.sha256(b"hashed by botocore").hexdigest()]
    assert s3.get_object(Bucket=bucket, Key="real")["Body"].read() == b"hashed by botocore"


def test_s3_checks_the_signed_sha256_of_small_documents_too(endpoint, bucket):
    """A bucket configuration whose body changed after signing changes nothing."""
    s3 = client(endpoint, "s3")
    signed = b'<Tagging><TagSet><Tag><Key>team</Key><Value>blue</Value></Tag></TagSet></Tagging>'
    sent = signed.replace(b"blue", b"red!")
    answer = sent_other_than_signed(f"{endpoint}/{bucket}?tagging", signed, sent)
    assert answer.status_code == 400 and "<Code>XAmzContentSHA256Mismatch</Code>" in answer.text
    assert refusal(lambda: s3.get_bucket_tagging(Bucket=bucket))[1] == "NoSuchTagSet"
    assert sent_other_than_signed(f"{endpoint}/{bucket}?tagging", signed, signed).status_code == 204
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "blue"}]
