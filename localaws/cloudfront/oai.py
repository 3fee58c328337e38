"""The CloudFront origin access identity API (moto has none): create, get, get config, list,
update and delete, with CallerReference idempotence and the ETag/If-Match protocol
(https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateCloudFrontOriginAccessIdentity.html).

An identity is the principal S3 sees when CloudFront reaches a bucket through it: in bucket
policies ``arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity {Id}`` or its
``S3CanonicalUserId``.
"""
from __future__ import annotations

import re
import secrets
import string
import threading
import time
from typing import Any, Callable
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from werkzeug.wsgi import get_input_stream

from .errors import NAMESPACE, CloudFrontError, missing_if_match, precondition_failed

PREFIX = "/2020-05-31/origin-access-identity/cloudfront"
_PATH = re.compile(r"^/2020-05-31/origin-access-identity/cloudfront(?:/(?P<id>[^/]+)(?P<config>/config)?)?/?$")


def principal_arn(identity_id: str) -> str:
    """The IAM ARN that names an identity in a bucket policy."""
    return f"arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity {identity_id}"


def _new_id() -> str:
    return "E" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(13))


class OriginAccessIdentities:
    """State and the REST-XML handler; ``in_use(id)`` asks the distributions."""

    def __init__(self, in_use: Callable[[str], bool]) -> None:
        self._lock = threading.Lock()
        # Held across check-and-change, so two updates with the same If-Match cannot both win.
        self._writing = threading.Lock()
        self._items: dict[str, dict[str, str]] = {}
        self._in_use = in_use

    def matches(self, environ: dict[str, Any]) -> bool:
        return environ.get("PATH_INFO", "").startswith(PREFIX)

    def reset(self) -> None:
        with self._lock:
            self._items.clear()

    def find(self, identity_id: str) -> dict[str, str] | None:
        with self._lock:
            return self._items.get(identity_id)

    def created_at(self, id_or_canonical: str) -> float | None:
        """When (time.monotonic) the identity with this id or S3 canonical user id was created;
        None if there is none. S3 refuses a bucket policy naming one created moments ago."""
        with self._lock:
            for identity in self._items.values():
                if id_or_canonical in (identity["id"], identity["canonical"]):
                    return identity["created"]
        return None

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        match = _PATH.match(environ.get("PATH_INFO", ""))
        method = environ["REQUEST_METHOD"]
        try:
            if not match:
                raise CloudFrontError(404, "NotFound", "No such CloudFront resource.")
            identity_id, config = match.group("id"), bool(match.group("config"))
            body = get_input_stream(environ).read()
            if_match = environ.get("HTTP_IF_MATCH")
            if identity_id is None and method == "POST":
                status, headers, payload = self._create(body)
            elif identity_id is None and method == "GET":
                status, headers, payload = 200, {}, self._list()
            elif method == "GET":
                status, headers, payload = self._get(identity_id, config)
            elif method == "PUT" and config:
                status, headers, payload = self._update(identity_id, body, if_match)
            elif method == "DELETE" and not config:
                status, headers, payload = self._delete(identity_id, if_match)
            else:
                raise CloudFrontError(405, "MethodNotAllowed", f"{method} is not supported here.")
        except CloudFrontError as err:
            status, headers, payload = err.status, {}, err.render()
        headers = {"Content-Type": "text/xml", **headers, "Content-Length": str(len(payload))}
        start_response(f"{status} {'OK' if status < 300 else 'Error'}", list(headers.items()))
        return [payload]

    @staticmethod
    def _parse_config(body: bytes) -> dict[str, str]:
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError:
            raise CloudFrontError(400, "MalformedInput", "The XML document is malformed.") from None
        fields = {child.tag.split("}")[-1]: (child.text or "") for child in root}
        if not fields.get("CallerReference"):
            raise CloudFrontError(400, "MissingArgument", "CallerReference is required.")
        if len(fields.get("Comment", "")) > 128:
            raise CloudFrontError(400, "InvalidArgument", "The comment cannot be longer than 128 characters.")
        return {"caller": fields["CallerReference"], "comment": fields.get("Comment", "")}

    def _create(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        config = self._parse_config(body)
        with self._lock:
            same = next((i for i in self._items.values() if i["caller"] == config["caller"]), None)
            if same is not None and same["comment"] != config["comment"]:
                raise CloudFrontError(409, "CloudFrontOriginAccessIdentityAlreadyExists",
                                      "The caller reference you are using to create the CloudFront "
                                      "origin access identity is associated with another identity.")
            identity = same or {"id": _new_id(), "canonical": secrets.token_hex(32),
                                "etag": _new_id(), "created": time.monotonic(), **config}
            self._items[identity["id"]] = identity
        headers = {"ETag": identity["etag"],
                   "Location": f"https://cloudfront.amazonaws.com{PREFIX}/{identity['id']}"}
        return 201, headers, self._identity_xml(identity)

    def _get(self, identity_id: str, config: bool) -> tuple[int, dict[str, str], bytes]:
        identity = self._require(identity_id)
        payload = self._config_xml(identity, root=True) if config else self._identity_xml(identity)
        return 200, {"ETag": identity["etag"]}, payload

    def _update(self, identity_id: str, body: bytes, if_match: str | None) -> tuple[int, dict[str, str], bytes]:
        with self._writing:
            return self._update_checked(identity_id, body, if_match)

    def _update_checked(self, identity_id: str, body: bytes, if_match: str | None) -> tuple[int, dict[str, str], bytes]:
        identity = self._require(identity_id)
        if not if_match:
            raise missing_if_match()
        if if_match != identity["etag"]:
            raise precondition_failed()
        config = self._parse_config(body)
        if config["caller"] != identity["caller"]:
            raise CloudFrontError(400, "IllegalUpdate", "Origin and CallerReference cannot be updated.")
        with self._lock:
            identity.update(comment=config["comment"], etag=_new_id())
        return 200, {"ETag": identity["etag"]}, self._identity_xml(identity)

    def _delete(self, identity_id: str, if_match: str | None) -> tuple[int, dict[str, str], bytes]:
        with self._writing:
            return self._delete_checked(identity_id, if_match)

    def _delete_checked(self, identity_id: str, if_match: str | None) -> tuple[int, dict[str, str], bytes]:
        identity = self._require(identity_id)
        if not if_match:
            raise missing_if_match()
        if if_match != identity["etag"]:
            raise precondition_failed()
        if self._in_use(identity_id):
            raise CloudFrontError(409, "CloudFrontOriginAccessIdentityInUse",
                                  "The CloudFront origin access identity is still being used.")
        with self._lock:
            self._items.pop(identity_id, None)
        return 204, {}, b""

    def _require(self, identity_id: str) -> dict[str, str]:
        identity = self.find(identity_id)
        if identity is None:
            raise CloudFrontError(404, "NoSuchCloudFrontOriginAccessIdentity",
                                  "The specified origin access identity does not exist.")
        return identity

    def _list(self) -> bytes:
        with self._lock:
            items = list(self._items.values())
        summaries = "".join(
            f"<CloudFrontOriginAccessIdentitySummary><Id>{i['id']}</Id>"
            f"<S3CanonicalUserId>{i['canonical']}</S3CanonicalUserId>"
            f"<Comment>{escape(i['comment'])}</Comment></CloudFrontOriginAccessIdentitySummary>"
            for i in items)
        return (f'<?xml version="1.0"?>\n<CloudFrontOriginAccessIdentityList xmlns="{NAMESPACE}">'
                f"<Marker></Marker><MaxItems>100</MaxItems><IsTruncated>false</IsTruncated>"
                f"<Quantity>{len(items)}</Quantity><Items>{summaries}</Items>"
                f"</CloudFrontOriginAccessIdentityList>").encode()

    @staticmethod
    def _config_xml(identity: dict[str, str], root: bool = False) -> bytes:
        namespace = f' xmlns="{NAMESPACE}"' if root else ""
        text = (f"<CloudFrontOriginAccessIdentityConfig{namespace}>"
                f"<CallerReference>{escape(identity['caller'])}</CallerReference>"
                f"<Comment>{escape(identity['comment'])}</Comment></CloudFrontOriginAccessIdentityConfig>")
        return (('<?xml version="1.0"?>\n' + text) if root else text).encode()

    def _identity_xml(self, identity: dict[str, str]) -> bytes:
        return (f'<?xml version="1.0"?>\n<CloudFrontOriginAccessIdentity xmlns="{NAMESPACE}">'
                f"<Id>{identity['id']}</Id><S3CanonicalUserId>{identity['canonical']}</S3CanonicalUserId>"
                ).encode() + self._config_xml(identity) + b"</CloudFrontOriginAccessIdentity>"
