"""Option 2 in one call: a bucket, the presign function and its role, and an API that calls it.

Notebook 02 makes the same calls one by one; ``build_presign_api`` serves the tests, the
comparison notebook and anyone who wants the whole pattern at once.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote

from ._apigw import add_lambda_proxy, add_method, add_resource, create_rest_api, deploy_stage
from ._iam import create_service_role
from ._lambda import BASIC_EXECUTION_POLICY, allow_api_gateway, create_function
from ._s3 import create_upload_bucket

KEY_PREFIX = "uploads/"


def presign_role_policy(bucket: str, key_prefix: str = KEY_PREFIX) -> dict[str, Any]:
    """The function may sign uploads only: s3:PutObject under the prefix, nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "SignUploadsOnly", "Effect": "Allow", "Action": "s3:PutObject",
                       "Resource": f"arn:aws:s3:::{bucket}/{key_prefix}*"}],
    }


@dataclass
class PresignApi:
    prefix: str
    bucket: str
    role_name: str
    function_name: str
    function_arn: str
    api_id: str
    stage: str
    invoke_url: str

    def grant_url(self, key: str) -> str:
        return f"{self.invoke_url}/upload/{quote(key, safe='')}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_presign_api(target: Any, prefix: str, *, stage: str = "v1",
                      expires_seconds: int = 300) -> PresignApi:
    """Everything option 2 needs, created in order and tagged with ``prefix``."""
    s3, iam = target.client("s3"), target.client("iam")
    lam, apigw, sts = target.client("lambda"), target.client("apigateway"), target.client("sts")
    bucket = create_upload_bucket(f"{prefix}-uploads", s3=s3, prefix=prefix)["bucket"]
    role = create_service_role(f"{prefix}-presign", service="lambda.amazonaws.com",
                               policy=presign_role_policy(bucket), iam=iam, prefix=prefix,
                               managed_policies=(BASIC_EXECUTION_POLICY,))
    fn = create_function(f"{prefix}-presign", module="presign_upload", role_arn=role["role_arn"],
                         lam=lam, prefix=prefix,
                         environment={"UPLOAD_BUCKET": bucket,
                                      "URL_EXPIRES_SECONDS": str(expires_seconds),
                                      "KEY_PREFIX": KEY_PREFIX})
    api = create_rest_api(f"{prefix}-presign", apigw=apigw, prefix=prefix, binary_media_types=())
    upload_id = add_resource(api["api_id"], api["root_id"], "upload", apigw=apigw)
    object_id = add_resource(api["api_id"], upload_id, "{object}", apigw=apigw)
    add_method(api["api_id"], object_id, apigw=apigw, http_method="GET", headers=())
    add_lambda_proxy(api["api_id"], object_id, apigw=apigw, function_arn=fn["function_arn"],
                     region=target.region)
    account = sts.get_caller_identity()["Account"]
    allow_api_gateway(fn["function_name"], api_id=api["api_id"], region=target.region,
                      account=account, lam=lam, method="GET", path="upload/*")
    deployed = deploy_stage(api["api_id"], stage, apigw=apigw, target=target)
    return PresignApi(prefix, bucket, role["role_name"], fn["function_name"], fn["function_arn"],
                      api["api_id"], stage, deployed["invoke_url"])
