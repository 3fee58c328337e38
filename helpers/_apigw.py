"""API Gateway steps for option 1: a REST API that proxies ``PUT /upload/{object}`` to S3.

Each function makes one or two boto3 calls and returns plain data; ``build_s3_proxy_api`` runs
them all in order, as the notebook does step by step.
"""
from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable

from ._errors import ConfigurationError
from ._names import tags

# API Gateway limits some control-plane calls per account: one CreateRestApi every 3 s, one
# CreateDeployment every 5 s, one DeleteRestApi every 30 s, one UpdateUsagePlan every 20 s
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html; not adjustable).
# botocore retries a throttled call only briefly, so these steps wait as long as API Gateway's
# Retry-After says, up to QUOTA_PATIENCE seconds in all.
QUOTA_PATIENCE = 150.0


def within_quota(call: Callable[..., Any], /, **kwargs: Any) -> Any:
    """``call(**kwargs)``, waiting and trying again while API Gateway answers
    TooManyRequestsException (429), for as long as its Retry-After header asks."""
    deadline = time.monotonic() + QUOTA_PATIENCE
    while True:
        try:
            return call(**kwargs)
        except Exception as err:
            response = getattr(err, "response", None) or {}
            if response.get("Error", {}).get("Code") != "TooManyRequestsException":
                raise
            headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
            try:
                wait = float(headers.get("retry-after") or 1)
            except ValueError:
                wait = 1.0
            wait += random.uniform(0, 0.25)  # others may be waiting for the same quota
            if time.monotonic() + wait > deadline:
                raise
            time.sleep(wait)


def create_rest_api(name: str, *, apigw: Any, prefix: str,
                    binary_media_types: tuple[str, ...] = ("*/*",)) -> dict[str, str]:
    """Create a REST API. ``*/*`` makes every request body binary: without it API Gateway treats
    bodies as UTF-8 text and uploaded files arrive corrupted."""
    api = within_quota(
        apigw.create_rest_api,
        name=name,
        description="s3-upload-workbook: PUT /upload/{object} stores the body in S3",
        binaryMediaTypes=list(binary_media_types),
        endpointConfiguration={"types": ["REGIONAL"]},
        tags=tags(prefix),
    )
    return {"api_id": api["id"], "root_id": api["rootResourceId"]}


def set_binary_media_types(api_id: str, media_types: tuple[str, ...], *, apigw: Any) -> list[str]:
    """Replace the API's binary media types (JSON-patch paths escape '/' as '~1'); redeploy after."""
    current = apigw.get_rest_api(restApiId=api_id).get("binaryMediaTypes", [])
    ops = [{"op": "remove", "path": "/binaryMediaTypes/" + t.replace("/", "~1")} for t in current]
    ops += [{"op": "add", "path": "/binaryMediaTypes/" + t.replace("/", "~1")} for t in media_types]
    if ops:
        apigw.update_rest_api(restApiId=api_id, patchOperations=ops)
    return apigw.get_rest_api(restApiId=api_id).get("binaryMediaTypes", [])


def add_resource(api_id: str, parent_id: str, path_part: str, *, apigw: Any) -> str:
    """Add a child resource (``upload``, or ``{object}`` for a path parameter); returns its id."""
    return within_quota(apigw.create_resource, restApiId=api_id, parentId=parent_id,
                        pathPart=path_part)["id"]


def add_method(api_id: str, resource_id: str, *, apigw: Any, http_method: str = "PUT",
               path_parameters: tuple[str, ...] = ("object",), api_key_required: bool = False,
               headers: tuple[str, ...] = ("Content-Type",)) -> dict[str, Any]:
    """Declare the method and the request parameters it passes on (undeclared ones can't be mapped)."""
    parameters = {f"method.request.path.{p}": True for p in path_parameters}
    parameters.update({f"method.request.header.{h}": False for h in headers})
    apigw.put_method(restApiId=api_id, resourceId=resource_id, httpMethod=http_method,
                     authorizationType="NONE", apiKeyRequired=api_key_required,
                     requestParameters=parameters)
    return {"http_method": http_method, "request_parameters": parameters}


def add_s3_integration(api_id: str, resource_id: str, *, apigw: Any, bucket: str, role_arn: str,
                       region: str, http_method: str = "PUT", key_parameter: str = "object") -> dict[str, Any]:
    """Integrate with S3's PutObject by path override ``{bucket}/{key}``, as ``role_arn``.

    ``{key}`` is filled from the method's ``{object}`` path parameter; Content-Type is passed on
    so the object keeps the client's media type.
    """
    uri = f"arn:aws:apigateway:{region}:s3:path/{bucket}/{{key}}"
    mapping = {
        "integration.request.path.key": f"method.request.path.{key_parameter}",
        "integration.request.header.Content-Type": "method.request.header.Content-Type",
    }
    apigw.put_integration(
        restApiId=api_id, resourceId=resource_id, httpMethod=http_method,
        type="AWS", integrationHttpMethod="PUT", uri=uri, credentials=role_arn,
        requestParameters=mapping, passthroughBehavior="WHEN_NO_MATCH",
    )
    return {"uri": uri, "request_parameters": mapping}


def add_lambda_proxy(api_id: str, resource_id: str, *, apigw: Any, function_arn: str, region: str,
                     http_method: str = "GET") -> dict[str, str]:
    """Lambda proxy integration: the whole request goes to the function as its event, and the
    function's answer ({statusCode, headers, body}) is the response. Lambda is always invoked
    with POST, whatever the method's own HTTP method."""
    uri = (f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/"
           f"{function_arn}/invocations")
    apigw.put_integration(restApiId=api_id, resourceId=resource_id, httpMethod=http_method,
                          type="AWS_PROXY", integrationHttpMethod="POST", uri=uri)
    return {"uri": uri}


# Integration responses choose the client's status from S3's status code. The default (no
# selectionPattern) catches everything else: with only a 200 default, S3's refusals would reach
# the client as 200 with an XML error body.
RESPONSES = (
    ("200", None),
    ("400", r"4\d{2}"),
    ("500", r"5\d{2}"),
)


def add_responses(api_id: str, resource_id: str, *, apigw: Any, http_method: str = "PUT") -> list[dict]:
    """Method responses 200/400/500 and the integration responses that select them."""
    created = []
    for status, pattern in RESPONSES:
        apigw.put_method_response(
            restApiId=api_id, resourceId=resource_id, httpMethod=http_method, statusCode=status,
            responseParameters={"method.response.header.ETag": False,
                                "method.response.header.Content-Type": False},
        )
        kwargs: dict[str, Any] = {"selectionPattern": pattern} if pattern else {}
        apigw.put_integration_response(
            restApiId=api_id, resourceId=resource_id, httpMethod=http_method, statusCode=status,
            responseParameters={"method.response.header.ETag": "integration.response.header.ETag",
                                "method.response.header.Content-Type":
                                    "integration.response.header.Content-Type"},
            **kwargs,
        )
        created.append({"status": status, "selection_pattern": pattern or "(default)"})
    return created


def deploy_stage(api_id: str, stage: str, *, apigw: Any, target: Any,
                 description: str = "") -> dict[str, str]:
    """Deploy the API as it is now to ``stage``. Later changes need another deployment."""
    deployment = within_quota(apigw.create_deployment, restApiId=api_id, stageName=stage,
                              description=description)
    return {"deployment_id": deployment["id"], "stage": stage,
            "invoke_url": target.invoke_url(api_id, stage)}


def create_api_key(name: str, *, apigw: Any, api_id: str, stage: str, prefix: str) -> dict[str, str]:
    """An enabled API key in a usage plan for the stage: callers send it as ``x-api-key``."""
    key = within_quota(apigw.create_api_key, name=name, enabled=True, tags=tags(prefix))
    plan = apigw.create_usage_plan(
        name=f"{name}-plan", apiStages=[{"apiId": api_id, "stage": stage}],
        throttle={"rateLimit": 10.0, "burstLimit": 20}, tags=tags(prefix),
    )
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    return {"key_id": key["id"], "value": key["value"], "usage_plan_id": plan["id"]}


PROBE_OBJECT = ".s3wb-probe"


def wait_until_uploads_work(invoke_url: str, *, bucket: str, s3: Any, api_key: str | None = None,
                            patience: float = 120.0) -> int:
    """Wait until option 1's stage takes uploads, by uploading an empty probe object
    (``upload/.s3wb-probe``, deleted again); returns the number of tries.

        wait_until_uploads_work(invoke_url, api_key=key["value"], bucket=bucket, s3=s3)

    A new API key's link to its usage plan takes some seconds to reach API Gateway (403
    Forbidden until then), and so does a new integration role (500 until API Gateway can
    assume it). Waits 0.5 s, then 1 s, 2 s, 4 s, 4 s, ... for at most ``patience`` seconds."""
    import requests

    url = f"{invoke_url}/upload/{PROBE_OBJECT}"
    headers = {"x-api-key": api_key} if api_key else {}
    deadline, delay, tries = time.monotonic() + patience, 0.5, 0
    while True:
        tries += 1
        status = requests.put(url, data=b"", headers=headers, timeout=30).status_code
        if status < 400:
            s3.delete_object(Bucket=bucket, Key=PROBE_OBJECT)
            return tries
        if (status != 403 and status < 500) or time.monotonic() + delay > deadline:
            raise ConfigurationError(f"the stage still answers {status} to an upload after "
                                     f"{patience:.0f} s")
        time.sleep(delay)
        delay = min(delay * 2, 4.0)


def delete_usage_plan(usage_plan_id: str, *, apigw: Any) -> bool:
    """Delete a usage plan the only way AWS accepts: first its keys, then its API stages
    (``remove /apiStages``; AWS refuses to delete a plan that still has stages), then the plan.
    False if it was already gone."""
    try:
        plan = apigw.get_usage_plan(usagePlanId=usage_plan_id)
    except apigw.exceptions.NotFoundException:
        return False
    for key in apigw.get_usage_plan_keys(usagePlanId=usage_plan_id).get("items", []):
        apigw.delete_usage_plan_key(usagePlanId=usage_plan_id, keyId=key["id"])
    stages = [f"{s['apiId']}:{s['stage']}" for s in plan.get("apiStages", [])]
    if stages:
        within_quota(apigw.update_usage_plan, usagePlanId=usage_plan_id, patchOperations=[
            {"op": "remove", "path": "/apiStages", "value": stage} for stage in stages])
    apigw.delete_usage_plan(usagePlanId=usage_plan_id)
    return True


def delete_api_key(key_id: str, usage_plan_id: str, *, apigw: Any) -> None:
    """Delete the key's usage plan (keys and stages first, as AWS requires), then the key."""
    delete_usage_plan(usage_plan_id, apigw=apigw)
    within_quota(apigw.delete_api_key, apiKey=key_id)


def delete_rest_api(api_id: str, *, apigw: Any) -> bool:
    """Delete the API with its stages; False if it was already gone."""
    try:
        within_quota(apigw.delete_rest_api, restApiId=api_id)
    except apigw.exceptions.NotFoundException:
        return False
    return True


@dataclass
class S3ProxyApi:
    """Everything option 1 creates, as plain data."""

    prefix: str
    bucket: str
    role_name: str
    role_arn: str
    api_id: str
    stage: str
    invoke_url: str
    api_key: str | None = None
    api_key_id: str | None = None
    usage_plan_id: str | None = None

    def upload_url(self, key: str) -> str:
        from urllib.parse import quote

        return f"{self.invoke_url}/upload/{quote(key, safe='')}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_s3_proxy_api(target: Any, prefix: str, *, stage: str = "v1",
                       require_api_key: bool = True) -> S3ProxyApi:
    """All of option 1 in one call: bucket, role, API, method, integration, responses, stage, key."""
    from ._iam import create_service_role, put_object_policy
    from ._s3 import create_upload_bucket

    s3, iam, apigw = target.client("s3"), target.client("iam"), target.client("apigateway")
    bucket = create_upload_bucket(f"{prefix}-uploads", s3=s3, prefix=prefix)["bucket"]
    role = create_service_role(f"{prefix}-apigw-s3", service="apigateway.amazonaws.com",
                               policy=put_object_policy(bucket), iam=iam, prefix=prefix)
    api = create_rest_api(f"{prefix}-s3-proxy", apigw=apigw, prefix=prefix)
    upload_id = add_resource(api["api_id"], api["root_id"], "upload", apigw=apigw)
    object_id = add_resource(api["api_id"], upload_id, "{object}", apigw=apigw)
    add_method(api["api_id"], object_id, apigw=apigw, api_key_required=require_api_key)
    add_s3_integration(api["api_id"], object_id, apigw=apigw, bucket=bucket,
                       role_arn=role["role_arn"], region=target.region)
    add_responses(api["api_id"], object_id, apigw=apigw)
    deployed = deploy_stage(api["api_id"], stage, apigw=apigw, target=target)
    result = S3ProxyApi(prefix, bucket, role["role_name"], role["role_arn"], api["api_id"], stage,
                        deployed["invoke_url"])
    if require_api_key:
        key = create_api_key(f"{prefix}-key", apigw=apigw, api_id=api["api_id"], stage=stage,
                             prefix=prefix)
        result.api_key, result.api_key_id, result.usage_plan_id = (
            key["value"], key["key_id"], key["usage_plan_id"])
    wait_until_uploads_work(result.invoke_url, api_key=result.api_key or None, bucket=bucket, s3=s3)
    return result
