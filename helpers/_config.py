"""Where the workbook's AWS calls go: the local AWS (default) or a real account.

    target = connect("local")                 # starts or reuses the local AWS on 127.0.0.1:4566
    target = connect("aws", region="eu-west-1")  # your credentials, no local AWS
    s3 = target.client("s3")
"""
from __future__ import annotations

import functools
import os
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config

from ._errors import ConfigurationError, LocalAWSError

TARGETS = ("local", "aws")
DEFAULT_REGION = "us-east-1"
ENDPOINT_ENV = "WORKBOOK_ENDPOINT_URL"
DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
# The local AWS's root credentials, test/test (the convention of moto and LocalStack). The local
# AWS verifies signatures: other keys must be those of an IAM user or STS session created in it,
# given in $WORKBOOK_ACCESS_KEY_ID / $WORKBOOK_SECRET_ACCESS_KEY (the tests run the notebooks as a
# user holding only workbook_policy() this way).
LOCAL_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
ACCESS_KEY_ENV, SECRET_KEY_ENV = "WORKBOOK_ACCESS_KEY_ID", "WORKBOOK_SECRET_ACCESS_KEY"


def local_credentials() -> dict[str, str]:
    """The credentials calls to the local AWS are signed with: the root's test/test, or the
    keys in $WORKBOOK_ACCESS_KEY_ID and $WORKBOOK_SECRET_ACCESS_KEY."""
    if os.environ.get(ACCESS_KEY_ENV) and os.environ.get(SECRET_KEY_ENV):
        return {"aws_access_key_id": os.environ[ACCESS_KEY_ENV],
                "aws_secret_access_key": os.environ[SECRET_KEY_ENV]}
    return dict(LOCAL_CREDENTIALS)


@dataclass(frozen=True)
class Target:
    """One AWS to talk to; ``client(service)`` makes boto3 clients configured for it."""

    name: str
    region: str
    endpoint_url: str | None = None
    _session: Any = field(default=None, compare=False, repr=False)
    _clients: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_local(self) -> bool:
        return self.name == "local"

    def client(self, service: str, *, region: str | None = None) -> Any:
        """A boto3 client for ``service``, made once per service and region and then reused
        (for the local AWS, by every target of the same endpoint in this process)."""
        region = region or self.region
        credentials = local_credentials() if self.is_local else {}
        cache, key = ((_LOCAL_CLIENTS, (self.endpoint_url, service, region,
                                        credentials.get("aws_access_key_id"))) if self.is_local
                      else (self._clients, (service, region)))
        if key not in cache:
            cache[key] = self._new_client(service, region, credentials)
        return cache[key]

    def _new_client(self, service: str, region: str, credentials: dict[str, str]) -> Any:
        config = Config(
            # SigV4 for S3 too (presigned URLs; boto3 would sign them SigV2 with an endpoint URL).
            # Only for S3: "s3v4" signs paths as S3 does (URI-encoded once), and every other
            # service refuses that for a path with encoded characters, such as Lambda's
            # ListTags with a function ARN (InvalidSignatureException).
            signature_version="s3v4" if service == "s3" else None,
            s3={"addressing_style": "path"} if self.is_local else {},
            # Checksums only where an API requires them: boto3 >= 1.36 adds CRC32 by default,
            # which presigned and proxied uploads do not carry.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"max_attempts": 3, "mode": "standard"},
        )
        kwargs: dict[str, Any] = {"region_name": region, "config": config}
        if self.is_local:
            kwargs.update(endpoint_url=self.endpoint_url, **credentials)
        with _SESSION_LOCK:  # a boto3 Session is not thread-safe; its clients are
            client = (self._session or _local_session()).client(service, **kwargs)
        if self.is_local:
            client.meta.events.register("after-call-error", _explain_unreachable(self.endpoint_url))
        return client

    def available_regions(self, service: str) -> list[str]:
        """The Regions of the partition where ``service`` exists (botocore's own list: no call)."""
        return (self._session or _local_session()).get_available_regions(service)

    def invoke_url(self, api_id: str, stage: str) -> str:
        """The base URL of a deployed REST API stage."""
        if self.is_local:
            return f"{self.endpoint_url}/_aws/execute-api/{api_id}/{stage}"
        return f"https://{api_id}.execute-api.{self.region}.amazonaws.com/{stage}"


_SESSION_LOCK = threading.Lock()
_LOCAL_CLIENTS: dict[tuple[str | None, str, str, str | None], Any] = {}


@functools.lru_cache(maxsize=1)
def _local_session() -> Any:
    """One boto3 session for every local-AWS client: it loads each service's model once (a new
    session per client would load it again, about half a second a client)."""
    return boto3.session.Session()


def local_gone_message(endpoint_url: str | None) -> str:
    """What to tell a learner whose local AWS stopped answering (stopped, crashed or restarted)."""
    return (
        f"the local AWS at {endpoint_url} is not answering: it was stopped, or it crashed or restarted "
        "(for example when JupyterLab or `make lab` was restarted, or the kernel that started it). "
        "The local AWS keeps everything in memory, so the buckets, APIs and functions this notebook "
        "created are gone with it. Start it "
        "again with `make lab` (or `python -m localaws`), then re-run this notebook from the top "
        "(Kernel > Restart Kernel and Run All Cells): the cells create everything again."
    )


def _explain_unreachable(endpoint_url: str | None) -> Any:
    """A botocore handler: a connection failure to the local AWS becomes a LocalAWSError that
    says what happened and how to go on, instead of botocore's EndpointConnectionError."""
    from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

    def handler(exception: Exception | None = None, **_: Any) -> None:
        if isinstance(exception, (EndpointConnectionError, ConnectionClosedError)):
            raise LocalAWSError(local_gone_message(endpoint_url)) from exception
    return handler


def local_endpoint(endpoint_url: str | None = None) -> str:
    """The local AWS endpoint: the argument, else ``$WORKBOOK_ENDPOINT_URL``, else port 4566.
    Only loopback addresses are accepted (the local AWS has test credentials anyone knows)."""
    import localaws

    endpoint = (endpoint_url or os.environ.get(ENDPOINT_ENV) or DEFAULT_ENDPOINT).rstrip("/")
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"endpoint_url {endpoint!r} is not a URL like http://127.0.0.1:4566")
    try:
        localaws.check_loopback(parts.hostname)
    except localaws.LocalAWSError as err:
        raise LocalAWSError(str(err)) from err
    return endpoint


def ensure_local_aws(endpoint: str, *, log_path: str | None = None,
                     exit_with: int | None = None) -> dict:
    """Reuse the local AWS at ``endpoint`` or start it (the ``localaws`` package, beside this one);
    one started here stops when process ``exit_with`` exits (None: it keeps running).

    The one place where the helpers reach the emulator: everything else talks to it over HTTP,
    exactly as to AWS. Returns ``{"endpoint_url", "started": bool, "pid"}``.
    """
    import localaws

    try:
        return localaws.ensure_running(endpoint, log_path=log_path, exit_with=exit_with)
    except localaws.LocalAWSError as err:
        raise LocalAWSError(str(err)) from err


def local_aws_answers(endpoint: str) -> bool:
    """Whether a local AWS answers at ``endpoint`` (its health record)."""
    import localaws

    return localaws.probe(endpoint) is not None


def connect(target: str = "local", *, region: str | None = None,
            endpoint_url: str | None = None, start: bool = True) -> Target:
    """Choose where calls go. ``local`` starts the local AWS if none answers (``start=False`` to
    only check); ``aws`` uses boto3's normal credential chain and makes no local calls.

    A local AWS started here lives as long as this process (the kernel, or a script): a headless
    run (papermill) leaves nothing running, and restarting the kernel starts a fresh, empty one.
    One that `make lab` or `binder/start` started keeps running for every kernel."""
    if target not in TARGETS:
        raise ConfigurationError(f"target {target!r} is not one of {', '.join(TARGETS)}")
    if target == "local":
        endpoint = local_endpoint(endpoint_url)
        if start:
            ensure_local_aws(endpoint, exit_with=os.getpid())
        elif not local_aws_answers(endpoint):
            raise ConfigurationError(
                f"no local AWS answers at {endpoint}: run `python -m localaws` or "
                "`make lab`, or pass start=True"
            )
        return Target("local", region or DEFAULT_REGION, endpoint)
    if endpoint_url:
        raise ConfigurationError("endpoint_url is for target='local'; leave it None with target='aws'")
    session = boto3.session.Session(region_name=region)
    if session.region_name is None:
        raise ConfigurationError("target='aws' needs a region: pass region=... or set AWS_REGION")
    if session.get_credentials() is None:
        raise ConfigurationError(
            "target='aws' found no AWS credentials: configure a profile (`aws configure`) or "
            "set AWS_PROFILE / AWS_ACCESS_KEY_ID, then re-run"
        )
    return Target("aws", session.region_name, None, session)
