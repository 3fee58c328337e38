"""Multipart uploads through the upload API (helpers/functions/multipart_upload.py).

The client reads parts straight from disk (memory: the parts in flight, never the whole file),
hashes each (SHA-256, signed into its URL), uploads them in parallel threads with retries and
one progress bar, can resume from the parts S3 already has, and aborts cleanly.

    api = build_multipart_api(target, prefix)
    done = multipart_upload(api.invoke_url, "video.mp4", content_type="video/mp4")
"""
from __future__ import annotations

import base64
import hashlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import requests

from ._apigw import add_lambda_proxy, add_method, add_resource, create_rest_api, deploy_stage
from ._errors import ConfigurationError, UploadRefused, WorkbookError
from ._iam import create_service_role
from ._lambda import BASIC_EXECUTION_POLICY, allow_api_gateway, create_function
from ._s3 import create_upload_bucket
from ._upload import refusal


@dataclass
class MultipartState:
    """What a started upload needs to go on later, even from another process (as_dict/JSON)."""

    upload_id: str
    key: str
    part_size: int
    part_count: int
    path: str
    size: int
    etags: dict[int, str] = field(default_factory=dict)
    checksums: dict[int, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class MultipartApi:
    prefix: str
    bucket: str
    role_name: str
    function_name: str
    api_id: str
    stage: str
    invoke_url: str


def multipart_role_policy(bucket: str) -> dict[str, Any]:
    """Start, sign, list, complete and abort uploads under uploads/, nothing else."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "MultipartUploadsOnly", "Effect": "Allow",
        "Action": ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
        "Resource": f"arn:aws:s3:::{bucket}/uploads/*"}]}


def abort_incomplete_uploads_rule(bucket: str, *, s3: Any, days: int = 1) -> dict[str, Any]:
    """A lifecycle rule: S3 deletes the parts of uploads left unfinished for ``days`` days
    (parts of an unfinished upload are stored, and billed, until then)."""
    rule = {"ID": "abort-incomplete-multipart-uploads", "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": days}}
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [rule]})
    return rule


def build_multipart_api(target: Any, prefix: str, *, stage: str = "v1",
                        part_size: int = 8 * 1024 * 1024, max_post_bytes: int = 10 * 1024 * 1024) -> MultipartApi:
    """Bucket (with the abort rule), function, role and an API with /uploads and /uploads/{proxy+}."""
    s3, iam, lam = target.client("s3"), target.client("iam"), target.client("lambda")
    apigw, sts = target.client("apigateway"), target.client("sts")
    bucket = create_upload_bucket(f"{prefix}-uploads", s3=s3, prefix=prefix)["bucket"]
    abort_incomplete_uploads_rule(bucket, s3=s3)
    role = create_service_role(f"{prefix}-multipart", service="lambda.amazonaws.com",
                               policy=multipart_role_policy(bucket), iam=iam, prefix=prefix,
                               managed_policies=(BASIC_EXECUTION_POLICY,))
    fn = create_function(f"{prefix}-multipart", module="multipart_upload", role_arn=role["role_arn"],
                         lam=lam, prefix=prefix, timeout=30,
                         environment={"UPLOAD_BUCKET": bucket, "PART_SIZE_BYTES": str(part_size),
                                      "MAX_POST_BYTES": str(max_post_bytes)})
    api = create_rest_api(f"{prefix}-multipart", apigw=apigw, prefix=prefix, binary_media_types=())
    uploads_id = add_resource(api["api_id"], api["root_id"], "uploads", apigw=apigw)
    proxy_id = add_resource(api["api_id"], uploads_id, "{proxy+}", apigw=apigw)
    add_method(api["api_id"], uploads_id, apigw=apigw, http_method="POST", path_parameters=(), headers=())
    add_method(api["api_id"], proxy_id, apigw=apigw, http_method="ANY", path_parameters=("proxy",), headers=())
    for resource_id, method in ((uploads_id, "POST"), (proxy_id, "ANY")):
        add_lambda_proxy(api["api_id"], resource_id, apigw=apigw, function_arn=fn["function_arn"],
                         region=target.region, http_method=method)
    account = sts.get_caller_identity()["Account"]
    allow_api_gateway(fn["function_name"], api_id=api["api_id"], region=target.region,
                      account=account, lam=lam, method="*", path="uploads*")
    deployed = deploy_stage(api["api_id"], stage, apigw=apigw, target=target)
    return MultipartApi(prefix, bucket, role["role_name"], fn["function_name"], api["api_id"],
                        stage, deployed["invoke_url"])


# --- the client -------------------------------------------------------------------------------

def _call(session: requests.Session, method: str, url: str, **kwargs: Any) -> Any:
    try:
        response = session.request(method, url, timeout=60, **kwargs)
    except requests.ConnectionError as err:
        raise WorkbookError(f"could not reach {url.split('?')[0]}: {err.__class__.__name__}") from err
    if response.status_code >= 400:
        raise refusal(response)
    return response.json() if response.content else None


def start_multipart(api_url: str, path: str | os.PathLike, *, content_type: str = "application/octet-stream",
                    filename: str | None = None, session: requests.Session | None = None) -> MultipartState:
    """Ask the API to start an upload; it answers with the key, upload id and part size."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ConfigurationError(f"no file at {path!r}: choose an existing file to upload")
    size = os.path.getsize(path)
    started = _call(session or requests.Session(), "POST", f"{api_url}/uploads",
                    json={"filename": filename or os.path.basename(path), "size": size,
                          "contentType": content_type})
    return MultipartState(started["uploadId"], started["key"], started["partSize"],
                          started["partCount"], path, size)


def _read_part(state: MultipartState, number: int) -> bytes:
    with open(state.path, "rb") as handle:
        handle.seek((number - 1) * state.part_size)
        return handle.read(state.part_size)


def uploaded_parts(api_url: str, state: MultipartState, *, session: requests.Session | None = None) -> dict[int, dict]:
    """The parts S3 already holds for this upload (ListParts), by part number."""
    listed = _call(session or requests.Session(), "GET", f"{api_url}/uploads/{state.upload_id}/parts",
                   params={"key": state.key})
    return {p["partNumber"]: p for p in listed["parts"]}


def upload_parts(api_url: str, state: MultipartState, *, threads: int = 4, retries: int = 4,
                 limit: int | None = None, progress: bool = True,
                 session: requests.Session | None = None,
                 on_part: Callable[[int], None] | None = None) -> list[int]:
    """Upload the parts S3 does not have yet (resume-safe); returns the part numbers sent.

    ``limit`` stops after that many parts (the notebook uses it to simulate an interruption).
    A failed part is retried with exponential backoff and a fresh URL; after ``retries`` the
    error is raised and the parts already uploaded stay for a later resume or abort.
    """
    session = session or requests.Session()
    have = uploaded_parts(api_url, state, session=session)
    for number, part in have.items():
        state.etags[number] = part["etag"]
        if part.get("checksumSHA256"):
            state.checksums[number] = part["checksumSHA256"]
    missing = [n for n in range(1, state.part_count + 1) if n not in have]
    if limit is not None:
        missing = missing[:limit]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        done_bytes = sum(p["size"] for p in have.values())
        bar = tqdm(total=state.size, initial=done_bytes, unit="B", unit_scale=True, unit_divisor=1024,
                   desc=os.path.basename(state.path)[:30])

    def send(number: int) -> int:
        data = _read_part(state, number)
        checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
        for attempt in range(retries + 1):
            try:
                grant = _call(session, "POST", f"{api_url}/uploads/{state.upload_id}/parts",
                              json={"key": state.key,
                                    "parts": [{"partNumber": number, "checksumSHA256": checksum}]})
                part = grant["parts"][0]
                response = session.put(part["url"], data=data, headers=part["headers"], timeout=300)
                if response.status_code >= 400:
                    raise refusal(response)
                state.etags[number] = response.headers["ETag"]
                state.checksums[number] = checksum
                if bar is not None:
                    bar.update(len(data))
                if on_part:
                    on_part(number)
                return number
            except (requests.ConnectionError, requests.Timeout, WorkbookError) as err:
                permanent = isinstance(err, UploadRefused) and err.status < 500 and \
                    err.code not in ("AccessDenied", "RequestTimeout", "SlowDown")
                if permanent:
                    raise
                if attempt == retries:
                    if isinstance(err, WorkbookError):
                        raise
                    raise WorkbookError(
                        f"part {number} failed {retries + 1} times ({err.__class__.__name__}); the "
                        "parts already sent stay: resume with upload_parts, or abort_multipart") from err
                time.sleep(min(8.0, 0.25 * 2 ** attempt))
        raise AssertionError("unreachable")

    try:
        with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
            sent = list(pool.map(send, missing))
    finally:
        if bar is not None:
            bar.close()
    return sent


def complete_multipart(api_url: str, state: MultipartState, *, session: requests.Session | None = None) -> dict:
    """Ask S3 to join the parts, in order, with their ETags and checksums."""
    missing = [n for n in range(1, state.part_count + 1) if n not in state.etags]
    if missing:
        raise ConfigurationError(f"parts {missing[:5]}... are not uploaded yet: run upload_parts first")
    parts = [{"partNumber": n, "etag": state.etags[n], "checksumSHA256": state.checksums.get(n)}
             for n in range(1, state.part_count + 1)]
    return _call(session or requests.Session(), "POST", f"{api_url}/uploads/{state.upload_id}/complete",
                 json={"key": state.key, "parts": parts})


def composite_sha256(state: MultipartState) -> str:
    """The checksum S3 gives a multipart object: SHA-256 of the parts' SHA-256s, then -N."""
    digest = hashlib.sha256()
    for number in range(1, state.part_count + 1):
        digest.update(base64.b64decode(state.checksums[number]))
    return base64.b64encode(digest.digest()).decode() + f"-{state.part_count}"


def abort_multipart(api_url: str, state: MultipartState, *, session: requests.Session | None = None) -> None:
    """Give the upload up: S3 deletes every part uploaded so far."""
    _call(session or requests.Session(), "DELETE", f"{api_url}/uploads/{state.upload_id}",
          params={"key": state.key})


def multipart_upload(api_url: str, path: str | os.PathLike, *, content_type: str = "application/octet-stream",
                     threads: int = 4, retries: int = 4, progress: bool = True,
                     abort_on_failure: bool = True, session: requests.Session | None = None) -> dict:
    """Start, upload every part, complete. If a part fails for good, abort (no orphan parts)
    unless ``abort_on_failure`` is False (then resume later with the state on the error)."""
    session = session or requests.Session()
    state = start_multipart(api_url, path, content_type=content_type, session=session)
    try:
        upload_parts(api_url, state, threads=threads, retries=retries, progress=progress, session=session)
        done = complete_multipart(api_url, state, session=session)
        return {**done, "parts": state.part_count, "expectedChecksumSHA256": composite_sha256(state)}
    except BaseException as err:
        if abort_on_failure:
            abort_multipart(api_url, state, session=session)
        err.multipart_state = state  # type: ignore[attr-defined]
        raise


def request_post_form(api_url: str, filename: str, *, session: requests.Session | None = None) -> dict:
    """A presigned POST from the API: the URL, the form fields to send, and the size limit."""
    return _call(session or requests.Session(), "POST", f"{api_url}/uploads/form",
                 json={"filename": filename})


def post_file(form: dict, path: str | os.PathLike, *, content_type: str = "application/octet-stream") -> int:
    """Send a file as a browser would, to a presigned POST (fields first, the file last).
    Returns S3's status (204); refusals raise UploadRefused."""
    path = os.fspath(path)
    with open(path, "rb") as handle:
        response = requests.post(form["url"], data=form["fields"], timeout=300,
                                 files={"file": (os.path.basename(path), handle, content_type)})
    if response.status_code >= 400:
        raise refusal(response)
    return response.status_code
