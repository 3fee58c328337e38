"""Every place where the local AWS touches moto's internals, named and in one module.

moto serves the control plane; the data plane reads what moto stored through the functions
below and nowhere else, so a moto upgrade is checked here (pyproject pins the tested range).

Patches applied by :func:`install` (each fixes something moto gets wrong or drops):
- ``binaryMediaTypes``: moto ignores it in CreateRestApi and stores ``''`` for the JSON-patch
  form ``add /binaryMediaTypes/image~1png``; AWS keeps the media type named in the path.
- request parameter mappings: AWS rejects PutIntegration when a mapping reads a
  ``method.request.*`` parameter the method does not declare; moto accepts it and the mapping
  would silently yield nothing.
- deployments: moto's Deployment is only an id, so the data plane could not honour AWS's rule
  that a stage serves the API as it was when deployed. A snapshot is taken into the extension
  store at CreateDeployment.
"""
from __future__ import annotations

import copy
import os
import json
import threading
import time
from typing import Any

from moto.apigateway import models as apigw_models
from moto.apigateway import responses as apigw_responses
from moto.apigateway.models import apigateway_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.models import iam_backends
from moto.logs.models import logs_backends
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

from .store import stores

ACCOUNT_ID = DEFAULT_ACCOUNT_ID
RequestHandler = MotoRequestHandler

_installed = False
_install_lock = threading.Lock()


def make_moto_app() -> DomainDispatcherApplication:
    """moto's own WSGI application (the control plane and S3 storage)."""
    return DomainDispatcherApplication(create_backend_app)


def s3_app(moto_app: DomainDispatcherApplication):
    """moto's S3 Flask app, for in-process S3 requests from the data plane."""
    return moto_app.get_application(
        {"PATH_INFO": "/", "HTTP_HOST": "s3.amazonaws.com"}
    )


# --- API Gateway -------------------------------------------------------------------------

def _unescape_patch_path(segment: str) -> str:
    # JSON Pointer escaping as AWS uses it in patch paths: ~1 is '/', ~0 is '~'.
    return segment.replace("~1", "/").replace("~0", "~")


def _snapshot_api(api: Any) -> dict[str, Any]:
    """Plain-data copy of an API as it is now: what a deployment freezes."""
    resources = [copy.deepcopy(r.to_dict()) for r in api.resources.values()]
    return {
        "id": api.id,
        "name": api.name,
        "region": api.region_name,
        "account": api.account_id,
        "binaryMediaTypes": list(api.binaryMediaTypes),
        "apiKeySource": api.api_key_source or "HEADER",
        "policy": api.policy,
        "resources": resources,
        "createdAt": time.time(),
    }


def install() -> None:
    """Apply the patches listed in the module docstring (idempotent)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        _installed = True
    # AWS managed policies (AmazonS3FullAccess, ...) exist in every account; learners attach them.
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")

    original_create = apigw_responses.APIGatewayResponse.create_rest_api

    def create_rest_api(self):  # type: ignore[no-untyped-def]
        status, headers, body = original_create(self)
        media_types = self._get_param("binaryMediaTypes")
        if media_types and int(status) == 200:
            api = self.backend.get_rest_api(json.loads(body)["id"])
            api.binaryMediaTypes = [str(t) for t in media_types]
            body = json.dumps(api.to_dict())
        return status, headers, body

    apigw_responses.APIGatewayResponse.create_rest_api = create_rest_api

    original_patch = apigw_models.RestAPI.apply_patch_operations

    def apply_patch_operations(self, patch_operations):  # type: ignore[no-untyped-def]
        rest = []
        for op in patch_operations:
            path = op.get("path", "")
            if path.startswith("/binaryMediaTypes/") and op.get("op") in ("add", "remove"):
                media_type = _unescape_patch_path(path[len("/binaryMediaTypes/"):])
                if op["op"] == "add" and media_type not in self.binaryMediaTypes:
                    self.binaryMediaTypes.append(media_type)
                elif op["op"] == "remove" and media_type in self.binaryMediaTypes:
                    self.binaryMediaTypes.remove(media_type)
            else:
                rest.append(op)
        if rest:
            original_patch(self, rest)

    apigw_models.RestAPI.apply_patch_operations = apply_patch_operations

    original_deploy = apigw_models.RestAPI.create_deployment

    def create_deployment(self, name, description, stage_variables=None):  # type: ignore[no-untyped-def]
        deployment = original_deploy(self, name, description, stage_variables)
        stores.apigateway.save_deployment(
            self.account_id, self.region_name, self.id, deployment.id, _snapshot_api(self)
        )
        return deployment

    apigw_models.RestAPI.create_deployment = create_deployment

    original_put_integration = apigw_models.APIGatewayBackend.put_integration

    def put_integration(self, function_id, resource_id, method_type, *args, **kwargs):  # type: ignore[no-untyped-def]
        mapping = kwargs.get("request_parameters") or {}
        method = self.get_method(function_id, resource_id, method_type)
        _validate_request_mapping(mapping, method.request_parameters or {})
        return original_put_integration(self, function_id, resource_id, method_type, *args, **kwargs)

    apigw_models.APIGatewayBackend.put_integration = put_integration


def _validate_request_mapping(mapping: dict[str, str], declared: dict[str, Any]) -> None:
    import re

    from moto.apigateway.exceptions import BadRequestException

    errors = []
    for target, source in mapping.items():
        if not re.fullmatch(r"integration\.request\.(path|querystring|header)\.[^.\s]+", target):
            errors.append(f"Invalid mapping expression specified: {target}")
        if isinstance(source, str) and source.startswith("method.request.") and source not in declared:
            errors.append(f"Invalid mapping expression parameter specified: {source}")
    if errors:
        raise BadRequestException(
            "Invalid mapping expression specified: Validation Result: warnings : [], "
            f"errors : [{', '.join(errors)}]"
        )


def find_rest_api(api_id: str) -> tuple[str, str, Any] | None:
    """Locate a REST API by id in any region of the local account: (account, region, api)."""
    for account_id in list(apigateway_backends.keys()):
        for region, backend in list(apigateway_backends[account_id].items()):
            api = backend.apis.get(api_id)
            if api is not None:
                return account_id, region, api
    return None


def stage_deployment_id(api: Any, stage_name: str) -> str | None:
    stage = api.stages.get(stage_name)
    return None if stage is None else stage.deployment_id


def stage_variables(api: Any, stage_name: str) -> dict[str, str]:
    stage = api.stages.get(stage_name)
    return dict(stage.variables or {}) if stage is not None else {}


def api_keys_for_stage(account_id: str, region: str, api_id: str, stage: str) -> dict[str, dict]:
    """Values of the API keys that a usage plan attaches to ``api_id``/``stage``.

    Returns ``{key value: {"id": ..., "enabled": bool}}``.
    """
    backend = apigateway_backends[account_id][region]
    plan_ids = [
        plan.id
        for plan in backend.usage_plans.values()
        if any(
            s.get("apiId") == api_id and s.get("stage") == stage for s in plan.api_stages
        )
    ]
    found: dict[str, dict] = {}
    for plan_id in plan_ids:
        for key_id in backend.usage_plan_keys.get(plan_id, {}):
            key = backend.keys.get(key_id)
            if key is not None:
                found[key.value] = {"id": key.id, "enabled": bool(key.enabled)}
    return found


# --- IAM -----------------------------------------------------------------------------------

def role_by_arn(account_id: str, arn: str) -> Any | None:
    backend = iam_backends[account_id]["global"]
    for role in backend.roles.values():
        if role.arn == arn:
            return role
    return None


def role_trust_policy(role: Any) -> str:
    return role.assume_role_policy_document


def role_identity_policies(role: Any) -> list[str]:
    """The inline and attached managed policy documents of a role, as JSON strings."""
    documents = list(role.policies.values())
    for managed in role.managed_policies.values():
        for version in managed.versions:
            if version.is_default:
                documents.append(version.document)
    return documents


# --- S3 ------------------------------------------------------------------------------------

def bucket_policy(bucket_name: str) -> str | None:
    from moto.s3.models import s3_backends

    backend = s3_backends[ACCOUNT_ID]["global"]
    bucket = backend.buckets.get(bucket_name)
    if bucket is None or not bucket.policy:
        return None
    policy = bucket.policy
    return policy.decode() if isinstance(policy, bytes) else policy


# --- CloudWatch Logs -------------------------------------------------------------------------

def put_log_lines(account_id: str, region: str, group: str, stream: str, lines: list[str]) -> None:
    """Append lines to a CloudWatch Logs stream in moto, creating group and stream as needed."""
    backend = logs_backends[account_id][region]
    if group not in backend.groups:
        backend.create_log_group(group, {})
    log_group = backend.groups[group]
    if stream not in log_group.streams:
        backend.create_log_stream(group, stream)
    now = int(time.time() * 1000)
    events = [{"timestamp": now, "message": line} for line in lines]
    backend.put_log_events(group, stream, events)
