"""Clean-up: find what the workbook created (by its tags and name prefix) and delete it in an
order AWS accepts: API keys and usage plans, APIs, functions and their log groups, roles, then
buckets (emptied first)."""
from __future__ import annotations

from typing import Any

from ._apigw import delete_rest_api
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
    lam, logs = target.client("lambda"), target.client("logs")
    found: dict[str, list[str]] = {"usage_plans": [], "api_keys": [], "rest_apis": [],
                                   "functions": [], "log_groups": [], "roles": [], "buckets": []}
    for plan in apigw.get_usage_plans(limit=500).get("items", []):
        if _ours(plan.get("tags"), prefix):
            found["usage_plans"].append(plan["id"])
    for key in apigw.get_api_keys(limit=500).get("items", []):
        if _ours(key.get("tags"), prefix):
            found["api_keys"].append(key["id"])
    for api in apigw.get_rest_apis(limit=500).get("items", []):
        if _ours(api.get("tags"), prefix):
            found["rest_apis"].append(api["id"])
    for page in lam.get_paginator("list_functions").paginate():
        for fn in page["Functions"]:
            if prefix and not fn["FunctionName"].startswith(prefix):
                continue
            if _ours(lam.list_tags(Resource=fn["FunctionArn"]).get("Tags"), prefix):
                found["functions"].append(fn["FunctionName"])
    # Lambda creates its log groups itself, untagged: they are found by the functions' names.
    for name in found["functions"]:
        group = f"/aws/lambda/{name}"
        if logs.describe_log_groups(logGroupNamePrefix=group).get("logGroups"):
            found["log_groups"].append(group)
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
    """Delete what ``find_resources`` listed; returns how many of each kind were deleted."""
    s3, iam, apigw = target.client("s3"), target.client("iam"), target.client("apigateway")
    lam, logs = target.client("lambda"), target.client("logs")
    counts = {kind: 0 for kind in found}
    for plan_id in found.get("usage_plans", []):
        plan_keys = apigw.get_usage_plan_keys(usagePlanId=plan_id).get("items", [])
        for key in plan_keys:
            apigw.delete_usage_plan_key(usagePlanId=plan_id, keyId=key["id"])
        apigw.delete_usage_plan(usagePlanId=plan_id)
        counts["usage_plans"] += 1
    for key_id in found.get("api_keys", []):
        apigw.delete_api_key(apiKey=key_id)
        counts["api_keys"] += 1
    for api_id in found.get("rest_apis", []):
        counts["rest_apis"] += delete_rest_api(api_id, apigw=apigw)
    for name in found.get("functions", []):
        counts["functions"] += delete_function(name, lam=lam)
    for group in found.get("log_groups", []):
        try:
            logs.delete_log_group(logGroupName=group)
            counts["log_groups"] += 1
        except logs.exceptions.ResourceNotFoundException:
            pass
    for role in found.get("roles", []):
        counts["roles"] += delete_role(role, iam=iam)
    for bucket in found.get("buckets", []):
        empty_and_delete_bucket(bucket, s3=s3)
        counts["buckets"] += 1
    return counts


def clean_up(target: Any, prefix: str) -> dict[str, int]:
    """Find and delete everything created under ``prefix``."""
    return delete_resources(target, find_resources(target, prefix))
