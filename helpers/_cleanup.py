"""Clean-up: find what the workbook created (by its tags and name prefix) and delete it in an
order AWS accepts: distributions (disabled first), API keys and usage plans, APIs, functions
and their log groups, origin identities, roles, then buckets (emptied first)."""
from __future__ import annotations

from typing import Any, Callable

from ._apigw import delete_rest_api
from ._cloudfront import delete_origin_access_identity, disable_and_delete_distribution
from ._iam import delete_role
from ._lambda import delete_function
from ._names import PREFIX_TAG_KEY, TAG_KEY, TAG_VALUE
from ._s3 import empty_and_delete_bucket


def _ours(tags: dict[str, str] | None, prefix: str | None) -> bool:
    tags = tags or {}
    return tags.get(TAG_KEY) == TAG_VALUE and (prefix is None or tags.get(PREFIX_TAG_KEY) == prefix)


def find_resources(target: Any, prefix: str | None = None) -> dict[str, list[str]]:
    """Everything tagged by the workbook (under ``prefix``, or all prefixes): a dry run."""
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
                if prefix and not fn["FunctionName"].startswith(prefix):
                    continue
                if _ours(region_lam.list_tags(Resource=fn["FunctionArn"]).get("Tags"), prefix):
                    found["functions"].append(fn["FunctionArn"])
    # Lambda creates its log groups itself, untagged: they are found by the functions' names
    # (Lambda@Edge adds a us-east-1. prefix).
    for arn in found["functions"]:
        name, region = arn.split(":")[6], arn.split(":")[3]
        region_logs = target.client("logs", region=region)
        for group in (f"/aws/lambda/{name}", f"/aws/lambda/us-east-1.{name}"):
            if any(g["logGroupName"] == group for g in
                   region_logs.describe_log_groups(logGroupNamePrefix=group).get("logGroups", [])):
                found["log_groups"].append(f"{region}:{group}")
    for page in iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            if prefix and not role["RoleName"].startswith(prefix):
                continue
            role_tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role["RoleName"])["Tags"]}
            if _ours(role_tags, prefix):
                found["roles"].append(role["RoleName"])
    for bucket in s3.list_buckets().get("Buckets", []):
        if prefix and not bucket["Name"].startswith(prefix):
            continue
        try:
            tag_set = s3.get_bucket_tagging(Bucket=bucket["Name"])["TagSet"]
        except s3.exceptions.ClientError:
            continue
        if _ours({t["Key"]: t["Value"] for t in tag_set}, prefix):
            found["buckets"].append(bucket["Name"])
    return found


def delete_resources(target: Any, found: dict[str, list[str]]) -> dict[str, int]:
    """Delete what ``find_resources`` listed, in dependency order; returns how many of each
    kind were deleted.

    A failure does not stop the rest: on AWS, for example, an edge function cannot be deleted
    until CloudFront has removed its replicas (hours after the distribution). What could not
    be deleted is listed under ``"left behind"`` with the reason, to retry later."""
    s3, iam, apigw = target.client("s3"), target.client("iam"), target.client("apigateway")
    cf = target.client("cloudfront")
    counts: dict[str, Any] = {kind: 0 for kind in found}
    failures: list[str] = []

    def each(kind: str, delete: Callable[[str], Any]) -> None:
        for item in found.get(kind, []):
            try:
                deleted = delete(item)
            except Exception as err:  # keep going; report it
                failures.append(f"{kind} {item}: {err}")
                continue
            counts[kind] += int(deleted) if isinstance(deleted, (bool, int)) else 1

    def usage_plan(plan_id: str) -> None:
        for key in apigw.get_usage_plan_keys(usagePlanId=plan_id).get("items", []):
            apigw.delete_usage_plan_key(usagePlanId=plan_id, keyId=key["id"])
        apigw.delete_usage_plan(usagePlanId=plan_id)

    def log_group(entry: str) -> int:
        region, group = entry.split(":", 1)
        logs = target.client("logs", region=region)
        try:
            logs.delete_log_group(logGroupName=group)
            return 1
        except logs.exceptions.ResourceNotFoundException:
            return 0

    def bucket(name: str) -> None:
        empty_and_delete_bucket(name, s3=s3)

    each("distributions", lambda d: disable_and_delete_distribution(d, cf=cf))
    each("usage_plans", usage_plan)
    each("api_keys", lambda k: apigw.delete_api_key(apiKey=k))
    each("rest_apis", lambda a: delete_rest_api(a, apigw=apigw))
    each("functions", lambda arn: delete_function(
        arn.split(":")[6], lam=target.client("lambda", region=arn.split(":")[3])))
    each("log_groups", log_group)
    each("origin_access_identities", lambda i: delete_origin_access_identity(i, cf=cf))
    each("origin_access_controls", lambda i: cf.delete_origin_access_control(
        Id=i, IfMatch=cf.get_origin_access_control(Id=i)["ETag"]))
    each("roles", lambda r: delete_role(r, iam=iam))
    each("buckets", bucket)
    if failures:
        counts["left behind"] = failures
    return counts


def clean_up(target: Any, prefix: str) -> dict[str, int]:
    """Find and delete everything created under ``prefix``."""
    return delete_resources(target, find_resources(target, prefix))
