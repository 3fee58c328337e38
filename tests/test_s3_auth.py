"""S3 request authentication in the local AWS: presigned URLs (SigV4, SigV2), principals and
their policies, anonymous requests. Plain boto3 and requests.

SIGV4Q: https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
ERRORS: https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
PRESIGN: https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-presigned-url.html
403: https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html
"""
import json
import re
import time

import boto3
import pytest
import requests
from botocore.config import Config
from conftest import put_bucket_policy_when_ready

DATA = bytes(range(256)) * 40


def code(response):
    match = re.search(r"<Code>([^<]+)</Code>", response.text)
    return match.group(1) if match else None


def element(response, name):
    match = re.search(rf"<{name}>([^<]*)</{name}>", response.text)
    return match.group(1) if match else None


@pytest.fixture
def bucket(aws, name):
    s3 = aws("s3")
    s3.create_bucket(Bucket=name)
    return name


def keys(aws, bucket):
    return [o["Key"] for o in aws("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]


def presigner(endpoint, access_key="test", secret="test", token=None, version="s3v4"):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=access_key, aws_secret_access_key=secret,
                        aws_session_token=token,
                        config=Config(signature_version=version, s3={"addressing_style": "path"}))


def put_url(client, bucket, key, content_type="text/plain", expires=300):
    return client.generate_presigned_url("put_object", ExpiresIn=expires, HttpMethod="PUT",
                                         Params={"Bucket": bucket, "Key": key, "ContentType": content_type})


def test_presigned_put_with_the_signed_content_type_stores_the_body_byte_exact_PRESIGN(aws, endpoint, bucket):
    url = put_url(presigner(endpoint), bucket, "ok.bin", "application/octet-stream")
    response = requests.put(url, data=DATA, headers={"Content-Type": "application/octet-stream"})
    assert response.status_code == 200
    assert aws("s3").get_object(Bucket=bucket, Key="ok.bin")["Body"].read() == DATA


@pytest.mark.parametrize("headers", [{"Content-Type": "image/png"}, {}])
def test_another_or_no_content_type_gets_signature_does_not_match_SIGV4Q(aws, endpoint, bucket, headers):
    url = put_url(presigner(endpoint), bucket, "ct.txt", "text/plain")
    response = requests.put(url, data=b"x", headers=headers)
    assert response.status_code == 403
    assert code(response) == "SignatureDoesNotMatch"
    assert element(response, "AWSAccessKeyId") == "test"
    assert "<CanonicalRequest>" in response.text
    assert keys(aws, bucket) == []


def test_tampered_signature_and_other_key_are_refused(aws, endpoint, bucket):
    url = put_url(presigner(endpoint), bucket, "a.txt")
    tampered = re.sub(r"X-Amz-Signature=([0-9a-f])", lambda m: "X-Amz-Signature=" + ("1" if m.group(1) != "1" else "2"), url)
    other_key = url.replace("/a.txt?", "/b.txt?")
    for bad in (tampered, other_key):
        response = requests.put(bad, data=b"x", headers={"Content-Type": "text/plain"})
        assert (response.status_code, code(response)) == (403, "SignatureDoesNotMatch")
    assert keys(aws, bucket) == []


def test_expired_url_gets_access_denied_request_has_expired_ERRORS(aws, endpoint, bucket):
    url = put_url(presigner(endpoint), bucket, "late.txt", expires=1)
    time.sleep(2.1)
    response = requests.put(url, data=b"x", headers={"Content-Type": "text/plain"})
    assert (response.status_code, code(response)) == (403, "AccessDenied")
    assert element(response, "Message") == "Request has expired"
    assert element(response, "X-Amz-Expires") == "1"
    assert element(response, "Expires") and element(response, "ServerTime")
    assert keys(aws, bucket) == []


def test_expiry_longer_than_seven_days_is_refused_SIGV4Q(endpoint, bucket):
    url = put_url(presigner(endpoint), bucket, "week.txt", expires=604801)
    response = requests.put(url, data=b"x", headers={"Content-Type": "text/plain"})
    assert (response.status_code, code(response)) == (400, "AuthorizationQueryParametersError")
    assert "604800" in element(response, "Message")


def test_unknown_access_key_gets_invalid_access_key_id(aws, endpoint, bucket):
    url = put_url(presigner(endpoint, "AKIANOBODYKNOWSTHIS0", "secret"), bucket, "u.txt")
    response = requests.put(url, data=b"x", headers={"Content-Type": "text/plain"})
    assert (response.status_code, code(response)) == (403, "InvalidAccessKeyId")
    assert element(response, "AWSAccessKeyId") == "AKIANOBODYKNOWSTHIS0"
    assert keys(aws, bucket) == []


def test_unsigned_amz_headers_are_refused_but_unsigned_content_type_is_not(aws, endpoint, bucket):
    url = presigner(endpoint).generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "h.txt"})
    response = requests.put(url, data=b"x", headers={"x-amz-meta-owner": "eve"})
    assert (response.status_code, code(response)) == (403, "AccessDenied")
    assert element(response, "HeadersNotSigned") == "x-amz-meta-owner"
    assert requests.put(url, data=b"x", headers={"Content-Type": "text/plain"}).status_code == 200


def user_with_policy(aws, name, bucket, action):
    iam = aws("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_iam_user_keys_sign_valid_urls_when_the_user_may_put(aws, endpoint, bucket, name):
    key, secret = user_with_policy(aws, name, bucket, "s3:PutObject")
    url = put_url(presigner(endpoint, key, secret), bucket, "user.txt")
    assert requests.put(url, data=b"u", headers={"Content-Type": "text/plain"}).status_code == 200
    assert keys(aws, bucket) == ["user.txt"]


def test_url_signed_by_a_principal_without_put_object_is_issued_then_refused_403(aws, endpoint, bucket, name):
    key, secret = user_with_policy(aws, name, bucket, "s3:GetObject")
    url = put_url(presigner(endpoint, key, secret), bucket, "nope.txt")  # signing never fails
    response = requests.put(url, data=b"x", headers={"Content-Type": "text/plain"})
    assert (response.status_code, code(response)) == (403, "AccessDenied")
    assert element(response, "Message") == (
        f'User: arn:aws:iam::123456789012:user/{name} is not authorized to perform: s3:PutObject '
        f'on resource: "arn:aws:s3:::{bucket}/nope.txt" because no identity-based policy allows '
        "the s3:PutObject action")
    assert keys(aws, bucket) == []


def test_deleted_access_key_no_longer_works(aws, endpoint, bucket, name):
    key, secret = user_with_policy(aws, name, bucket, "s3:PutObject")
    url = put_url(presigner(endpoint, key, secret), bucket, "gone.txt")
    aws("iam").delete_access_key(UserName=name, AccessKeyId=key)
    response = requests.put(url, data=b"x", headers={"Content-Type": "text/plain"})
    assert (response.status_code, code(response)) == (403, "InvalidAccessKeyId")


def assumed(aws, name, bucket):
    iam, sts = aws("iam"), aws("sts")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    return sts.assume_role(RoleArn=role["Arn"], RoleSessionName="tester", DurationSeconds=900)["Credentials"]


def test_sts_session_credentials_sign_valid_urls_with_their_token(aws, endpoint, bucket, name):
    creds = assumed(aws, name, bucket)
    url = put_url(presigner(endpoint, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]),
                  bucket, "session.txt")
    assert "X-Amz-Security-Token=" in url
    assert requests.put(url, data=b"s", headers={"Content-Type": "text/plain"}).status_code == 200


def test_session_key_without_or_with_a_wrong_token_is_refused_ERRORS(aws, endpoint, bucket, name):
    creds = assumed(aws, name, bucket)
    no_token = put_url(presigner(endpoint, creds["AccessKeyId"], creds["SecretAccessKey"]), bucket, "t.txt")
    response = requests.put(no_token, data=b"x", headers={"Content-Type": "text/plain"})
    assert (response.status_code, code(response)) == (403, "InvalidAccessKeyId")
    wrong = put_url(presigner(endpoint, creds["AccessKeyId"], creds["SecretAccessKey"], "bogus-token"),
                    bucket, "t.txt")
    response = requests.put(wrong, data=b"x", headers={"Content-Type": "text/plain"})
    assert (response.status_code, code(response)) == (400, "InvalidToken")
    assert keys(aws, bucket) == []


def test_sigv2_presigned_urls_are_verified_too(aws, endpoint, bucket):
    client = presigner(endpoint, version="s3")
    url = put_url(client, bucket, "v2.txt", "text/plain")
    assert "Signature=" in url and "AWSAccessKeyId=" in url
    wrong = requests.put(url, data=b"x", headers={"Content-Type": "image/png"})
    assert (wrong.status_code, code(wrong)) == (403, "SignatureDoesNotMatch")
    assert element(wrong, "StringToSign").startswith("PUT\n\nimage/png\n")
    assert requests.put(url, data=b"ok", headers={"Content-Type": "text/plain"}).status_code == 200
    late = put_url(client, bucket, "v2late.txt", expires=1)
    time.sleep(2.1)
    response = requests.put(late, data=b"x", headers={"Content-Type": "text/plain"})
    assert (response.status_code, element(response, "Message")) == (403, "Request has expired")
    assert keys(aws, bucket) == ["v2.txt"]


def test_anonymous_requests_to_a_private_bucket_are_refused(aws, endpoint, bucket):
    aws("s3").put_object(Bucket=bucket, Key="private.txt", Body=b"secret")
    for method in ("PUT", "GET"):
        response = requests.request(method, f"{endpoint}/{bucket}/private.txt", data=b"overwrite")
        assert (response.status_code, code(response)) == (403, "AccessDenied")
        assert element(response, "Message") == "Access Denied"
    assert aws("s3").get_object(Bucket=bucket, Key="private.txt")["Body"].read() == b"secret"


def test_a_bucket_policy_for_everyone_opens_reads_only(aws, endpoint, bucket):
    s3 = aws("s3")
    s3.put_object(Bucket=bucket, Key="public.txt", Body=b"hello")
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    assert requests.get(f"{endpoint}/{bucket}/public.txt").content == b"hello"
    assert requests.put(f"{endpoint}/{bucket}/public.txt", data=b"x").status_code == 403


def test_a_bucket_policy_naming_one_principal_does_not_open_it_to_others(aws, endpoint, bucket, name):
    key, secret = user_with_policy(aws, name, bucket, "s3:GetObject")  # may not put by itself
    other_key, other_secret = user_with_policy(aws, name + "o", bucket, "s3:GetObject")
    put_bucket_policy_when_ready(aws("s3"), bucket, {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::123456789012:user/{name}"},
        "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]})
    allowed = put_url(presigner(endpoint, key, secret), bucket, "named.txt")
    assert requests.put(allowed, data=b"1", headers={"Content-Type": "text/plain"}).status_code == 200
    refused = put_url(presigner(endpoint, other_key, other_secret), bucket, "other.txt")
    assert requests.put(refused, data=b"1", headers={"Content-Type": "text/plain"}).status_code == 403
    assert keys(aws, bucket) == ["named.txt"]


def test_sdk_calls_are_authorized_by_the_caller_s_policies(aws, endpoint, bucket, name):
    key, secret = user_with_policy(aws, name, bucket, "s3:PutObject")
    client = presigner(endpoint, key, secret)
    client.put_object(Bucket=bucket, Key="sdk.txt", Body=b"1")
    with pytest.raises(client.exceptions.ClientError) as err:
        client.get_object(Bucket=bucket, Key="sdk.txt")
    assert err.value.response["Error"]["Code"] == "AccessDenied"


def test_copy_object_also_needs_get_object_on_the_source_COPYOBJECT(aws, endpoint, bucket, name):
    """https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html: the caller needs read
    access to the source object as well as write access to the destination."""
    aws("s3").put_object(Bucket=bucket, Key="secret.txt", Body=b"private")
    key, secret = user_with_policy(aws, name, bucket, "s3:PutObject")
    client = presigner(endpoint, key, secret)
    with pytest.raises(client.exceptions.ClientError) as err:
        client.copy_object(Bucket=bucket, Key="stolen.txt", CopySource=f"{bucket}/secret.txt")
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    assert "s3:GetObject" in err.value.response["Error"]["Message"]
    assert keys(aws, bucket) == ["secret.txt"]


def test_a_deactivated_access_key_is_refused_for_sdk_calls_too(aws, endpoint, bucket, name):
    key, secret = user_with_policy(aws, name, bucket, "s3:PutObject")
    aws("iam").update_access_key(UserName=name, AccessKeyId=key, Status="Inactive")
    client = presigner(endpoint, key, secret)
    with pytest.raises(client.exceptions.ClientError) as err:
        client.put_object(Bucket=bucket, Key="inactive.txt", Body=b"1")
    assert err.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    assert keys(aws, bucket) == []


def test_a_percent_encoded_key_is_authorized_as_the_key_it_names(aws, endpoint, bucket, name):
    """The key is the path decoded once: "%2575ploads/x" names the key "%75ploads/x", which a
    policy for "uploads/*" does not cover (decoding twice would let it through)."""
    key, secret = user_with_policy(aws, name, bucket, "s3:PutObject")
    aws("iam").put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject",
                                                "Resource": f"arn:aws:s3:::{bucket}/uploads/*"}]}))
    client = presigner(endpoint, key, secret)
    for object_key, status in (("uploads/ok.txt", 200), ("%75ploads/x.txt", 403)):
        url = client.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": object_key},
                                            HttpMethod="PUT")
        assert requests.put(url, data=b"1").status_code == status
    assert keys(aws, bucket) == ["uploads/ok.txt"]
