"""The multipart upload API and client in helpers, against the local AWS."""
import os

import pytest
import requests

import helpers as wb

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def target(local_aws):
    return wb.connect("local", endpoint_url=local_aws.endpoint_url, start=False)


@pytest.fixture(scope="module")
def api(target):
    prefix = wb.unique_prefix()
    built = wb.build_multipart_api(target, prefix, part_size=5 * MiB, max_post_bytes=64 * 1024)
    yield built
    wb.clean_up(target, prefix)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    return wb.make_sample_file(tmp_path_factory.mktemp("mp") / "film.mkv", 21 * MiB + 123, seed=11)


def uploads_in_progress(target, api):
    return target.client("s3").list_multipart_uploads(Bucket=api.bucket).get("Uploads", [])


def test_multipart_upload_through_the_api_is_byte_exact_with_its_checksum(target, api, big_file):
    done = wb.multipart_upload(api.invoke_url, big_file, content_type="video/x-matroska", progress=False)
    assert done["parts"] == 5 and done["etag"].endswith('-5"')
    assert done["checksumSHA256"] == done["expectedChecksumSHA256"]
    s3 = target.client("s3")
    assert wb.object_sha256(api.bucket, done["key"], s3=s3) == wb.sha256_file(big_file)
    head = s3.head_object(Bucket=api.bucket, Key=done["key"], ChecksumMode="ENABLED")
    assert head["ContentType"] == "video/x-matroska" and head["ChecksumSHA256"] == done["checksumSHA256"]
    assert done["key"].startswith("uploads/") and done["key"].endswith("/film.mkv")


def test_resume_sends_only_the_missing_parts(target, api, big_file):
    state = wb.start_multipart(api.invoke_url, big_file)
    assert wb.upload_parts(api.invoke_url, state, limit=2, progress=False) == [1, 2]
    fresh = wb.MultipartState(**{k: v for k, v in state.as_dict().items() if k not in ("etags", "checksums")})
    sent = []
    wb.upload_parts(api.invoke_url, fresh, progress=False, on_part=sent.append)
    assert sorted(sent) == [3, 4, 5]
    done = wb.complete_multipart(api.invoke_url, fresh)
    assert wb.object_sha256(api.bucket, done["key"], s3=target.client("s3")) == wb.sha256_file(big_file)


class FlakySession(requests.Session):
    """Fault injection on the network path: the first PUT of part 2 breaks off."""

    def __init__(self):
        super().__init__()
        self.failures = 0

    def put(self, url, *args, **kwargs):
        if "partNumber=2&" in url + "&" and self.failures == 0:
            self.failures += 1
            raise requests.ConnectionError("connection reset by peer (injected)")
        return super().put(url, *args, **kwargs)


def test_a_failed_part_is_retried(target, api, big_file):
    session = FlakySession()
    done = wb.multipart_upload(api.invoke_url, big_file, progress=False, session=session)
    assert session.failures == 1
    assert wb.object_sha256(api.bucket, done["key"], s3=target.client("s3")) == wb.sha256_file(big_file)


class DeadSession(requests.Session):
    def put(self, url, *args, **kwargs):
        raise requests.ConnectionError("network down (injected)")


def test_giving_up_aborts_and_leaves_no_parts(target, api, big_file):
    before = len(uploads_in_progress(target, api))
    with pytest.raises(wb.WorkbookError):
        wb.multipart_upload(api.invoke_url, big_file, progress=False, retries=1, session=DeadSession())
    assert len(uploads_in_progress(target, api)) == before


def test_abort_leaves_no_upload_listed(target, api, big_file):
    state = wb.start_multipart(api.invoke_url, big_file)
    wb.upload_parts(api.invoke_url, state, limit=1, progress=False)
    assert any(u["UploadId"] == state.upload_id for u in uploads_in_progress(target, api))
    wb.abort_multipart(api.invoke_url, state)
    assert not any(u["UploadId"] == state.upload_id for u in uploads_in_progress(target, api))
    with pytest.raises(wb.UploadRefused) as err:
        wb.uploaded_parts(api.invoke_url, state)
    assert err.value.status == 404


def test_the_bucket_aborts_forgotten_uploads_by_lifecycle(target, api):
    rules = target.client("s3").get_bucket_lifecycle_configuration(Bucket=api.bucket)["Rules"]
    assert rules[0]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


def test_part_size_follows_s3_rules():
    import importlib.util
    import sys
    os.environ.setdefault("UPLOAD_BUCKET", "unused")
    spec = importlib.util.find_spec("helpers.functions.multipart_upload")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.part_size_for(1) == 8 * MiB
    assert module.part_size_for(5 * 1024**4) == 525 * MiB  # 5 TiB in at most 10,000 parts
    assert 10_000 * module.part_size_for(5 * 1024**4) >= 5 * 1024**4
    sys.modules.pop("multipart_upload", None)


@pytest.mark.parametrize("body", [
    {"filename": "../x", "size": 10},
    {"filename": "a/b", "size": 10},
    {"filename": "ok", "size": 0},
    {"filename": "ok", "size": 6 * 1024**4},
    {"filename": "ok", "size": 10, "contentType": "nonsense"},
    "not an object",
])
def test_the_upload_api_refuses_bad_starts_with_400(api, body):
    response = requests.post(f"{api.invoke_url}/uploads", json=body)
    assert response.status_code == 400 and response.json()["message"]


def test_the_upload_api_refuses_keys_it_did_not_hand_out(api):
    response = requests.post(f"{api.invoke_url}/uploads/someid/parts",
                             json={"key": "../../other", "parts": [{"partNumber": 1, "checksumSHA256": "x"}]})
    assert response.status_code == 400
    response = requests.post(f"{api.invoke_url}/uploads/someid/parts", data="{broken")
    assert response.status_code == 400


@pytest.mark.parametrize("parts", [
    ["not an object"],
    [{"partNumber": "1", "etag": "abc"}],
    [{"partNumber": 1, "etag": 5}],
    [{"partNumber": 0, "etag": "abc"}],
    [{"partNumber": 1}],
])
def test_the_upload_api_refuses_malformed_part_lists_on_complete_with_400(target, api, parts):
    started = requests.post(f"{api.invoke_url}/uploads", json={"filename": "f.bin", "size": 10}).json()
    response = requests.post(f"{api.invoke_url}/uploads/{started['uploadId']}/complete",
                             json={"key": started["key"], "parts": parts})
    assert response.status_code == 400 and "part" in response.json()["message"]
    requests.delete(f"{api.invoke_url}/uploads/{started['uploadId']}", params={"key": started["key"]})


def test_presigned_post_limits_the_size_on_the_server_side(target, api, tmp_path):
    small = wb.make_sample_file(tmp_path / "note.txt", 1000)
    form = wb.request_post_form(api.invoke_url, "note.txt")
    assert form["maxBytes"] == 64 * 1024
    assert wb.post_file(form, small) == 204
    big = wb.make_sample_file(tmp_path / "huge.bin", 64 * 1024 + 1)
    with pytest.raises(wb.UploadRefused) as err:
        wb.post_file(wb.request_post_form(api.invoke_url, "huge.bin"), big)
    assert (err.value.status, err.value.code) == (400, "EntityTooLarge")
    keys = wb.list_keys(api.bucket, s3=target.client("s3"))
    assert any(k.endswith("/note.txt") for k in keys) and not any(k.endswith("/huge.bin") for k in keys)
