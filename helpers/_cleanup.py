"""Clean-up: find what the workbook created (by its tags and name prefix) and delete it in an
order AWS accepts: distributions (disabled first), API keys and usage plans, APIs, functions
(edge functions only after the distributions using them) and their log groups, origin
identities, roles, then buckets (incomplete multipart uploads aborted, emptied first).

    found = find_resources(target)            # everything tagged by the workbook: a dry run
    delete_resources(target, found)           # raises CleanUpIncomplete if something stayed
"""
from __future__ import annotations

from typing import Any

from ._apigw import delete_rest_api, delete_usage_plan, within_quota
from ._cloudfront import (delete_origin_access_identity, disable_and_delete_distribution,
                          is_replicated_refusal)
from ._cognito import delete_user_pool
from ._errors import WorkbookError
from ._iam import delete_role
from ._lambda import delete_function, edge_log_groups
from ._names import DEFAULT_NAME_START, PREFIX_TAG_KEY, TAG_KEY, TAG_VALUE
from ._s3 import empty_and_delete_bucket


class CleanUpIncomplete(WorkbookError):
    """Some resources could not be deleted; ``counts`` says what was, ``errors`` what was not
    (as ``(kind, id, message)``). Everything else was still deleted: run the clean-up again."""

    def __init__(self, counts: dict[str, int], errors: list[tuple[str, str, str]]) -> None:
        self.counts = counts
        self.errors = errors
        lines = "\n".join(f"  {kind} {ident}: {message}" for kind, ident, message in errors)
        super().__init__(f"{len(errors)} resource(s) not deleted; the rest were:\n{lines}")


# What to do when Lambda@Edge functions outlast the clean-up's patience.
_REPLICAS_ADVICE = ("Lambda@Edge: CloudFront removes a function's replicas after its last "
                    "distribution is gone, typically within a few hours on AWS; run the clean-up "
                    "again later (08_clean_up), or wb.delete_edge_function(name, target=..., "
                    "patience=...)")


def _in_scope(name: str, prefix: str | None) -> bool:
    """Whether a resource name may be the workbook's: under ``prefix``, or with no prefix under
    ``s3wb-``, the names the README's least-privilege policy covers. Tags are read only for
    these: on AWS, reading another role's or function's tags is refused under that policy."""
    return name.startswith(prefix if prefix else DEFAULT_NAME_START)


def _ours(tags: dict[str, str] | None, prefix: str | None) -> bool:
    tags = tags or {}
    return tags.get(TAG_KEY) == TAG_VALUE and (prefix is None or tags.get(PREFIX_TAG_KEY) == prefix)


def find_resources(target: Any, prefix: str | None = None) -> dict[str, list[str]]:
    """Everything tagged by the workbook under ``prefix``: a dry run. Without a prefix, every
    prefix the workbook chose itself (``s3wb-...``); resources under a prefix you chose with
    ``unique_prefix("...")`` are found by passing that prefix."""
    s3, iam, apigw = target.client("s3"), target.client("iam"), target.client("apigateway")
    lam, logs, cf = target.client("lambda"), target.client("logs"), target.client("cloudfront")
    found: dict[str, list[str]] = {"distributions": [], "usage_plans": [], "api_keys": [],
                                   "rest_apis": [], "functions": [], "log_groups": [],
                                   "origin_access_identities": [], "origin_access_controls": [],
                                   "roles": [], "buckets": []}
    for dist in (cf.list_distributions().get("DistributionList", {}).get("Items") or []):
        dist_tags = {t["Key"]: t["Value"] for t in
                     cf.list_tags_for_resource(Resource=dist["ARN"])["Tags"].get("Items", [])}
        if _ours(dist_tags, prefix):
            found["distributions"].append(dist["Id"])
    # OAIs and OACs take no tags: the comment or name carries the prefix.
    for oai in (cf.list_cloud_front_origin_access_identities()["CloudFrontOriginAccessIdentityList"].get("Items") or []):
        if oai["Comment"].startswith("s3-upload-workbook") and (prefix is None or oai["Comment"].endswith(" " + prefix)):
            found["origin_access_identities"].append(oai["Id"])
    for oac in (cf.list_origin_access_controls()["OriginAccessControlList"].get("Items") or []):
        if oac.get("Description") == "s3-upload-workbook" and (prefix is None or oac["Name"] == f"{prefix}-oac"):
            found["origin_access_controls"].append(oac["Id"])
    for plan in apigw.get_usage_plans(limit=500).get("items", []):
        if _ours(plan.get("tags"), prefix):
            found["usage_plans"].append(plan["id"])
    for key in apigw.get_api_keys(limit=500).get("items", []):
        if _ours(key.get("tags"), prefix):
            found["api_keys"].append(key["id"])
    for api in apigw.get_rest_apis(limit=500).get("items", []):
        if _ours(api.get("tags"), prefix):
            found["rest_apis"].append(api["id"])
    # Functions in the target region, and Lambda@Edge functions, which live in us-east-1.
    for region in dict.fromkeys([target.region, "us-east-1"]):
        region_lam = target.client("lambda", region=region)
        for page in region_lam.get_paginator("list_functions").paginate():
            for fn in page["Functions"]:
                if not _in_scope(fn["FunctionName"], prefix):
                    continue
                if _ours(region_lam.list_tags(Resource=fn["FunctionArn"]).get("Tags"), prefix):
                    found["functions"].append(fn["FunctionArn"])
    # Lambda creates its log groups itself, untagged: they are found by the functions' names.
    # A Lambda@Edge function logs as us-east-1.NAME in the Region of each edge location that ran
    # it, so those groups are looked for in every Region.
    for arn in found["functions"]:
        name, region = arn.split(":")[6], arn.split(":")[3]
        region_logs = target.client("logs", region=region)
        group = f"/aws/lambda/{name}"
        if any(g["logGroupName"] == group for g in
               region_logs.describe_log_groups(logGroupNamePrefix=group).get("logGroups", [])):
            found["log_groups"].append(f"{region}:{group}")
    edge_candidates = [arn.split(":")[6] for arn in found["functions"] if arn.split(":")[3] == "us-east-1"]
    found["log_groups"] += [f"{r}:{g}" for r, g in edge_log_groups(edge_candidates, target=target)]
    # The local AWS always writes API Gateway execution logs (AWS only when enabled on the stage).
    for api_id in found["rest_apis"]:
        prefix_name = f"API-Gateway-Execution-Logs_{api_id}/"
        for group in logs.describe_log_groups(logGroupNamePrefix=prefix_name).get("logGroups", []):
            found["log_groups"].append(f"{target.region}:{group['logGroupName']}")
    # Cognito user pools: found by name (the prefix), confirmed by their tags. Listed only when
    # there are some, so the answers of the notebooks that make none stay as they were.
    idp = target.client("cognito-idp")
    pools = []
    for page in idp.get_paginator("list_user_pools").paginate(MaxResults=60):
        for pool in page["UserPools"]:
            if _in_scope(pool["Name"], prefix) and _ours(
                    idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"].get("UserPoolTags"), prefix):
                pools.append(pool["Id"])
    if pools:
        found["user_pools"] = pools
    for page in iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            if not _in_scope(role["RoleName"], prefix):
                continue
            role_tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role["RoleName"])["Tags"]}
            if _ours(role_tags, prefix):
                found["roles"].append(role["RoleName"])
    for bucket in s3.list_buckets().get("Buckets", []):
        if not _in_scope(bucket["Name"], prefix):
            continue
        try:
            tag_set = s3.get_bucket_tagging(Bucket=bucket["Name"])["TagSet"]
        except s3.exceptions.ClientError:
            continue
        if _ours({t["Key"]: t["Value"] for t in tag_set}, prefix):
            found["buckets"].append(bucket["Name"])
    return found


def delete_resources(target: Any, found: dict[str, list[str]], *, replica_patience: float = 120.0,
                     progress: Any = print) -> dict[str, int]:
    """Delete what ``find_resources`` listed, in an order AWS accepts; returns how many of each
    kind were deleted. A failure does not stop the rest: it is collected, and at the end
    ``CleanUpIncomplete`` names what stayed.

    Lambda@Edge functions whose replicas CloudFront has not removed yet ("... because it is a
    replicated function") are tried again after everything else, with growing waits (1 s up to
    60 s) for up to ``replica_patience`` seconds in all, each wait reported through
    ``progress``; those still refused then are named, with what to do next."""
    s3, iam, apigw = target.client("s3"), target.client("iam"), target.client("apigateway")
    cf = target.client("cloudfront")
    counts = {kind: 0 for kind in found}
    errors: list[tuple[str, str, str]] = []

    replicated: dict[str, Any] = {}  # function ARN -> its deletion, to try again at the end

    def attempt(kind: str, ident: str, delete: Any) -> None:
        try:
            done = delete()
        except Exception as err:  # keep going: one stuck resource must not strand the others
            if kind == "functions" and is_replicated_refusal(err):
                replicated[ident] = delete
                return
            errors.append((kind, ident, str(err)))
            return
        counts[kind] += 0 if done is False else 1  # False: it was already gone

    def delete_log_group(entry: str) -> bool:
        region, group = entry.split(":", 1)
        logs = target.client("logs", region=region)
        try:
            logs.delete_log_group(logGroupName=group)
        except logs.exceptions.ResourceNotFoundException:
            return False
        return True

    # Distributions first: an edge function, an origin identity or a bucket in use by one
    # cannot go. Each is disabled, deployed, then deleted.
    for dist_id in found.get("distributions", []):
        attempt("distributions", dist_id, lambda: disable_and_delete_distribution(dist_id, cf=cf))
    for plan_id in found.get("usage_plans", []):
        attempt("usage_plans", plan_id, lambda: delete_usage_plan(plan_id, apigw=apigw))
    for key_id in found.get("api_keys", []):
        attempt("api_keys", key_id, lambda: within_quota(apigw.delete_api_key, apiKey=key_id))
    for api_id in found.get("rest_apis", []):
        attempt("rest_apis", api_id, lambda: delete_rest_api(api_id, apigw=apigw))
    for pool_id in found.get("user_pools", []):
        attempt("user_pools", pool_id, lambda: delete_user_pool(pool_id, idp=target.client("cognito-idp")))
    for arn in found.get("functions", []):
        name, region = arn.split(":")[6], arn.split(":")[3]
        attempt("functions", arn, lambda name=name, region=region: delete_function(
            name, lam=target.client("lambda", region=region)))  # bound now: it may be retried later
    for entry in found.get("log_groups", []):
        attempt("log_groups", entry, lambda: delete_log_group(entry))
    for oai_id in found.get("origin_access_identities", []):
        attempt("origin_access_identities", oai_id, lambda: delete_origin_access_identity(oai_id, cf=cf))
    for oac_id in found.get("origin_access_controls", []):
        attempt("origin_access_controls", oac_id, lambda: cf.delete_origin_access_control(
            Id=oac_id, IfMatch=cf.get_origin_access_control(Id=oac_id)["ETag"]))
    for role in found.get("roles", []):
        attempt("roles", role, lambda: delete_role(role, iam=iam))
    # Buckets last: unfinished multipart uploads aborted, every object version deleted, then the bucket.
    for bucket in found.get("buckets", []):
        attempt("buckets", bucket, lambda: empty_and_delete_bucket(bucket, s3=s3) is not None)
    _delete_replicated(replicated, counts, errors, patience=replica_patience, progress=progress)
    if errors:
        raise CleanUpIncomplete(counts, errors)
    return counts


def _delete_replicated(pending: dict[str, Any], counts: dict[str, int],
                       errors: list[tuple[str, str, str]], *, patience: float, progress: Any) -> None:
    """Try the functions CloudFront still held replicas of again, with growing waits."""
    import time

    started, delay = time.monotonic(), 1.0
    while pending:
        waited = time.monotonic() - started
        if waited + delay > patience:
            break
        if progress is not None:
            names = ", ".join(arn.split(":")[6] for arn in pending)
            progress(f"waiting for CloudFront to remove the replicas of {names}: {waited:.0f} s so far")
        time.sleep(delay)
        delay = min(delay * 2, 60.0)
        for arn, delete in list(pending.items()):
            try:
                done = delete()
            except Exception as err:
                if not is_replicated_refusal(err):
                    errors.append(("functions", arn, str(err)))
                    del pending[arn]
                continue
            counts["functions"] += 0 if done is False else 1
            del pending[arn]
    for arn in pending:
        errors.append(("functions", arn, f"still replicated after {patience:.0f} s. {_REPLICAS_ADVICE}"))


def clean_up(target: Any, prefix: str, *, replica_patience: float = 120.0,
             progress: Any = print) -> dict[str, int]:
    """Find and delete everything created under ``prefix`` (see ``delete_resources``)."""
    return delete_resources(target, find_resources(target, prefix),
                            replica_patience=replica_patience, progress=progress)
