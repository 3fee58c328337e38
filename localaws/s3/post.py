"""Browser-based uploads: POST to a bucket with a signed policy (what generate_presigned_post and
the JavaScript SDK's createPresignedPost make), parsed as S3 parses the multipart form.

The form (S3 API "POST Object", https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html,
and "Creating an HTML form (using AWS Signature Version 4)",
https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTForms.html):
- parts are read in order; the part named ``file`` is the file, with or without a filename;
  every other part is a field, also when it carries a filename (as ``requests``' ``files=`` and
  many form libraries send them); fields after the file are ignored, as S3 ignores them;
- field names are case-insensitive (``Policy``, ``X-Amz-Signature``, ``AWSAccessKeyId``);
  values are case-sensitive; the fields before the file may hold 20 KB;
- ``${filename}`` in the key becomes the file's filename (kept literally without one).

The policy (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html):
the signature fields (SigV4 or SigV2; a missing one is ``400 InvalidArgument``), the signature
over the policy as sent, the document (``400 InvalidPolicyDocument``: JSON, ``expiration`` in
ISO 8601 UTC, ``conditions`` a list, each condition well formed), the expiration, every
condition (names case-insensitive, a field operand must start with ``$``, an absent field fails:
``403 Policy Condition failed``), every field covered by a condition (``Extra input fields``),
``content-length-range`` and the signer's ``s3:PutObject`` permission.

The object is then written by a PutObject through the data plane (streamed to disk, checksums
and Content-MD5 verified) with the form's headers (Content-Type, Cache-Control,
Content-Disposition, Content-Encoding, Expires, x-amz-meta-*, x-amz-checksum-*, acl, tagging,
storage class, server-side encryption). The answer: ``204`` with ``ETag`` and ``Location``;
``success_action_status`` 200 or 201 (201 with S3's ``PostResponse`` XML); an absolute
``success_action_redirect`` gives ``303`` to it with ``bucket``, ``key`` and ``etag`` added.
Nothing is stored when any check fails.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import re
import tempfile
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import quote, urlencode, urlsplit
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData
from werkzeug.wsgi import get_input_stream

from ..sigv4 import signing_key as sigv4_key
from .auth import Caller, S3AuthError, check_token, check_token_expiry, lookup_key, same_secret
from .errors import S3Response, error_response, refuse

# Fields that need no condition (x-ignore-* neither).
_EXEMPT = {"x-amz-signature", "file", "policy", "awsaccesskeyid", "signature", "x-amz-security-token"}
MAX_PRE_DATA = 20 * 1024  # the fields before the file
_ISO_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z")
# Form fields that become the PutObject's headers as they are.
_HEADER_FIELDS = {"content-type", "cache-control", "content-disposition", "content-encoding",
                  "content-language", "expires", "content-md5", "x-amz-storage-class",
                  "x-amz-website-redirect-location", "x-amz-server-side-encryption",
                  "x-amz-server-side-encryption-aws-kms-key-id", "x-amz-server-side-encryption-context",
                  "x-amz-server-side-encryption-bucket-key-enabled", "x-amz-sdk-checksum-algorithm",
                  "x-amz-checksum-algorithm", "x-amz-object-lock-mode",
                  "x-amz-object-lock-retain-until-date", "x-amz-object-lock-legal-hold"}


class _Refusal(Exception):
    def __init__(self, response: S3Response) -> None:
        super().__init__(response.code)
        self.response = response


def _invalid_policy(why: str) -> _Refusal:
    return _Refusal(error_response(400, "InvalidPolicyDocument", f"Invalid Policy: {why}"))


def _missing_field(name: str) -> _Refusal:
    return _Refusal(error_response(400, "InvalidArgument", f"Bucket POST must contain a field named "
                                   f"'{name}'.  If it is specified, please check the order of the "
                                   "fields.", ArgumentName=name, ArgumentValue=""))


def _condition_failed(condition: list) -> _Refusal:
    return _Refusal(error_response(403, "AccessDenied", "Invalid according to Policy: Policy "
                                   "Condition failed: " + json.dumps(condition)))


def _then_none(chunks: Any) -> Any:
    """The body's chunks, then None: the decoder's end of input."""
    yield from chunks
    yield None


class Form:
    """A POST form as S3 reads it: the fields before the file (names lowercase, first value
    kept, ``names`` as sent), and the file spooled to a temporary file."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.file: Any = None
        self.filename: str | None = None
        self.size = 0

    @classmethod
    def read(cls, environ: dict[str, Any]) -> "Form":
        stream = get_input_stream(environ)
        try:
            return cls._parse(environ, stream)
        finally:
            while stream.read(1024 * 1024):  # read to the end (after a refusal too): the client
                pass                          # then gets the answer, not a reset
            # The body is consumed: a refusal sent later must not wait for more of it.
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(b""), "0"

    @classmethod
    def _parse(cls, environ: dict[str, Any], stream: Any) -> "Form":
        form = cls()
        _, options = parse_options_header(environ.get("CONTENT_TYPE", ""))
        boundary = options.get("boundary", "").encode("latin-1", "replace")
        if not boundary:
            raise _Refusal(error_response(400, "MalformedPOSTRequest", "The body of your POST request "
                                          "is not well-formed multipart/form-data."))
        decoder = MultipartDecoder(boundary)
        state = "fields"  # -> "file" while the file part runs -> "after" (ignored)
        name, value, pre_data = "", bytearray(), 0
        finished = False
        chunks = iter(lambda: stream.read(1024 * 1024), b"")
        for chunk in _then_none(chunks):
            if finished:
                continue  # the epilogue: read to the end, ignored
            decoder.receive_data(chunk)  # None: the body has ended
            while True:
                event = decoder.next_event()
                if isinstance(event, NeedData):
                    break
                if isinstance(event, Epilogue):
                    finished = True
                    break
                if isinstance(event, (Field, File)):
                    if state == "file":
                        state = "after"
                    if state == "fields":
                        name, value = event.name, bytearray()
                        if name.lower() == "file":
                            state = "file"
                            form.file = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
                            form.filename = event.filename if isinstance(event, File) else None
                elif isinstance(event, Data):
                    if state == "file":
                        form.file.write(event.data)
                        form.size += len(event.data)
                    elif state == "fields":
                        value += event.data
                        pre_data += len(event.data)
                        if pre_data > MAX_PRE_DATA:
                            raise _Refusal(error_response(
                                400, "MaxPostPreDataLengthExceeded", "Your POST request fields "
                                "preceeding the upload file was too large.",
                                MaxPostPreDataLengthBytes=str(MAX_PRE_DATA)))
                        if not event.more_data:
                            form.names.setdefault(name.lower(), name)
                            form.fields.setdefault(name.lower(), value.decode("utf-8", "replace"))
        if not finished:
            raise _Refusal(error_response(400, "MalformedPOSTRequest", "The body of your POST request "
                                          "is not well-formed multipart/form-data."))
        if form.file is not None:
            form.file.seek(0)
        return form


class PostUploads:
    def __init__(self, front: Any) -> None:
        self.front = front

    def handle(self, environ: dict[str, Any], start_response: Callable, s3_app: Any, bucket: str) -> Any:
        form = None
        try:
            try:
                form = Form.read(environ)
                caller, key = self._check(form.fields, bucket, form if form.file is not None else None,
                                          form.size, form.names)
                headers = put_headers(form.fields)
            except S3AuthError as err:
                return refuse(environ, start_response,
                              error_response(err.status, err.code, err.message, **err.extra))
            except _Refusal as refusal:
                return refuse(environ, start_response, refusal.response)
            except ValueError:  # the multipart decoder's complaint
                return refuse(environ, start_response, error_response(
                    400, "MalformedPOSTRequest",
                    "The body of your POST request is not well-formed multipart/form-data."))
            stored = self.front.call(caller, "PUT", f"/{bucket}/{quote(key, safe='/')}",
                                     headers=headers, body=form.file)
        finally:
            if form is not None and form.file is not None:
                form.file.close()
        if stored.status != 200:
            return refuse(environ, start_response, stored)
        return self._answer(environ, start_response, form.fields, bucket, key, stored)

    @staticmethod
    def _answer(environ: dict[str, Any], start_response: Callable, fields: dict[str, str], bucket: str,
                key: str, stored: S3Response) -> list[bytes]:
        etag = next((v for k, v in stored.headers.items() if k.lower() == "etag"), "")
        host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
        location = f"{environ.get('wsgi.url_scheme', 'http')}://{host}/{bucket}/{quote(key, safe='')}"
        headers = [(k, v) for k, v in stored.headers.items()
                   if k.lower().startswith("x-amz-") or k.lower() == "etag"]
        redirect = fields.get("success_action_redirect") or fields.get("redirect")
        if redirect and urlsplit(redirect).scheme in ("http", "https") and urlsplit(redirect).netloc:
            query = urlencode([("bucket", bucket), ("key", key), ("etag", etag)])
            target = redirect + ("&" if "?" in redirect else "?") + query
            start_response("303 See Other", [*headers, ("Location", target), ("Content-Length", "0")])
            return []
        status = fields.get("success_action_status", "")
        if status == "201":
            body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                    f"<PostResponse><Location>{escape(location)}</Location><Bucket>{escape(bucket)}</Bucket>"
                    f"<Key>{escape(key)}</Key><ETag>{escape(etag)}</ETag></PostResponse>").encode()
            start_response("201 Created", [*headers, ("Location", location), ("Content-Type", "application/xml"),
                                           ("Content-Length", str(len(body)))])
            return [body]
        if status == "200":
            start_response("200 OK", [*headers, ("Location", location), ("Content-Length", "0")])
            return []
        start_response("204 No Content", [*headers, ("Location", location)])
        return []

    def _check(self, fields: dict[str, str], bucket: str, upload: Any, file_size: int,
               names: dict[str, str] | None = None) -> tuple[Caller, str]:
        """Who may store which key, or _Refusal / S3AuthError. ``fields`` by lowercase name,
        ``upload`` the file (its ``filename``, None without one) or None, ``names`` as sent."""
        if upload is None:
            raise _Refusal(error_response(400, "InvalidArgument", "POST requires exactly one file upload "
                                          "per request.", ArgumentName="file", ArgumentValue="0"))
        key = fields.get("key", "")
        if not key:
            raise _missing_field("key")
        if upload.filename is not None:
            key = key.replace("${filename}", upload.filename)
        policy_b64 = fields.get("policy")
        caller, record, access_key = self._signer(fields, policy_b64)
        if caller is None:
            return Caller(), key  # anonymous: only a bucket policy for everyone lets it in
        assert policy_b64 is not None
        if "x-amz-signature" in fields:
            _, date, region, service, _ = fields["x-amz-credential"].split("/")
            expected = hmac.new(sigv4_key(record["secret"], date, region, service), policy_b64.encode(),
                                hashlib.sha256).hexdigest()
            provided = fields["x-amz-signature"]
        else:
            expected = base64.b64encode(hmac.new(record["secret"].encode(), policy_b64.encode(),
                                                 hashlib.sha1).digest()).decode()
            provided = fields["signature"]
        if not same_secret(expected, provided):
            raise _Refusal(error_response(
                403, "SignatureDoesNotMatch", "The request signature we calculated does not match the "
                "signature you provided. Check your key and signing method.",
                AWSAccessKeyId=access_key, StringToSign=policy_b64, SignatureProvided=provided,
                StringToSignBytes=" ".join(f"{b:02x}" for b in policy_b64.encode())))
        conditions = self._policy(policy_b64)
        check_token_expiry(record["record"], fields.get("x-amz-security-token"))
        values = {**fields, "key": key, "bucket": bucket}
        covered = {"bucket"}
        for condition in conditions:
            covered |= self._check_condition(condition, values, file_size)
        extra = [name for name in fields if name not in covered and name not in _EXEMPT
                 and not name.startswith("x-ignore-")]
        if extra:
            raise _Refusal(error_response(403, "AccessDenied", "Invalid according to Policy: Extra input "
                                          f"fields: {(names or {}).get(extra[0], extra[0])}"))
        return caller, key

    @staticmethod
    def _signer(fields: dict[str, str], policy_b64: str | None) -> tuple[Any, Any, str]:
        """(caller, {"secret", "record"}, access key) of a signed form; (None, None, "") when it
        carries no signature fields (anonymous). A missing signature field is S3's 400."""
        sigv4 = ("x-amz-algorithm", "x-amz-credential", "x-amz-signature")
        if any(name in fields for name in sigv4):
            for name, canonical in zip(sigv4, ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature")):
                if not fields.get(name):
                    raise _missing_field(canonical)
            if not policy_b64:
                raise _missing_field("Policy")
            credential = fields["x-amz-credential"].split("/")
            if len(credential) != 5 or not credential[0]:
                raise _Refusal(error_response(400, "InvalidArgument", "Bucket POST must contain a valid "
                                              "x-amz-credential.", ArgumentName="X-Amz-Credential",
                                              ArgumentValue=fields["x-amz-credential"]))
            access_key = credential[0]
        elif "awsaccesskeyid" in fields or "signature" in fields:
            for name, canonical in (("awsaccesskeyid", "AWSAccessKeyId"), ("signature", "Signature")):
                if not fields.get(name):
                    raise _missing_field(canonical)
            if not policy_b64:
                raise _missing_field("Policy")
            access_key = fields["awsaccesskeyid"]
        else:
            return None, None, ""
        secret, caller, record = lookup_key(access_key)
        check_token(record, fields.get("x-amz-security-token"), access_key)
        return caller, {"secret": secret, "record": record}, access_key

    @staticmethod
    def _policy(policy_b64: str) -> list:
        """The policy's conditions, after checking the document and its expiration."""
        try:
            policy = json.loads(base64.b64decode(policy_b64, validate=False))
            if not isinstance(policy, dict):
                raise ValueError("not an object")
        except (ValueError, TypeError):
            raise _invalid_policy("Invalid JSON.") from None
        for name in policy:
            if name not in ("expiration", "conditions"):
                raise _invalid_policy(f"Unexpected: '{name.lower()}'")
        if "expiration" not in policy:
            raise _invalid_policy("Policy missing expiration.")
        if "conditions" not in policy:
            raise _invalid_policy("Policy missing conditions.")
        raw = policy["expiration"]
        # ISO 8601 in UTC, as "2007-12-01T12:00:00.000Z"; an offset or a space for the T is refused.
        if not isinstance(raw, str) or not _ISO_UTC.fullmatch(raw):
            raise _invalid_policy(f"Invalid 'expiration' value: '{raw}'")
        try:
            expiration = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise _invalid_policy(f"Invalid 'expiration' value: '{raw}'") from None
        if not isinstance(policy["conditions"], list):
            raise _invalid_policy("Invalid 'conditions' value: must be a List.")
        if datetime.now(timezone.utc) > expiration:
            raise _Refusal(error_response(403, "AccessDenied", "Invalid according to Policy: Policy expired."))
        return policy["conditions"]

    @staticmethod
    def _check_condition(condition: Any, values: dict[str, str], file_size: int) -> set[str]:
        """Check one policy condition; returns the form fields it covers."""
        if isinstance(condition, dict):
            if len(condition) != 1:
                raise _invalid_policy("Invalid Simple-Condition: Simple-Conditions must have exactly "
                                      "one property specified.")
            (name, expected), = condition.items()
            if not isinstance(expected, str):
                raise _invalid_policy("Invalid Simple-Condition: value must be a string.")
            condition = ["eq", f"${name}", expected]
        elif not isinstance(condition, list):
            raise _invalid_policy("Invalid condition test: must be a List or Object.")
        if not condition:
            raise _invalid_policy("Invalid Condition: missing operation identifier.")
        operator = str(condition[0]).lower()
        if operator not in ("eq", "starts-with", "content-length-range"):
            raise _invalid_policy(f"Invalid Condition: unknown operation '{condition[0]}'.")
        if len(condition) != 3:
            raise _invalid_policy(f"Invalid {condition[0]}: wrong number of arguments.")
        if operator == "content-length-range":
            if any(isinstance(bound, (float, bool)) for bound in condition[1:]):
                raise _invalid_policy("Invalid JSON.")
            try:
                low, high = int(condition[1]), int(condition[2])
            except (TypeError, ValueError):
                raise _invalid_policy("Invalid content-length-range condition: the bounds must be "
                                      "integers.") from None
            if file_size > high:
                raise _Refusal(error_response(400, "EntityTooLarge", "Your proposed upload exceeds the "
                                              "maximum allowed size", ProposedSize=str(file_size),
                                              MaxSizeAllowed=str(high)))
            if file_size < low:
                raise _Refusal(error_response(400, "EntityTooSmall", "Your proposed upload is smaller "
                                              "than the minimum allowed size", ProposedSize=str(file_size),
                                              MinSizeAllowed=str(low)))
            return set()
        operand, expected = condition[1], condition[2]
        if not isinstance(operand, str) or not isinstance(expected, str):
            raise _invalid_policy("Invalid JSON.")
        if not operand.startswith("$"):
            raise _condition_failed(condition)  # a field is named "$name"; anything else never holds
        name = operand[1:].lower()
        actual = values.get(name)
        holds = actual is not None and (actual == expected if operator == "eq" else actual.startswith(expected))
        if not holds:
            raise _condition_failed(condition)
        return {name}


def put_headers(fields: dict[str, str]) -> dict[str, str]:
    """The PutObject headers a POST form's fields stand for."""
    headers: dict[str, str] = {}
    for name, value in fields.items():
        if name in _HEADER_FIELDS or name.startswith("x-amz-meta-") or name.startswith("x-amz-checksum-"):
            headers[name] = _header_value(value)
        elif name == "acl":
            headers["x-amz-acl"] = value
        elif name == "tagging":
            headers["x-amz-tagging"] = _tagging(value)
    headers.setdefault("content-type", "binary/octet-stream")
    return headers


def _header_value(value: str) -> str:
    """Header values are Latin-1 on the wire; others travel RFC 2047-encoded, as S3 returns them."""
    try:
        value.encode("ascii")
        return value
    except UnicodeEncodeError:
        return "=?UTF-8?B?" + base64.b64encode(value.encode()).decode() + "?="


def _tagging(document: str) -> str:
    """The ``tagging`` field's XML (``<Tagging><TagSet><Tag>...``) as PutObject's header."""
    try:
        root = ElementTree.fromstring(document)
    except ElementTree.ParseError:
        raise _Refusal(error_response(400, "MalformedXML", "The XML you provided was not well-formed "
                                      "or did not validate against our published schema")) from None
    tags = [(tag.findtext("Key") or "", tag.findtext("Value") or "") for tag in root.iter("Tag")]
    return urlencode(tags)
