"""The helpers package against the local AWS: option 1 end to end, refusals, clean-up, settings."""
import datetime
import os

import pytest

import helpers as wb


@pytest.fixture(scope="module")
def target(local_aws):
    return wb.connect("local", endpoint_url=local_aws.endpoint_url, start=False)


@pytest.fixture
def proxy(target):
    prefix = wb.unique_prefix()
    api = wb.build_s3_proxy_api(target, prefix)
    yield api
    wb.clean_up(target, prefix)


def test_upload_streams_a_file_byte_exact_with_key_and_content_type(target, proxy, tmp_path):
    path = wb.make_sample_file(tmp_path / "sample.bin", 3 * 1024 * 1024 + 7, seed=3)
    result = wb.upload_file(proxy.upload_url("folder/photo 1.bin"), path, progress=False,
                            headers={"x-api-key": proxy.api_key, "Content-Type": "image/jpeg"})
    assert result.status == 200 and result.bytes_sent == os.path.getsize(path)
    assert result.headers.get("ETag")
    s3 = target.client("s3")
    assert wb.list_keys(proxy.bucket, s3=s3) == ["folder/photo 1.bin"]
    assert wb.object_sha256(proxy.bucket, "folder/photo 1.bin", s3=s3) == wb.sha256_file(path)


def test_refusals_raise_upload_refused_with_aws_status_and_code(target, proxy, tmp_path):
    small = wb.make_sample_file(tmp_path / "s.bin", 10)
    with pytest.raises(wb.UploadRefused) as err:
        wb.upload_file(proxy.upload_url("a"), small, progress=False)
    assert (err.value.status, err.value.code, err.value.message) == (403, "ForbiddenException", "Forbidden")
    big = wb.make_sample_file(tmp_path / "b.bin", 12 * 1000 * 1000)
    with pytest.raises(wb.UploadRefused) as err:
        wb.upload_file(proxy.upload_url("b"), big, progress=False, headers={"x-api-key": proxy.api_key})
    assert err.value.status == 413
    assert wb.list_keys(proxy.bucket, s3=target.client("s3")) == []


def test_the_bucket_is_private_encrypted_and_tagged(target, proxy):
    s3 = target.client("s3")
    block = s3.get_public_access_block(Bucket=proxy.bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    rules = s3.get_bucket_encryption(Bucket=proxy.bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=proxy.bucket)["TagSet"]}
    assert tags == wb.tags(proxy.prefix)


def test_role_policy_is_least_privilege(target, proxy):
    import json
    iam = target.client("iam")
    doc = iam.get_role_policy(RoleName=proxy.role_name, PolicyName="least-privilege")["PolicyDocument"]
    doc = json.loads(doc) if isinstance(doc, str) else doc
    assert doc["Statement"] == [{"Sid": "PutUploadsOnly", "Effect": "Allow", "Action": "s3:PutObject",
                                 "Resource": f"arn:aws:s3:::{proxy.bucket}/*"}]


def test_clean_up_leaves_nothing_tagged_with_the_prefix(target, tmp_path):
    prefix = wb.unique_prefix()
    api = wb.build_s3_proxy_api(target, prefix)
    wb.upload_file(api.upload_url("x"), wb.make_sample_file(tmp_path / "x", 100), progress=False,
                   headers={"x-api-key": api.api_key})
    other = wb.unique_prefix()
    kept = wb.build_s3_proxy_api(target, other, require_api_key=False)
    counts = wb.clean_up(target, prefix)
    # log_groups: the API's execution logs (API-Gateway-Execution-Logs_{api_id}/v1)
    assert counts == {"distributions": 0, "usage_plans": 1, "api_keys": 1, "rest_apis": 1,
                      "functions": 0, "log_groups": 1, "origin_access_identities": 0,
                      "origin_access_controls": 0, "roles": 1, "buckets": 1}
    assert not any(wb.find_resources(target, prefix).values())
    assert wb.find_resources(target, other)["buckets"] == [kept.bucket]  # others untouched
    wb.clean_up(target, other)


def test_clean_up_goes_on_past_a_failure_and_reports_what_it_left(target):
    prefix = wb.unique_prefix()
    kept = wb.create_upload_bucket(f"{prefix}-b", s3=target.client("s3"), prefix=prefix)["bucket"]
    with pytest.raises(wb.CleanUpIncomplete) as incomplete:
        wb.delete_resources(target, {"distributions": ["EMISSING0000"], "buckets": [kept]})
    assert incomplete.value.counts["buckets"] == 1 and incomplete.value.counts["distributions"] == 0
    assert [(kind, ident) for kind, ident, _ in incomplete.value.errors] == [("distributions", "EMISSING0000")]
    assert not wb.find_resources(target, prefix)["buckets"]


def test_the_local_endpoint_must_be_on_loopback(monkeypatch):
    """The local AWS accepts the well-known test credentials: the workbook never sends them
    anywhere but this machine (and never probes another host)."""
    for url in ("http://10.0.0.5:4566", "http://example.com:4566"):
        with pytest.raises(wb.LocalAWSError, match="loopback"):
            wb.connect("local", endpoint_url=url)
    monkeypatch.setenv("WORKBOOK_ENDPOINT_URL", "http://192.168.1.2:4566")
    with pytest.raises(wb.LocalAWSError, match="loopback"):
        wb.connect("local", start=False)
    with pytest.raises(wb.ConfigurationError, match="not a URL"):
        wb.connect("local", endpoint_url="127.0.0.1:4566")


def test_settings_are_checked_with_messages_that_say_what_to_do():
    with pytest.raises(wb.ConfigurationError, match="local, aws"):
        wb.connect("azure")
    with pytest.raises(wb.ConfigurationError, match="lower-case"):
        wb.unique_prefix("Bad_Prefix")
    with pytest.raises(wb.ConfigurationError, match="endpoint_url is for target='local'"):
        wb.connect("aws", endpoint_url="http://127.0.0.1:1")


def test_aws_target_without_credentials_says_how_to_configure(monkeypatch, tmp_path):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(wb.ConfigurationError, match="no AWS credentials"):
        wb.connect("aws", region="eu-west-1")


def test_connect_local_without_start_reports_a_missing_local_aws():
    with pytest.raises(wb.ConfigurationError, match="no local AWS answers"):
        wb.connect("local", endpoint_url="http://127.0.0.1:9", start=False)


def test_invoke_urls_for_each_target(target):
    assert target.invoke_url("abc", "v1").endswith("/_aws/execute-api/abc/v1")
    real = wb.Target("aws", "eu-west-1")
    assert real.invoke_url("abc", "v1") == "https://abc.execute-api.eu-west-1.amazonaws.com/v1"


def test_choose_file_prefers_the_parameter_then_the_picker_then_the_sample(tmp_path):
    given = wb.make_sample_file(tmp_path / "given", 5)
    assert wb.choose_file(given, None, fallback="sample") == given
    with pytest.raises(wb.ConfigurationError):
        wb.choose_file(str(tmp_path / "missing"), None, fallback="sample")
    picker = wb.FilePicker()
    assert wb.choose_file(None, picker, fallback="sample") == "sample"
    picker._upload.value = ({"name": "cat.jpg", "type": "image/jpeg", "size": 3,
                             "content": memoryview(b"abc"),
                             "last_modified": datetime.datetime.now(datetime.timezone.utc)},)
    path = wb.choose_file(None, picker, fallback="sample")
    assert os.path.basename(path) == "cat.jpg" and open(path, "rb").read() == b"abc"
    assert wb.show_picker("x") is None and isinstance(wb.show_picker(None), wb.FilePicker)


@pytest.fixture
def presign(target):
    prefix = wb.unique_prefix()
    api = wb.build_presign_api(target, prefix)
    yield api
    wb.clean_up(target, prefix)


def test_presigned_upload_of_a_file_over_10_mb_is_byte_exact(target, presign, tmp_path):
    path = wb.make_sample_file(tmp_path / "video.mp4", 12 * 1024 * 1024 + 5, seed=4)
    grant = wb.request_upload_url(presign.grant_url("video.mp4"), content_type="video/mp4")
    assert grant["key"] == "uploads/video.mp4" and grant["method"] == "PUT"
    assert grant["headers"] == {"Content-Type": "video/mp4"} and grant["expiresIn"] == 300
    result = wb.upload_presigned(grant, path, progress=False)
    assert result.status == 200 and result.bytes_sent == os.path.getsize(path)
    s3 = target.client("s3")
    assert wb.object_sha256(presign.bucket, "uploads/video.mp4", s3=s3) == wb.sha256_file(path)
    assert s3.head_object(Bucket=presign.bucket, Key="uploads/video.mp4")["ContentType"] == "video/mp4"


@pytest.mark.parametrize("name,query", [
    ("..%2Fescape.txt", {}),
    ("ok.txt", {"contentType": "not a type"}),
    ("a" * 1020, {}),
    ("bell%07.txt", {}),
])
def test_the_presign_function_refuses_bad_input_with_400(presign, name, query):
    import requests
    response = requests.get(f"{presign.invoke_url}/upload/{name}", params=query)
    assert response.status_code == 400
    assert response.json()["message"]


def test_refused_presigned_uploads_raise_upload_refused_and_write_nothing(target, presign, tmp_path):
    path = wb.make_sample_file(tmp_path / "a.bin", 1000)
    grant = wb.request_upload_url(presign.grant_url("a.bin"), content_type="image/png")
    with pytest.raises(wb.UploadRefused) as err:
        wb.upload_presigned(grant, path, progress=False, headers={"Content-Type": "image/jpeg"})
    assert (err.value.status, err.value.code) == (403, "SignatureDoesNotMatch")
    assert wb.list_keys(presign.bucket, s3=target.client("s3")) == []


def test_the_function_logs_each_grant(target, presign):
    wb.request_upload_url(presign.grant_url("logged.txt"), content_type="text/plain")
    lines = wb.tail_function_logs(presign.function_name, target=target, contains='"presigned": "uploads/logged.txt"')
    assert lines  # polled for: CloudWatch Logs shows lines some seconds after they were written
    lines = wb.tail_function_logs(presign.function_name, target=target, contains="REPORT RequestId:")
    assert lines


def test_package_function_holds_the_readable_source():
    import io
    import zipfile
    data = wb.package_function("presign_upload")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["presign_upload.py"]
        assert archive.read("presign_upload.py").decode() == wb.function_source("presign_upload")
    assert wb.package_function("presign_upload") == data  # reproducible


def test_until_refused_waits_for_the_refusal_it_is_told_not_another_with_the_same_code():
    """S3 answers 403 AccessDenied both for a presigned URL used after its expiry ("Request has
    expired") and for a signer without the permission ("... is not authorized to perform ...")
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-presigned-url.html,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html).
    Notebook 02 waits for the second after removing a policy; taking the first for it printed
    the wrong lesson when a slow machine let a one-second URL expire."""
    answers = [wb.UploadRefused(403, "AccessDenied", "Request has expired"),
               wb.UploadRefused(403, "AccessDenied", "User: arn:aws:sts::123456789012:assumed-role/r/s "
                                "is not authorized to perform: s3:PutObject")]
    seen = []

    def attempt():
        seen.append(answers[len(seen)])
        raise seen[-1]

    refused = wb.until_refused(attempt, message="not authorized to perform", patience=5)
    assert refused is answers[1] and len(seen) == 2
    seen.clear()
    assert wb.until_refused(attempt, patience=5) is answers[0]  # without `message`: any AccessDenied
