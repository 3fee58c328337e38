"""CloudFront steps for option 3: an S3 origin reached through an origin identity that may only
put objects, with a viewer-request Lambda@Edge function checking callers."""
from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from ._iam import create_service_role, retry_while_refused
from ._lambda import BASIC_EXECUTION_POLICY, create_function, publish_version
from ._names import tags

EDGE_REGION = "us-east-1"  # Lambda@Edge functions live in US East (N. Virginia), always
# The managed cache policy "CachingDisabled": uploads are never cached.
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]


def create_origin_access_identity(prefix: str, *, cf: Any) -> dict[str, str]:
    """An origin access identity (OAI): the principal S3 sees when CloudFront calls it.
    OAIs take no tags, so the comment carries the prefix for clean-up."""
    created = cf.create_cloud_front_origin_access_identity(CloudFrontOriginAccessIdentityConfig={
        "CallerReference": f"{prefix}-{uuid.uuid4().hex[:8]}", "Comment": f"s3-upload-workbook {prefix}"})
    identity = created["CloudFrontOriginAccessIdentity"]
    return {"oai_id": identity["Id"], "canonical_user": identity["S3CanonicalUserId"], "etag": created["ETag"]}


def oai_upload_headers(path: str) -> dict[str, str]:
    """The header a PUT through a legacy OAI must carry: the body's SHA-256, which CloudFront
    cannot compute for the SigV4 signature it adds, so S3 refuses the PUT without it
    (CloudFront Developer Guide, "Restrict access to an Amazon S3 origin", legacy OAI)."""
    from ._upload import sha256_file

    return {"x-amz-content-sha256": sha256_file(path)}


def oai_put_only_policy(bucket: str, oai_id: str) -> dict[str, Any]:
    """A bucket policy letting the OAI put objects and nothing else: uploads in, no reads out."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "CloudFrontUploadsOnly", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity {oai_id}"},
        "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}


def create_origin_access_control(prefix: str, *, cf: Any) -> str:
    """An origin access control (OAC), AWS's current advice over OAIs: CloudFront signs origin
    requests with SigV4 as the cloudfront.amazonaws.com service."""
    return cf.create_origin_access_control(OriginAccessControlConfig={
        "Name": f"{prefix}-oac", "Description": "s3-upload-workbook", "SigningProtocol": "sigv4",
        "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"})["OriginAccessControl"]["Id"]


def oac_put_only_policy(bucket: str, distribution_arn: str) -> dict[str, Any]:
    """Let CloudFront put objects, but only on behalf of this one distribution (AWS:SourceArn)."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "CloudFrontUploadsOnly", "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}}}]}


def put_bucket_policy(bucket: str, policy: dict[str, Any], *, s3: Any, patience: float = 60.0) -> None:
    """Set the bucket policy. A principal created seconds ago (a new origin access identity or
    role) is not known to S3 yet: S3 answers ``MalformedPolicy`` "Invalid principal in policy"
    until it is, so that answer is retried with growing waits for up to ``patience`` seconds."""
    import json

    retry_while_refused(s3.put_bucket_policy, code="MalformedPolicy", says="Invalid principal",
                        patience=patience, first_wait=0.25, Bucket=bucket, Policy=json.dumps(policy))


def create_edge_function(name: str, *, module: str, target: Any, prefix: str,
                         substitutions: dict[str, str], packages: tuple[str, ...] = ()) -> dict[str, str]:
    """A Lambda@Edge function in us-east-1: a role that both lambda.amazonaws.com and
    edgelambda.amazonaws.com may assume, no environment variables (settings are written into
    the code), viewer limits (5 s, 128 MB), and a published version to associate."""
    iam, lam = target.client("iam"), target.client("lambda", region=EDGE_REGION)
    role = create_service_role(name, service=("lambda.amazonaws.com", "edgelambda.amazonaws.com"),
                               policy=None,  # it checks requests; it needs no AWS permissions but logs
                               iam=iam, prefix=prefix, managed_policies=(BASIC_EXECUTION_POLICY,))
    fn = create_function(name, module=module, role_arn=role["role_arn"], lam=lam, prefix=prefix,
                         timeout=5, memory=128, substitutions=substitutions, packages=packages)
    return {**fn, "role_name": role["role_name"],
            "version_arn": publish_version(fn["function_name"], lam=lam)}


def distribution_config(prefix: str, *, bucket: str, region: str, oai_id: str | None = None,
                        oac_id: str | None = None, edge_version_arn: str | None = None,
                        include_body: bool = False, enabled: bool = True) -> dict[str, Any]:
    """A distribution for uploads: S3 origin, all methods allowed (PUT!), caching disabled,
    HTTPS only, and optionally a viewer-request function."""
    origin: dict[str, Any] = {"Id": "uploads-bucket", "DomainName": f"{bucket}.s3.{region}.amazonaws.com",
                              "S3OriginConfig": {"OriginAccessIdentity":
                                                 f"origin-access-identity/cloudfront/{oai_id}" if oai_id else ""}}
    if oac_id:
        origin["OriginAccessControlId"] = oac_id
    behaviour: dict[str, Any] = {
        "TargetOriginId": "uploads-bucket", "ViewerProtocolPolicy": "https-only",
        "CachePolicyId": CACHING_DISABLED, "Compress": False,
        "AllowedMethods": {"Quantity": len(ALL_METHODS), "Items": ALL_METHODS,
                           "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
    }
    if edge_version_arn:
        behaviour["LambdaFunctionAssociations"] = {"Quantity": 1, "Items": [{
            "LambdaFunctionARN": edge_version_arn, "EventType": "viewer-request", "IncludeBody": include_body}]}
    return {"CallerReference": f"{prefix}-{uuid.uuid4().hex[:8]}", "Comment": f"s3-upload-workbook {prefix}",
            "Enabled": enabled, "Origins": {"Quantity": 1, "Items": [origin]}, "DefaultCacheBehavior": behaviour}


@dataclass
class UploadDistribution:
    distribution_id: str
    arn: str
    domain_name: str
    etag: str
    url: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def create_upload_distribution(config: dict[str, Any], *, target: Any, prefix: str) -> UploadDistribution:
    """Create the distribution (tagged); ``url`` is where viewers send requests."""
    cf = target.client("cloudfront")
    created = cf.create_distribution_with_tags(DistributionConfigWithTags={
        "DistributionConfig": config,
        "Tags": {"Items": [{"Key": k, "Value": v} for k, v in tags(prefix).items()]}})
    dist = created["Distribution"]
    url = (f"{target.endpoint_url}/_aws/cloudfront/{dist['Id']}" if target.is_local
           else f"https://{dist['DomainName']}")
    return UploadDistribution(dist["Id"], dist["ARN"], dist["DomainName"], created["ETag"], url)


def wait_until_deployed(distribution_id: str, *, cf: Any, timeout: float = 1800) -> str:
    """Wait until the distribution's last change has reached every edge location (Status
    ``Deployed``; ``InProgress`` until then: a few minutes on AWS, seconds on the local AWS).
    Polls like botocore's ``distribution_deployed`` waiter, but from half a second up to every
    20 s, so that a short deployment is not waited for a minute. Returns the last status."""
    deadline, delay = time.monotonic() + timeout, 0.5
    while True:
        status = cf.get_distribution(Id=distribution_id)["Distribution"]["Status"]
        if status == "Deployed" or time.monotonic() + delay > deadline:
            return status
        time.sleep(delay)
        delay = min(delay * 1.5, 20.0)


def update_distribution(distribution_id: str, change: Any, *, cf: Any) -> str:
    """Read the config with its ETag, change it, write it back with If-Match; returns the new ETag."""
    current = cf.get_distribution_config(Id=distribution_id)
    config = current["DistributionConfig"]
    change(config)
    return cf.update_distribution(Id=distribution_id, IfMatch=current["ETag"], DistributionConfig=config)["ETag"]


def disable_and_delete_distribution(distribution_id: str, *, cf: Any, timeout: float = 1800) -> None:
    """A distribution can only be deleted once disabled *and* deployed (with its latest ETag):
    CloudFront answers ``DistributionNotDisabled`` while it is enabled, and also while the
    change that disabled it is still ``InProgress`` (for instance after an interrupted clean-up),
    so this always waits for ``Deployed`` first."""
    config = cf.get_distribution_config(Id=distribution_id)
    if config["DistributionConfig"]["Enabled"]:
        update_distribution(distribution_id, lambda c: c.update(Enabled=False), cf=cf)
    status = wait_until_deployed(distribution_id, cf=cf, timeout=timeout)
    if status != "Deployed":
        from ._errors import WorkbookError

        raise WorkbookError(f"distribution {distribution_id} is disabled but still {status} after "
                            f"{timeout:.0f} s: run the clean-up again in a few minutes")
    cf.delete_distribution(Id=distribution_id, IfMatch=cf.get_distribution(Id=distribution_id)["ETag"])


def delete_origin_access_identity(oai_id: str, *, cf: Any) -> None:
    etag = cf.get_cloud_front_origin_access_identity(Id=oai_id)["ETag"]
    cf.delete_cloud_front_origin_access_identity(Id=oai_id, IfMatch=etag)


# DeleteFunction's refusal while CloudFront still holds a function's Lambda@Edge replicas.
REPLICATED = "because it is a replicated function"


def is_replicated_refusal(err: Exception) -> bool:
    response = getattr(err, "response", None) or {}
    return (response.get("Error", {}).get("Code") == "InvalidParameterValueException"
            and REPLICATED in response.get("Error", {}).get("Message", ""))


def delete_edge_function(name: str, *, target: Any, patience: float = 120.0,
                         progress: Any = print) -> bool:
    """Delete a Lambda@Edge function (all its versions); False if it was already gone.

    CloudFront removes a function's replicas only after its last association is gone (the
    distribution deleted or changed), typically within a few hours on AWS; until then Lambda
    refuses with "... because it is a replicated function". This retries with growing waits
    (1 s up to 60 s), saying so through ``progress``, for up to ``patience`` seconds, then
    re-raises the refusal: run it (or the clean-up) again later."""
    lam = target.client("lambda", region=EDGE_REGION)
    started, delay = time.monotonic(), 1.0
    while True:
        try:
            lam.delete_function(FunctionName=name)
            return True
        except lam.exceptions.ResourceNotFoundException:
            return False
        except Exception as err:
            waited = time.monotonic() - started
            if not is_replicated_refusal(err) or waited + delay > patience:
                raise
        if progress is not None:
            progress(f"waiting for CloudFront to remove the replicas of {name}: {waited:.0f} s so far")
        time.sleep(delay)
        delay = min(delay * 2, 60.0)


@dataclass
class CloudFrontUpload:
    """Everything option 3 creates, as plain data."""

    prefix: str
    bucket: str
    function_name: str
    distribution: UploadDistribution
    oai_id: str | None = None
    oac_id: str | None = None

    @property
    def url(self) -> str:
        return self.distribution.url


def build_cloudfront_upload(target: Any, prefix: str, *, secret: str = "", access: str = "oac",
                            module: str = "edge_auth", substitutions: dict[str, str] | None = None,
                            bucket: str | None = None) -> CloudFrontUpload:
    """Option 3 in one call: bucket, origin identity with a put-only bucket policy, edge function
    (the shared-secret check, edge_jwt with ``secret`` as the HS256 key, or another module with
    its ``substitutions``, e.g. edge_cognito with ``cognito_substitutions(...)``), and the
    distribution. ``bucket``: an upload bucket the notebook already made, put behind the
    distribution instead of a new one (its bucket policy is replaced by the put-only one).

    ``access="oac"`` (origin access control, AWS's advice): CloudFront signs each origin request
    itself. ``access="oai"`` is the legacy origin access identity: S3 then takes a PUT only if the
    viewer sends ``x-amz-content-sha256`` with the body's SHA-256 (``oai_upload_headers``)."""
    from ._s3 import create_upload_bucket

    if access not in ("oai", "oac"):
        from ._errors import ConfigurationError

        raise ConfigurationError(f"access {access!r} is not one of oai, oac")
    s3, cf = target.client("s3"), target.client("cloudfront")
    if bucket is None:
        bucket = create_upload_bucket(f"{prefix}-uploads", s3=s3, prefix=prefix)["bucket"]
    if substitutions is None:
        substitutions = {"__SHARED_SECRET__" if module == "edge_auth" else "__JWT_KEY__": secret}
    edge = create_edge_function(f"{prefix}-edge", module=module, target=target, prefix=prefix,
                                substitutions=substitutions,
                                packages=("jwt",) if module == "edge_jwt" else ())
    oai_id = create_origin_access_identity(prefix, cf=cf)["oai_id"] if access == "oai" else None
    oac_id = create_origin_access_control(prefix, cf=cf) if access == "oac" else None
    config = distribution_config(prefix, bucket=bucket, region=target.region, oai_id=oai_id,
                                 oac_id=oac_id, edge_version_arn=edge["version_arn"])
    dist = create_upload_distribution(config, target=target, prefix=prefix)
    policy = oai_put_only_policy(bucket, oai_id) if oai_id else oac_put_only_policy(bucket, dist.arn)
    put_bucket_policy(bucket, policy, s3=s3)
    return CloudFrontUpload(prefix, bucket, edge["function_name"], dist, oai_id, oac_id)
