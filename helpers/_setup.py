"""Notebook 00's checks: the Python environment, who you are on AWS, and whether you may do what
the workbook does. Everything returns plain data (dicts and lists) that a notebook can print.

    wb.check_environment()["ok"]
    wb.check_permissions(target)      # iam:SimulatePrincipalPolicy over WORKBOOK_POLICY's actions
    print(json.dumps(wb.workbook_policy(), indent=2))   # the IAM policy the README lists
"""
from __future__ import annotations

import platform
import re
import sys
from importlib import metadata
from typing import Any

DISTRIBUTION = "s3-upload-workbook"
# The packages a learner would be asked about first, with their import-free distribution names.
KEY_PACKAGES = ("boto3", "botocore", "moto", "jupyterlab", "ipywidgets", "papermill", "nbval",
                "matplotlib", "requests", "pyjwt")

# What the workbook's helpers call, grouped by the resources they touch. Names start with
# s3wb- (wb.unique_prefix); the actions that cannot be scoped by resource are listed with "*".
_P = "s3wb-*"
_STATEMENTS: list[dict[str, Any]] = [
    {"Sid": "Buckets", "Action": [
        "s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketPublicAccessBlock",
        "s3:GetBucketPublicAccessBlock", "s3:PutEncryptionConfiguration", "s3:PutBucketTagging",
        "s3:GetBucketTagging",
        "s3:PutBucketPolicy", "s3:PutBucketCORS", "s3:PutLifecycleConfiguration", "s3:ListBucket",
        "s3:ListBucketVersions", "s3:ListBucketMultipartUploads"],
     "Resource": [f"arn:aws:s3:::{_P}"], "example": "arn:aws:s3:::s3wb-example-uploads"},
    {"Sid": "Objects", "Action": [
        "s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:DeleteObjectVersion",
        "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
     "Resource": [f"arn:aws:s3:::{_P}/*"], "example": "arn:aws:s3:::s3wb-example-uploads/uploads/a.bin"},
    {"Sid": "FindBuckets", "Action": ["s3:ListAllMyBuckets"], "Resource": ["*"], "example": "*"},
    {"Sid": "Roles", "Action": [
        "iam:CreateRole", "iam:TagRole", "iam:GetRole", "iam:DeleteRole", "iam:PutRolePolicy",
        "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
        "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListRoleTags", "iam:PassRole"],
     "Resource": [f"arn:aws:iam::*:role/{_P}"], "example": "arn:aws:iam::{account}:role/s3wb-example"},
    {"Sid": "FindRoles", "Action": ["iam:ListRoles", "iam:SimulatePrincipalPolicy"],
     "Resource": ["*"], "example": "*"},
    {"Sid": "EdgeServiceLinkedRoles", "Action": ["iam:CreateServiceLinkedRole"],
     "Resource": ["arn:aws:iam::*:role/aws-service-role/replicator.lambda.amazonaws.com/*",
                  "arn:aws:iam::*:role/aws-service-role/logger.cloudfront.amazonaws.com/*"],
     "example": "arn:aws:iam::{account}:role/aws-service-role/replicator.lambda.amazonaws.com/AWSServiceRoleForLambdaReplicator"},
    {"Sid": "Functions", "Action": [
        "lambda:CreateFunction", "lambda:TagResource", "lambda:ListTags", "lambda:GetFunction",
        "lambda:GetFunctionConfiguration", "lambda:UpdateFunctionCode",
        "lambda:UpdateFunctionConfiguration", "lambda:PublishVersion", "lambda:AddPermission",
        "lambda:InvokeFunction", "lambda:DeleteFunction", "lambda:EnableReplication*",
        "lambda:DisableReplication*"],
     "Resource": [f"arn:aws:lambda:*:*:function:{_P}"],
     "example": "arn:aws:lambda:{region}:{account}:function:s3wb-example"},
    {"Sid": "FindFunctions", "Action": ["lambda:ListFunctions"], "Resource": ["*"], "example": "*"},
    {"Sid": "FunctionLogs", "Action": ["logs:DescribeLogStreams", "logs:GetLogEvents", "logs:DeleteLogGroup"],
     "Resource": [f"arn:aws:logs:*:*:log-group:/aws/lambda/{_P}",
                  f"arn:aws:logs:*:*:log-group:/aws/lambda/us-east-1.{_P}",
                  "arn:aws:logs:*:*:log-group:API-Gateway-Execution-Logs_*"],
     "example": "arn:aws:logs:{region}:{account}:log-group:/aws/lambda/s3wb-example"},
    {"Sid": "FindLogs", "Action": ["logs:DescribeLogGroups"], "Resource": ["*"], "example": "*"},
    {"Sid": "RestApis", "Action": [
        "apigateway:GET", "apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE"],
     "Resource": ["arn:aws:apigateway:*::/restapis", "arn:aws:apigateway:*::/restapis/*",
                  "arn:aws:apigateway:*::/apikeys", "arn:aws:apigateway:*::/apikeys/*",
                  "arn:aws:apigateway:*::/usageplans", "arn:aws:apigateway:*::/usageplans/*",
                  "arn:aws:apigateway:*::/tags/*"],
     "example": "arn:aws:apigateway:{region}::/restapis"},
    # User pool ids are chosen by Cognito ({region}_{random}): pools are named s3wb-... and
    # tagged, but an ARN cannot name them in advance. SignUp and InitiateAuth are also
    # called without credentials by apps; the workbook calls them with its own.
    {"Sid": "UserPools", "Action": [
        "cognito-idp:CreateUserPool", "cognito-idp:DescribeUserPool", "cognito-idp:DeleteUserPool",
        "cognito-idp:ListUserPools", "cognito-idp:CreateUserPoolClient", "cognito-idp:SignUp",
        "cognito-idp:AdminConfirmSignUp", "cognito-idp:InitiateAuth", "cognito-idp:TagResource"],
     "Resource": ["*"], "example": "*"},
    # CloudFront's resource-level permissions name distribution ids, unknown before creation.
    {"Sid": "CloudFront", "Action": [
        "cloudfront:CreateDistribution", "cloudfront:TagResource", "cloudfront:GetDistribution",
        "cloudfront:GetDistributionConfig", "cloudfront:UpdateDistribution",
        "cloudfront:DeleteDistribution", "cloudfront:ListDistributions",
        "cloudfront:ListTagsForResource", "cloudfront:CreateCloudFrontOriginAccessIdentity",
        "cloudfront:GetCloudFrontOriginAccessIdentity",
        "cloudfront:DeleteCloudFrontOriginAccessIdentity",
        "cloudfront:ListCloudFrontOriginAccessIdentities", "cloudfront:CreateOriginAccessControl",
        "cloudfront:GetOriginAccessControl", "cloudfront:DeleteOriginAccessControl",
        "cloudfront:ListOriginAccessControls"],
     "Resource": ["*"], "example": "*"},
]


def workbook_policy() -> dict[str, Any]:
    """The IAM policy with exactly the actions the workbook's helpers call (the README lists it).

        json.dump(workbook_policy(), open("policy.json", "w"), indent=2)
        # aws iam put-user-policy --user-name learner --policy-name s3-upload-workbook \
        #     --policy-document file://policy.json
    """
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": s["Sid"], "Effect": "Allow", "Action": list(s["Action"]), "Resource": list(s["Resource"])}
        for s in _STATEMENTS]}


def create_workbook_user(target: Any, user_name: str = "s3wb-learner", *, iam: Any = None) -> dict[str, str]:
    """An IAM user holding exactly ``workbook_policy()`` (inline), with a new access key: run
    it as an administrator, then run the workbook with that key to see least privilege at
    work. Older keys of the user are deleted (a user may have two).

        keys = wb.create_workbook_user(target)
        # WORKBOOK_ACCESS_KEY_ID / WORKBOOK_SECRET_ACCESS_KEY for the local AWS,
        # or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY for your account

    Returns ``{"user_arn", "access_key_id", "secret_access_key"}``. New IAM credentials and
    policies take a few seconds to work everywhere (IAM is eventually consistent)."""
    import json

    iam = iam or target.client("iam")
    try:
        arn = iam.create_user(UserName=user_name)["User"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        arn = iam.get_user(UserName=user_name)["User"]["Arn"]
    iam.put_user_policy(UserName=user_name, PolicyName="s3-upload-workbook",
                        PolicyDocument=json.dumps(workbook_policy()))
    for old in iam.list_access_keys(UserName=user_name)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=user_name, AccessKeyId=old["AccessKeyId"])
    key = iam.create_access_key(UserName=user_name)["AccessKey"]
    return {"user_arn": arn, "access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}


def workbook_actions() -> list[str]:
    """Every action in ``workbook_policy()``, sorted."""
    return sorted({a for s in _STATEMENTS for a in s["Action"]})


def check_environment() -> dict[str, Any]:
    """Python and the key packages: what is installed against what the workbook pins.

        {"python": "3.11.9", "python_ok": True, "ok": True,
         "packages": [{"package": "boto3", "required": "==1.44.8", "installed": "1.44.8", "ok": True}, ...]}
    """
    required = _requirements()
    packages = []
    for name in KEY_PACKAGES:
        spec = required.get(name, "")
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        packages.append({"package": name, "required": spec or "(any)", "installed": installed,
                         "ok": installed is not None and _satisfies(installed, spec)})
    python_ok = sys.version_info >= (3, 11)
    return {"python": platform.python_version(), "python_ok": python_ok, "packages": packages,
            "ok": python_ok and all(p["ok"] for p in packages)}


def _requirements() -> dict[str, str]:
    try:
        lines = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return {}
    found = {}
    for line in lines:
        match = re.match(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*([^;]*)", line)
        if match:
            found[match.group(1).lower()] = match.group(3).strip()
    return found


def _satisfies(version: str, spec: str) -> bool:
    if not spec:
        return True
    try:
        from packaging.specifiers import SpecifierSet

        return version in SpecifierSet(spec)
    except Exception:  # packaging missing or an odd spec: do not block the learner on it
        return True


def caller_identity(target: Any) -> dict[str, str]:
    """Who the calls run as: account, ARN and region (sts:GetCallerIdentity needs no permission)."""
    who = target.client("sts").get_caller_identity()
    return {"account": who["Account"], "arn": who["Arn"], "region": target.region, "target": target.name}


def principal_arn(arn: str, *, iam: Any) -> str:
    """The IAM ARN the simulator takes: an assumed-role session becomes its role, with the
    role's path (an IAM Identity Center role lives under ``/aws-reserved/sso.amazonaws.com/``,
    and the simulator refuses the ARN without it). The path is not in the session ARN, so it is
    looked up with ListRoles, which the workbook's policy allows on every role."""
    match = re.match(r"arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([^/]+)/", arn)
    if not match:
        return arn
    name = match.group(3)
    for page in iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            if role["RoleName"] == name:
                return role["Arn"]
    return f"arn:{match.group(1)}:iam::{match.group(2)}:role/{name}"


def check_permissions(target: Any, *, iam: Any = None) -> dict[str, Any]:
    """Simulate the workbook's actions for the caller (iam:SimulatePrincipalPolicy).

    Returns ``{"checked": bool, "principal", "allowed": [...], "denied": [...], "reason"}``.
    Identity policies are evaluated against example resources named like the workbook's
    (s3wb-...); SCPs and permission boundaries may still refuse later. If the simulation itself
    is not allowed, ``checked`` is False and ``reason`` says why: the notebooks will still tell
    you, action by action, with AWS's AccessDenied.
    """
    identity = caller_identity(target)
    result: dict[str, Any] = {"checked": False, "principal": identity["arn"], "allowed": [],
                              "denied": [], "reason": ""}
    if identity["arn"].endswith(":root"):
        result["reason"] = (
            "the local AWS's test/test credentials are the account root, allowed everything "
            "(helpers.create_workbook_user makes a user with only the workbook's policy)"
            if target.is_local else
            "you are signed in as the account root, allowed everything: prefer an "
            "IAM user or role with the workbook's policy (README, 'Real AWS')")
        result["allowed"] = workbook_actions()
        return result
    iam = iam or target.client("iam")
    try:
        principal = principal_arn(identity["arn"], iam=iam)
        result["principal"] = principal
        for statement in _STATEMENTS:
            resource = statement["example"].format(account=identity["account"], region=target.region)
            actions = [a.rstrip("*") for a in statement["Action"]]  # lambda:EnableReplication*
            pages = iam.get_paginator("simulate_principal_policy").paginate(
                PolicySourceArn=principal, ActionNames=actions, ResourceArns=[resource])
            for page in pages:
                for evaluation in page["EvaluationResults"]:
                    bucket = "allowed" if evaluation["EvalDecision"] == "allowed" else "denied"
                    result[bucket].append(evaluation["EvalActionName"])
    except Exception as err:  # AccessDenied on the simulation itself, or a principal it cannot take
        code = getattr(err, "response", {}).get("Error", {}).get("Code", err.__class__.__name__)
        result.update(allowed=[], denied=[],
                      reason=f"could not simulate ({code}): the notebooks will show any refusal as it happens")
        return result
    result["checked"] = True
    result["allowed"].sort()
    result["denied"].sort()
    return result
