"""Which S3 operation a request is: decided once, here, for every path of the data plane.

S3 names an operation by its method, whether it has a key, and its subresource query parameters
(``?uploads``, ``?uploadId=&partNumber=``, ``?tagging``...; the REST API reference,
https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html).
Other parameters do not change the operation and are dropped before the request goes on:

- ``x-id=PutObject``, ``x-id=UploadPart``...: the AWS SDK for JavaScript v3 names the operation
  it calls in every request and presigned URL; S3 ignores it;
- the signature of a presigned URL (``X-Amz-*``, SigV2's ``AWSAccessKeyId``, ``Signature``,
  ``Expires``): checked by auth.py before this, and no business of the storage (moto would
  store SigV2's ``Expires`` as the object's ``Expires`` header).

Everything else stays in ``query``; an operation the data plane handles itself (PutObject,
UploadPart, GetObject...) is recognised whatever harmless parameter comes with it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote

HARMLESS = frozenset({"x-id", "AWSAccessKeyId", "Signature", "Expires"})

# Object subresources and the operation each method makes of them.
_OBJECT_SUBRESOURCES = {
    "tagging": {"GET": "GetObjectTagging", "PUT": "PutObjectTagging", "DELETE": "DeleteObjectTagging"},
    "acl": {"GET": "GetObjectAcl", "PUT": "PutObjectAcl"},
    "retention": {"GET": "GetObjectRetention", "PUT": "PutObjectRetention"},
    "legal-hold": {"GET": "GetObjectLegalHold", "PUT": "PutObjectLegalHold"},
    "attributes": {"GET": "GetObjectAttributes"},
    "restore": {"POST": "RestoreObject"},
    "select": {"POST": "SelectObjectContent"},
    "torrent": {"GET": "GetObjectTorrent"},
}


def harmless(name: str) -> bool:
    return name in HARMLESS or name.lower().startswith("x-amz-")


@dataclass
class Operation:
    """One S3 request as the data plane sees it."""

    name: str
    method: str
    bucket: str
    key: str | None
    query: dict[str, str] = field(default_factory=dict)  # what decides or qualifies it
    query_string: str = ""  # the same, encoded, for moto

    @property
    def writes_object_body(self) -> bool:
        return self.name in ("PutObject", "UploadPart")


def classify(method: str, bucket: str, key: str | None, raw_query: str,
             headers: dict[str, str] | None = None) -> Operation:
    """The operation of a request (``headers`` lower-case names; only x-amz-copy-source counts)."""
    method = method.upper()
    pairs = [(k, v) for k, v in parse_qsl(raw_query, keep_blank_values=True) if not harmless(k)]
    query = dict(pairs)
    query_string = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" if v else quote(k, safe='-_.~')
                            for k, v in pairs)
    copy = bool((headers or {}).get("x-amz-copy-source"))
    return Operation(_name(method, bucket, key, query, copy), method, bucket, key, query, query_string)


def _name(method: str, bucket: str, key: str | None, query: dict[str, str], copy: bool) -> str:
    if not bucket:
        return "ListBuckets"
    if not key:
        if method == "POST" and "delete" in query:
            return "DeleteObjects"
        if method == "POST":
            return "PostObject"
        subresource = next((k for k in query if k not in _LIST_PARAMETERS), None)
        if subresource:
            return f"{method}Bucket:{subresource}"
        return {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket"}.get(
            method, "ListObjectsV2" if query.get("list-type") == "2" else "ListObjects")
    if "uploadId" in query:
        if method == "PUT" and "partNumber" in query:
            return "UploadPartCopy" if copy else "UploadPart"
        return {"POST": "CompleteMultipartUpload", "DELETE": "AbortMultipartUpload",
                "GET": "ListParts"}.get(method, f"{method}Object:uploadId")
    if method == "POST" and "uploads" in query:
        return "CreateMultipartUpload"
    for name, by_method in _OBJECT_SUBRESOURCES.items():
        if name in query:
            return by_method.get(method, f"{method}Object:{name}")
    if method == "PUT":
        return "CopyObject" if copy else "PutObject"
    return {"GET": "GetObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}.get(
        method, f"{method}Object")


# ListObjects(V2) parameters (not subresources).
_LIST_PARAMETERS = frozenset({"prefix", "delimiter", "marker", "max-keys", "list-type",
                              "continuation-token", "start-after", "fetch-owner", "encoding-type"})
