"""S3 as the data plane reaches it: authorize the caller with IAM and bucket policies, then let
moto's S3 store the object.

Supported: the object and bucket actions an API Gateway S3 integration can call by path
(PutObject, GetObject, HeadObject, DeleteObject, ListBucket). The principal is whoever the
calling service acts as (an assumed role, or anonymous when an integration has no role).

Clients' own requests (SDK calls, presigned URLs, anonymous) are authenticated by s3auth and
authorized here the same way before moto's S3 serves them. Each request is named once
(operation.py); its IAM action follows from that name, and so does what integrity.py does
with it. A bucket that does not exist is 404 NoSuchBucket for anyone. Policy conditions see
S3's condition keys: s3:prefix, s3:delimiter, s3:max-keys, s3:ExistingObjectTag/<key>,
s3:RequestObjectTag/<key>, s3:RequestObjectTagKeys, s3:x-amz-copy-source and the x-amz-* keys.

Limitations: Block Public Access settings are not applied to policy evaluation; ACLs are ignored.
"""
from __future__ import annotations

import io
import uuid
from typing import IO, Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from werkzeug.test import EnvironBuilder, run_wsgi_app

from .. import iam_eval, moto_bridge
from ..bodies import KNOWN_MD5_KEY
from . import cors
from .auth import Caller, S3AuthError, authenticate, raw_path
from .errors import S3Response, error_response, refuse
from .operation import Operation, classify


MAX_KEY_BYTES = 1024
MOTO_AUTHORIZATION = ("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, "
                      "SignedHeaders=host, Signature=local-data-plane")


# Bucket subresources and the IAM action each method needs on them.
_BUCKET_SUBRESOURCES = {
    "policy": ("s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"),
    "tagging": ("s3:GetBucketTagging", "s3:PutBucketTagging", "s3:PutBucketTagging"),
    "acl": ("s3:GetBucketAcl", "s3:PutBucketAcl", None),
    "cors": ("s3:GetBucketCORS", "s3:PutBucketCORS", "s3:PutBucketCORS"),
    "lifecycle": ("s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration",
                  "s3:PutLifecycleConfiguration"),
    "encryption": ("s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration",
                   "s3:PutEncryptionConfiguration"),
    "publicAccessBlock": ("s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock",
                          "s3:PutBucketPublicAccessBlock"),
    "versioning": ("s3:GetBucketVersioning", "s3:PutBucketVersioning", None),
    "location": ("s3:GetBucketLocation", None, None),
    "versions": ("s3:ListBucketVersions", None, None),
    "uploads": ("s3:ListBucketMultipartUploads", None, None),
    "notification": ("s3:GetBucketNotification", "s3:PutBucketNotification", None),
    "website": ("s3:GetBucketWebsite", "s3:PutBucketWebsite", "s3:DeleteBucketWebsite"),
    "ownershipControls": ("s3:GetBucketOwnershipControls", "s3:PutBucketOwnershipControls",
                          "s3:PutBucketOwnershipControls"),
}


# Operations (operation.py) whose IAM action is not s3:<operation name>.
_ACTIONS = {
    "ListBuckets": "s3:ListAllMyBuckets", "ListObjects": "s3:ListBucket", "ListObjectsV2": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket", "HeadObject": "s3:GetObject", "CopyObject": "s3:PutObject",
    "UploadPart": "s3:PutObject", "UploadPartCopy": "s3:PutObject", "CreateMultipartUpload": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject", "ListParts": "s3:ListMultipartUploadParts",
    "PostObject": "s3:PutObject", "DeleteObjects": "s3:DeleteObject",
}


def action_for(method: str, key: str | None, query: dict[str, str], bucket: str = "x") -> str:
    """The IAM action S3 authorizes for a REST call, from the operation it is (operation.py)
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-actions.html)."""
    return action_of(classify(method, bucket, key, urlencode(query)))


def action_of(op: Operation) -> str:
    if op.name in _ACTIONS:
        return _ACTIONS[op.name]
    if ":" in op.name:  # a bucket subresource, or an object one S3 has no operation for
        subresource = op.name.split(":", 1)[1]
        if "Bucket:" in op.name:
            get, put, delete = _BUCKET_SUBRESOURCES.get(subresource) or (
                "s3:ListBucket", "s3:CreateBucket", "s3:DeleteBucket")
            return {"GET": get, "HEAD": get, "PUT": put, "DELETE": delete}.get(op.method) or get
        return "s3:GetObject" if op.method in ("GET", "HEAD") else "s3:PutObject"
    return f"s3:{op.name}"


def split_path(path: str) -> tuple[str, str | None]:
    """'/bucket/a%20b.txt' -> ('bucket', 'a b.txt')."""
    parts = path.lstrip("/").split("/", 1)
    bucket = unquote(parts[0])
    key = unquote(parts[1]) if len(parts) > 1 and parts[1] else None
    return bucket, key


# Actions whose policies may name the tags of the object they act on (s3:ExistingObjectTag).
_EXISTING_TAG_ACTIONS = frozenset({
    "s3:GetObject", "s3:GetObjectAcl", "s3:GetObjectTagging", "s3:PutObjectAcl",
    "s3:PutObjectTagging", "s3:DeleteObjectTagging", "s3:GetObjectVersion",
})
# Request headers that are condition keys of the same name (s3:x-amz-acl...).
_HEADER_KEYS = ("x-amz-acl", "x-amz-server-side-encryption", "x-amz-storage-class",
                "x-amz-metadata-directive", "x-amz-content-sha256")


def request_context(action: str, bucket: str, key: str | None, query: dict[str, str],
                    headers: dict[str, str]) -> dict[str, Any]:
    """The S3 condition keys a request brings to policy evaluation
    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html#amazons3-policy-keys
    and https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html):
    a key the request does not bring is absent (``Null``/``...IfExists`` see that)."""
    headers = {k.lower(): v for k, v in headers.items()}
    context: dict[str, Any] = {}
    if action in ("s3:ListBucket", "s3:ListBucketVersions"):
        for name in ("prefix", "delimiter", "max-keys"):
            if name in query:
                context[f"s3:{name}"] = query[name]
    for name in _HEADER_KEYS:
        if name in headers:
            context[f"s3:{name}"] = headers[name]
    if "x-amz-copy-source" in headers:
        context["s3:x-amz-copy-source"] = unquote(headers["x-amz-copy-source"].split("?", 1)[0]).lstrip("/")
    if "x-amz-tagging" in headers:
        tags = dict(parse_qsl(headers["x-amz-tagging"], keep_blank_values=True))
        context["s3:RequestObjectTagKeys"] = list(tags)
        for tag, value in tags.items():
            context[f"s3:RequestObjectTag/{tag}"] = value
    if key and action in _EXISTING_TAG_ACTIONS:
        for tag, value in moto_bridge.object_tags(bucket, key, query.get("versionId")).items():
            context[f"s3:ExistingObjectTag/{tag}"] = value
    return context


# The presigned URL's own parameters; any other x-amz-* query parameter stands for its header.
_SIGNATURE_PARAMETERS = frozenset({"x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires",
                                   "x-amz-signedheaders", "x-amz-signature", "x-amz-security-token",
                                   "x-amz-content-sha256"})


def hoist_query_headers(environ: dict[str, Any]) -> None:
    """``x-amz-*`` headers a presigned URL carries in its query (the AWS SDK for JavaScript
    hoists ``x-amz-acl``, ``x-amz-meta-*``... there) act as the headers they name, as on S3; a
    header actually sent wins. Checksums are the exception: "Amazon S3 presigned URLs don't
    support using the following data-integrity checksum algorithms (CRC32, CRC32C, SHA-1,
    SHA-256)" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-presigned-url.html),
    so the CRC32 of an empty body that the JavaScript SDK (3.729+) signs into a presigned PUT
    is ignored, as S3 ignores it (Content-MD5 is how a presigned upload is checked)."""
    for name, value in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True):
        lowered = name.lower()
        if lowered.startswith(("x-amz-checksum-", "x-amz-sdk-checksum-")):
            continue
        if lowered.startswith("x-amz-") and lowered not in _SIGNATURE_PARAMETERS:
            environ.setdefault("HTTP_" + lowered.upper().replace("-", "_"), value)


class S3Front:
    """Authorizes data-plane calls to S3, then runs them against moto's S3 in-process."""

    def __init__(self, moto_app: Any) -> None:
        from .integrity import Integrity

        self._moto_app = moto_app
        self.integrity = Integrity(moto_bridge.multipart_upload_exists)

    @staticmethod
    def key_too_long(method: str, path: str) -> S3Response | None:
        """Object keys are at most 1,024 bytes of UTF-8 (S3 User Guide, "Naming Amazon S3
        objects"); writing a longer one is refused with 400 KeyTooLongError."""
        _, key = split_path(path)
        size = len(key.encode("utf-8", "surrogateescape")) if key else 0
        if size > MAX_KEY_BYTES and method.upper() in ("PUT", "POST"):
            return error_response(400, "KeyTooLongError", "Your key is too long",
                                  Size=str(size), MaxSizeAllowed=str(MAX_KEY_BYTES))
        return None

    def authorize(self, caller: Caller, method: str, path: str, query: dict[str, str],
                  copy_source: str | None = None, headers: dict[str, str] | None = None) -> S3Response | None:
        """None when the caller may make this call; otherwise S3's AccessDenied (or 404
        NoSuchBucket for a bucket that does not exist, whoever asks).

        CopyObject and UploadPartCopy (a PUT with x-amz-copy-source) also read the source
        object, so they need s3:GetObject on it as well as s3:PutObject on the target
        (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html)."""
        bucket, key = split_path(path)
        action = action_for(method, key, query, bucket)
        missing = self.bucket_missing(bucket) if action != "s3:CreateBucket" else None
        if missing is not None:
            return missing
        context = request_context(action, bucket, key, query, {**(headers or {}),
                                  **({"x-amz-copy-source": copy_source} if copy_source else {})})
        refused = self._authorize_action(caller, action, bucket, key, context)
        if refused is None and copy_source and key and method.upper() == "PUT":
            source = unquote(copy_source.split("?", 1)[0]).lstrip("/")
            source_bucket, _, source_key = source.partition("/")
            refused = self._authorize_action(
                caller, "s3:GetObject", source_bucket, source_key or None,
                request_context("s3:GetObject", source_bucket, source_key or None, {}, {}))
        return refused

    @staticmethod
    def bucket_missing(bucket: str) -> S3Response | None:
        """404 NoSuchBucket for a bucket that does not exist, whoever asks."""
        if bucket and not moto_bridge.bucket_exists(bucket):
            return error_response(404, "NoSuchBucket", "The specified bucket does not exist",
                                  BucketName=bucket)
        return None

    def _authorize_action(self, caller: Caller, action: str, bucket: str,
                          key: str | None, context: dict[str, Any] | None = None) -> S3Response | None:
        resource = f"arn:aws:s3:::{bucket}" + (f"/{key}" if key else "") if bucket else "*"
        decision = iam_eval.evaluate(
            action,
            resource,
            identity_policies=caller.identity_policies,
            resource_policy=moto_bridge.bucket_policy(bucket),
            principal=caller.principal,
            context={"aws:SecureTransport": "true", **(context or {}), **caller.context},
        )
        if decision.allowed:
            return None
        if caller.principal.anonymous or caller.principal.account != moto_bridge.ACCOUNT_ID:
            # Only principals of the bucket's own account get the detailed message.
            return error_response(403, "AccessDenied", "Access Denied")
        who = caller.principal.arn
        if decision.result == iam_eval.EXPLICIT_DENY:
            reason = f"with an explicit deny in a {'resource-based' if 'resource' in decision.reasons[0] else 'identity-based'} policy"
        else:
            reason = f"because no identity-based policy allows the {action} action"
        return error_response(
            403,
            "AccessDenied",
            f'User: {who} is not authorized to perform: {action} on resource: "{resource}" {reason}',
        )

    def call(
        self,
        caller: Caller,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | IO[bytes] = b"",
        body_md5: str | None = None,
    ) -> S3Response:
        """Make one S3 REST call as ``caller``; refusals come back as S3's XML errors.

        ``body`` may be bytes or a file positioned at its start (large bodies stay on disk);
        ``body_md5``, when the caller computed it already, saves hashing the body again."""
        query = dict(query or {})
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        # CORS as for a client's request (cors.py): a preflight is answered from the bucket's
        # rules and never authorized; any other answer carries the matching rule's headers.
        cors_environ = {"RAW_URI": path, "REQUEST_METHOD": method.upper(),
                        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in lowered.items()
                           if k in ("origin", "access-control-request-method",
                                    "access-control-request-headers")}}
        if method.upper() == "OPTIONS":
            refusal, allowed = cors.preflight_refusal(cors_environ)
            if refusal is not None:
                return refusal
            request_id = uuid.uuid4().hex[:16].upper()
            return S3Response(200, {**dict(allowed), "x-amz-request-id": request_id, "x-amz-id-2": request_id})
        answer = self._call(caller, method, path, query, headers, lowered, body, body_md5)
        added = cors.actual_headers(cors_environ)
        kept = {k: v for k, v in answer.headers.items()
                if not k.lower().startswith("access-control-") and not (added and k.lower() == "vary")}
        return S3Response(answer.status, {**kept, **dict(added)}, answer.body, answer.code)

    def _call(self, caller: Caller, method: str, path: str, query: dict[str, str],
              headers: dict[str, str] | None, lowered: dict[str, str], body: bytes | IO[bytes],
              body_md5: str | None) -> S3Response:
        refused = self.key_too_long(method, path) or self.authorize(
            caller, method, path, query, lowered.get("x-amz-copy-source"), lowered)
        if refused is not None:
            return refused
        app = moto_bridge.s3_app(self._moto_app)
        if isinstance(body, bytes):
            stream, length = io.BytesIO(body), len(body)
        else:
            start = body.tell()
            length = body.seek(0, io.SEEK_END) - start
            body.seek(start)
            stream = body
        builder = EnvironBuilder(
            path=quote(unquote(path), safe="/"),
            method=method.upper(),
            query_string=query,
            # The caller was authorized above; moto must not second-guess it (it refuses
            # unsigned overwrites of existing objects), so the call reaches it as signed.
            headers={"Host": "localhost", "Authorization": MOTO_AUTHORIZATION, **(headers or {})},
            input_stream=stream,
            content_length=length,
        )
        environ = builder.get_environ()
        if body_md5:
            environ[KNOWN_MD5_KEY] = body_md5  # computed as the body arrived: no second pass
        bucket, key = split_path(path)
        op = classify(method, bucket, key, urlencode(query), lowered)

        def serve(env: dict[str, Any], start_response: Any) -> Any:
            # The same path as clients' requests: bodies spooled, checksums kept with the object.
            return self.integrity.serve(env, start_response, app, op)

        app_iter, status, response_headers = run_wsgi_app(serve, environ, buffered=True)
        try:
            data = b"".join(app_iter)
        finally:
            if hasattr(app_iter, "close"):
                app_iter.close()
        status_code = int(status.split(" ", 1)[0])
        return S3Response(status_code, dict(response_headers.items()), data)

    # --- requests from clients (SDKs, presigned URLs, browsers) --------------------------------

    def authorize_each_deletion(self, caller: Caller, environ: dict[str, Any], bucket: str) -> S3Response | None:
        """DeleteObjects (multi-object delete) needs s3:DeleteObject on each object it names
        (s3:DeleteObjectVersion for a version), not on the bucket
        (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html). The body
        (at most 1,000 keys) is read and put back for moto. S3 answers a refused key inside the
        200 result; here the first refused key refuses the whole request."""
        import xml.etree.ElementTree as ElementTree

        from werkzeug.wsgi import get_input_stream

        body = get_input_stream(environ).read()
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError:
            return None  # moto answers MalformedXML
        for element in root.iter():
            if element.tag.rsplit("}", 1)[-1] != "Object":
                continue
            fields = {child.tag.rsplit("}", 1)[-1]: child.text or "" for child in element}
            if "Key" not in fields:
                continue
            action = "s3:DeleteObjectVersion" if fields.get("VersionId") else "s3:DeleteObject"
            refused = self._authorize_action(caller, action, bucket, fields["Key"])
            if refused is not None:
                return refused
        return None

    def handle(self, environ: dict[str, Any], start_response: Any, s3_app: Any) -> Any:
        """Authenticate and authorize a client's S3 request, then let moto's S3 serve it."""
        if environ["REQUEST_METHOD"] == "OPTIONS":  # a CORS preflight: never authenticated
            return cors.preflight(environ, start_response)
        start_response = cors.with_cors_headers(environ, start_response)
        try:
            caller = authenticate(environ)
        except S3AuthError as err:
            return refuse(environ, start_response,
                          error_response(err.status, err.code, err.message, **err.extra))
        # The path as sent, percent-encoded, so that it is decoded exactly once (PATH_INFO is
        # decoded already: decoding it again would authorize "%75ploads/x" as "uploads/x").
        path = raw_path(environ).encode("latin-1").decode("utf-8", "surrogateescape")
        bucket, key = split_path(path)
        if environ["REQUEST_METHOD"] == "POST" and bucket and not key and \
                environ.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
            from .post import PostUploads

            return PostUploads(self).handle(environ, start_response, s3_app, bucket)
        hoist_query_headers(environ)
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        op = classify(environ["REQUEST_METHOD"], bucket, key, environ.get("QUERY_STRING", ""), headers)
        if op.name == "DeleteObjects":  # authorized key by key, not on the bucket
            refused = self.bucket_missing(bucket) or self.authorize_each_deletion(caller, environ, bucket)
        else:
            refused = self.key_too_long(environ["REQUEST_METHOD"], path) or self.authorize(
                caller, environ["REQUEST_METHOD"], path, op.query, headers.get("x-amz-copy-source"), headers)
        if refused is not None:
            return refuse(environ, start_response, refused)
        # Authorized here; moto sees no presigned parameters (operation.py drops them) and must
        # not take the request for an unsigned one (it refuses those overwrites of objects).
        environ.setdefault("HTTP_AUTHORIZATION", MOTO_AUTHORIZATION)
        from .integrity import small_body_sha256_mismatch

        mismatch = small_body_sha256_mismatch(environ, op)
        if mismatch is not None:
            return refuse(environ, start_response, mismatch)
        return self.integrity.serve(environ, start_response, s3_app, op)
