"""Every place where the local AWS touches moto, named and in one module.

moto serves the control plane; the data plane reads what moto stored through the readers
below and nowhere else. Only this module imports ``moto`` (an import-linter contract in
pyproject.toml checks it), and its readers return the emulator's own dataclasses
(:class:`RestApi`, :class:`Role`, :class:`LambdaFunction`, :class:`Distribution`, ...), never a
moto object, so a moto upgrade is checked here alone (moto's own WSGI app, from
:func:`make_moto_app`, :func:`s3_app` and :func:`service_app`, is handed out only to be called as
a WSGI app). The patches replace private methods of
moto, so moto is pinned exactly: :data:`MOTO_VERSION` is the version this module was written
for (tests/test_layers.py fails, naming both versions, when another one is installed).

The bridge sits at the bottom of the local AWS: it imports only moto, the extension store and
the time scale (localaws/timing.py).
What it checks on moto's behalf and that belongs to a service (Lambda@Edge association rules,
a role's trust policy) is passed in by :func:`install`; a validator refuses by raising
:class:`Rejected`, which the bridge answers as moto's error of that service.

Patches applied by :func:`install` (each fixes something moto gets wrong or drops):
- ``binaryMediaTypes``: moto ignores it in CreateRestApi and stores ``''`` for the JSON-patch
  form ``add /binaryMediaTypes/image~1png``; AWS keeps the media type named in the path.
- request parameter mappings: AWS rejects PutIntegration when a mapping reads a
  ``method.request.*`` parameter the method does not declare; moto accepts it and the mapping
  would silently yield nothing.
- Lambda roles: CreateFunction fails, as on AWS, when the role's trust policy does not let
  lambda.amazonaws.com assume it, or the role is too new to have propagated (moto only checks
  that the role exists).
- Lambda states: moto reports every function Active and every update Successful at once; AWS
  shows State Pending after CreateFunction and LastUpdateStatus InProgress after updates, and
  refuses updates and PublishVersion meanwhile (ResourceConflictException).
- GetCallerIdentity: moto names every key it did not issue ``user/moto``; the root's keys
  (the only such keys that reach moto) get the root's ARN, as on AWS.
- usage-plan keys: a new link is marked with its time; the API Gateway data plane accepts the
  key only once the link has propagated (:data:`API_KEY_PROPAGATION_SECONDS`).
- IAM policy changes: moto applies them at once; AWS's other services see them some seconds
  later. Each change to a role's or user's policies is recorded with its time, and the readers
  (:func:`role_by_arn`, :func:`find_credentials`) return the policies that have propagated
  (:func:`effective_policies`, :data:`POLICY_PROPAGATION_SECONDS`).
- bucket policies: moto stores any principal; S3 refuses one that does not exist or has not
  propagated yet (``MalformedPolicy`` "Invalid principal in policy").
- CloudFront: moto drops Lambda@Edge and function associations, S3OriginConfig (the origin
  access identity) and OriginAccessControlId from distribution configs, accepts any If-Match,
  reports every distribution Deployed and deletes enabled ones; AWS keeps the config whole,
  shows InProgress after each change (:data:`DISTRIBUTION_DEPLOY_SECONDS`) and refuses those
  deletes. Lambda@Edge: DeleteFunction is refused while CloudFront keeps a version's replicas
  (:data:`EDGE_REPLICA_SECONDS` after its last association is gone).
- CloudWatch Logs: a function's log events become visible after a delivery lag
  (:data:`LAMBDA_LOG_DELIVERY_SECONDS`, :data:`EDGE_LOG_DELIVERY_SECONDS`).
- S3 object bytes: moto reads every request body whole into memory and joins multipart parts
  in memory. The data plane spools bodies to disk while it reads them (s3/integrity.py) and
  hands moto a :class:`FileBody`; the key adopts that file as its storage, and
  CompleteMultipartUpload copies the parts' files into one file chunk by chunk.
- CORS: moto's server adds ``Access-Control-Allow-Origin`` to every answer (flask-cors); AWS
  adds CORS headers only where a bucket's CORS rule matches, so it is switched off.
- Cognito user pool keys: moto signs every pool's tokens with one fixed key whose ``kid`` is
  ``dummy``; AWS gives each pool its own RSA key pair and ``kid``, so a token of one pool does not
  verify with another pool's JWKS. Each pool gets its own key here (:func:`cognito_jwks`).
- authorizers: moto drops ``identityValidationExpression`` at CreateAuthorizer (a misspelt
  keyword); AWS keeps it.
- deployments: moto's Deployment is only an id, so the data plane could not honour AWS's rule
  that a stage serves the API as it was when deployed. A snapshot is taken into the extension
  store at CreateDeployment.

Speed, without a change in what moto answers (each measured with py-spy while notebooks ran):
- moto lists its own package folder (a stat of each of some 170 entries) to route each request;
  the list is read once here.
- every IAM backend (one per account and partition, created again after each reset) parses
  AWS's managed policies, a 4 MB JSON text; the parsed policies are kept and each backend builds
  its own policy objects from them.
- moto builds a service's Flask app (compiling its URL rules) in each dispatcher; the apps are
  kept for every dispatcher of the process (they hold no state: moto's backends do).
- each new Cognito user pool imports moto's fixed key (replaced at once by the pool's own, see
  above); it is imported once.
- moto looks up a response class's method names (``inspect.getmembers``) for every request;
  they are looked up once per class.
- ListObjectVersions deep-copied every version in the bucket, each object's body included, to
  mark ``IsLatest``; listing a bucket read all its objects into memory. The copies made there
  carry the listing's fields and no body.
"""
from __future__ import annotations

import copy
import functools
import os
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

import moto
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

from . import timing
from .store import stores

# The moto release this module was written for; pyproject.toml pins the same version.
MOTO_VERSION = "5.2.5"

ACCOUNT_ID = DEFAULT_ACCOUNT_ID
RequestHandler = MotoRequestHandler


def moto_version() -> str:
    """The moto release installed (reported by the local AWS's health record)."""
    return moto.__version__


def version_problem(installed: str | None = None) -> str | None:
    """What is wrong when the installed moto is not :data:`MOTO_VERSION` (None when it is)."""
    installed = installed or moto_version()
    if installed == MOTO_VERSION:
        return None
    return (f"the local AWS's moto bridge was written for moto {MOTO_VERSION}; {installed} is "
            "installed: pip install -e '.[test]'")


class Rejected(Exception):
    """Raised by a validator given to :func:`install` to refuse a control-plane request: the
    bridge answers it as the service's own error, with this code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message

_installed = False
_install_lock = threading.Lock()


def make_moto_app() -> DomainDispatcherApplication:
    """moto's own WSGI application (the control plane and S3 storage)."""
    disable_blanket_cors()
    return DomainDispatcherApplication(_backend_app)


@functools.cache
def _backend_app(service: str) -> Any:
    return create_backend_app(service)


def _install_speed_patches() -> None:
    """The patches of the docstring's "Speed" list (the shared Flask apps are make_moto_app's)."""
    from moto import backends as moto_backends
    from moto.iam import models as iam_models

    modules = tuple(moto_backends.list_of_moto_modules())
    moto_backends.list_of_moto_modules = lambda: iter(modules)

    @functools.cache
    def managed_policies() -> tuple[tuple[str, dict[str, Any], str], ...]:
        parsed = json.loads(iam_models.aws_managed_policies_data)
        return tuple((name, data, json.dumps(data.get("Document"))) for name, data in parsed.items())

    def _init_aws_policies(self):  # type: ignore[no-untyped-def]
        if not iam_models.load_iam_aws_managed_policies():
            return []
        return [iam_models.AWSManagedPolicy(
            name, account_id=self.account_id, region=self.region_name,
            default_version_id=data.get("DefaultVersionId"), path=data.get("Path"), document=document,
            create_date=datetime.fromisoformat(data["CreateDate"]),
            update_date=datetime.fromisoformat(data["UpdateDate"]))
            for name, data, document in managed_policies()]

    iam_models.IAMBackend._init_aws_policies = _init_aws_policies

    # moto looks up a response class's method names (inspect.getmembers) on every request.
    from moto.core import responses as core_responses

    core_responses.method_names_from_class = functools.cache(core_responses.method_names_from_class)

    _install_listing_copies()


def _install_listing_copies() -> None:
    """ListObjectVersions: moto deep-copies every version of every key in the bucket to mark
    ``IsLatest`` on the copies, and a FakeKey's deep copy reads its whole body: listing a bucket
    read every object in it into memory. Within that call the copies are light: the listing's
    fields, no body (the ETag is computed first, on the original, as any read of it does)."""
    from moto.s3 import models as s3_models

    listing = threading.local()

    def listing_copy(item: Any) -> Any:
        if isinstance(item, s3_models.FakeKey):
            item.etag  # noqa: B018  computed from the body once, and kept, by moto's property
            clone = object.__new__(type(item))
            clone.__dict__.update(item.__dict__)
            # The clone owns no storage: disposing of it (moto's __del__) must not close the
            # original's file or its multipart upload.
            clone.__dict__.update(_value_buffer=_NO_BODY, multipart=None, disposed=True)
            return clone
        clone = object.__new__(type(item))  # FakeDeleteMarker: its fields only
        clone.__dict__.update(item.__dict__)
        return clone

    class MotoS3Copy:
        """``copy`` as moto.s3.models sees it: the copy module, but light copies inside
        ListObjectVersions (thread by thread; CopyObject's deep copies are unchanged)."""

        copy = staticmethod(copy.copy)

        @staticmethod
        def deepcopy(item: Any, memo: Any = None) -> Any:
            if getattr(listing, "active", False) and isinstance(item, list):
                return [listing_copy(version) for version in item]
            return copy.deepcopy(item, memo)

    s3_models.copy = MotoS3Copy  # type: ignore[assignment]
    original = s3_models.S3Backend.list_object_versions

    @functools.wraps(original)
    def list_object_versions(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        listing.active = True
        try:
            return original(self, *args, **kwargs)
        finally:
            listing.active = False

    s3_models.S3Backend.list_object_versions = list_object_versions


class _NoBody:
    """The storage of a listing's copy of a key: nothing to read, nothing to close."""

    def close(self) -> None:
        pass


_NO_BODY = _NoBody()


def s3_app(moto_app: DomainDispatcherApplication):
    """moto's S3 Flask app, for in-process S3 requests from the data plane."""
    return moto_app.get_application(
        {"PATH_INFO": "/", "HTTP_HOST": "s3.amazonaws.com"}
    )


def service_app(moto_app: DomainDispatcherApplication, environ: dict[str, Any]) -> tuple[str, Any]:
    """The service a control-plane request is for (``"s3"``, ``"iam"``, ... or ``"unknown"``)
    and moto's WSGI app that answers it."""
    app = moto_app.get_application(environ)
    return getattr(app, "service", None) or "unknown", app


# --- What the readers return -----------------------------------------------------------------

@dataclass(frozen=True)
class Stage:
    deployment_id: str | None
    variables: dict[str, str]


@dataclass(frozen=True)
class RestApi:
    """A REST API where it lives, with its stages (the deployed resources are in the store)."""

    account: str
    region: str
    id: str
    stages: dict[str, Stage]


@dataclass(frozen=True)
class Role:
    arn: str
    name: str
    trust_policy: str
    # The inline and attached managed policy documents, as JSON strings.
    identity_policies: list[str]


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str


@dataclass(frozen=True)
class LambdaFunction:
    """One version of a function, as the runtime needs it (``arn`` is qualified for versions)."""

    account: str
    region: str
    name: str
    arn: str
    version: str
    handler: str
    runtime: str
    role: str
    timeout: float
    memory: int
    environment: dict[str, str]
    code: bytes = field(repr=False)
    code_sha: str = ""
    layers: list[bytes] = field(default_factory=list, repr=False)  # each layer's zip, in order
    # What add_permission wrote, as a policy document, or None.
    resource_policy: dict | None = None
    # "Pending" for a while after CreateFunction (Invoke then fails), else "Active".
    state: str = "Active"


@dataclass(frozen=True)
class Origin:
    id: str
    domain_name: str
    origin_path: str
    origin_access_identity: str  # "origin-access-identity/cloudfront/{id}" or ""
    origin_access_control_id: str


@dataclass(frozen=True)
class CacheBehaviour:
    path_pattern: str  # "*" for the default behaviour
    target_origin_id: str
    allowed_methods: list[str]
    lambda_associations: list[dict[str, Any]]  # LambdaFunctionAssociations' Items
    cache_policy_id: str = ""
    origin_request_policy_id: str = ""
    response_headers_policy_id: str = ""
    # The legacy ForwardedValues' Headers Items (a behaviour without a cache policy).
    forwarded_headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Distribution:
    id: str
    arn: str
    domain_name: str
    enabled: bool
    default_behaviour: CacheBehaviour
    behaviours: list[CacheBehaviour]  # CacheBehaviors, in order
    origins: dict[str, Origin]


# --- CORS ----------------------------------------------------------------------------------

def disable_blanket_cors() -> None:
    """moto's server wraps each service's Flask app in flask-cors, which adds
    ``Access-Control-Allow-Origin`` to every answer whatever the bucket's CORS configuration;
    AWS adds CORS headers only where a CORS rule matches (s3/cors.py decides them for S3)."""
    from moto.moto_server import werkzeug_app

    werkzeug_app.DISABLE_GLOBAL_CORS = True  # read by create_backend_app for each new service app


def bucket_cors_rules(bucket_name: str) -> list[dict[str, Any]] | None:
    """A bucket's CORS rules in order, as PutBucketCors named their fields (``AllowedOrigins``,
    ``AllowedMethods``, ``AllowedHeaders``, ``ExposeHeaders`` as lists, ``MaxAgeSeconds`` or
    None); ``[]`` without a configuration, None when the bucket does not exist."""
    from moto.s3.models import s3_backends

    bucket = s3_backends[ACCOUNT_ID]["global"].buckets.get(bucket_name)
    if bucket is None:
        return None

    def listed(value: Any) -> list[str]:
        return [value] if isinstance(value, str) else [str(v) for v in (value or [])]

    return [{"AllowedOrigins": listed(rule.allowed_origins),
             "AllowedMethods": listed(rule.allowed_methods),
             "AllowedHeaders": listed(rule.allowed_headers),
             "ExposeHeaders": listed(rule.exposed_headers),
             "MaxAgeSeconds": None if rule.max_age_seconds in (None, "") else int(rule.max_age_seconds)}
            for rule in list(bucket.cors or [])]


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
        # Authorizers are deployed with the API: a change takes effect at the next deployment.
        "authorizers": {a.id: copy.deepcopy(a.to_json()) for a in api.authorizers.values()},
        "createdAt": time.time(),
    }


def install(*, check_associations: Callable[[list[tuple[str, dict[str, Any]]]], None],
            trust_allows: Callable[[str | None, str], bool]) -> None:
    """Apply the patches listed in the module docstring (idempotent: the first call's validators
    stay).

    ``check_associations([(path pattern, LambdaFunctionAssociation item), ...])`` raises
    :class:`Rejected` for a distribution config CloudFront refuses; ``trust_allows(trust policy,
    service principal)`` says whether a role's trust policy lets the service assume it.
    """
    global _installed
    with _install_lock:
        if _installed:
            return
        _installed = True
    # AWS managed policies (AmazonS3FullAccess, ...) exist in every account; learners attach them.
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    _install_speed_patches()
    _install_root_identity_patch()

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

    def put_integration(self, function_id, resource_id, method_type, integration_type, uri, *args, **kwargs):  # type: ignore[no-untyped-def]
        mapping = kwargs.get("request_parameters") or {}
        method = self.get_method(function_id, resource_id, method_type)
        _validate_request_mapping(mapping, method.request_parameters or {})
        _validate_proxy_uri(integration_type, uri)
        # AWS fills in what the caller left out (recorded: every PutIntegration answer carries
        # passthroughBehavior WHEN_NO_MATCH and timeoutInMillis 29000); moto stores None.
        if kwargs.get("passthrough_behavior") is None:
            kwargs["passthrough_behavior"] = "WHEN_NO_MATCH"
        if kwargs.get("timeout_in_millis") is None:
            kwargs["timeout_in_millis"] = 29000
        return original_put_integration(self, function_id, resource_id, method_type, integration_type,
                                        uri, *args, **kwargs)

    apigw_models.APIGatewayBackend.put_integration = put_integration

    original_put_integration_response = apigw_models.APIGatewayBackend.put_integration_response

    def put_integration_response(self, function_id, resource_id, method_type, status_code, *args, **kwargs):  # type: ignore[no-untyped-def]
        method = self.get_method(function_id, resource_id, method_type)
        declared = method.method_responses.get(str(status_code))
        if declared is not None:
            mapping = kwargs.get("response_parameters")
            if mapping is None and len(args) >= 3:
                mapping = args[2]
            _validate_response_mapping(mapping or {}, declared.response_parameters or {})
        return original_put_integration_response(self, function_id, resource_id, method_type, status_code,
                                                 *args, **kwargs)

    apigw_models.APIGatewayBackend.put_integration_response = put_integration_response

    # UpdateIntegration and UpdateIntegrationResponse (JSON-patch operations): moto has neither.
    def update_integration(self):  # type: ignore[no-untyped-def]
        parts = self.path.split("/")
        integration = self.backend.get_integration(parts[2], parts[4], parts[6])
        _apply_patch(integration, self._get_param("patchOperations") or [], _INTEGRATION_FIELDS)
        return 200, {"Content-Type": "application/json"}, json.dumps(integration.to_json())

    def update_integration_response(self):  # type: ignore[no-untyped-def]
        parts = self.path.split("/")
        response = self.backend.get_integration_response(parts[2], parts[4], parts[6], parts[9])
        _apply_patch(response, self._get_param("patchOperations") or [], _INTEGRATION_RESPONSE_FIELDS)
        return 200, {"Content-Type": "application/json"}, json.dumps(response.to_json())

    # moto passes identityValidationExpression on as ``identiy_validation_expression`` (sic),
    # which its Authorizer does not read: the expression was dropped. AWS keeps and applies it.
    original_authorizer_init = apigw_models.Authorizer.__init__

    def authorizer_init(self, authorizer_id, name, authorizer_type, **kwargs):  # type: ignore[no-untyped-def]
        if "identiy_validation_expression" in kwargs:
            kwargs.setdefault("identity_validation_expression", kwargs.pop("identiy_validation_expression"))
        original_authorizer_init(self, authorizer_id, name, authorizer_type, **kwargs)

    apigw_models.Authorizer.__init__ = authorizer_init
    apigw_responses.APIGatewayResponse.update_integration = update_integration
    apigw_responses.APIGatewayResponse.update_integration_response = update_integration_response
    _install_lambda_patches(trust_allows)
    _install_cloudfront_patches(check_associations)
    _install_s3_streaming_patches()
    _install_usage_plan_patches()
    _install_cognito_patches()
    _install_policy_propagation_patches()
    _install_bucket_policy_patches()


# Patchable fields: JSON name -> moto attribute (maps patch as /name/key, values as /name).
_INTEGRATION_FIELDS = {"uri": "uri", "httpMethod": "http_method", "credentials": "credentials",
                       "contentHandling": "content_handling", "timeoutInMillis": "timeout_in_millis",
                       "passthroughBehavior": "passthrough_behaviour", "connectionType": "connection_type",
                       "requestTemplates": "request_templates", "requestParameters": "request_parameters",
                       "cacheNamespace": "cache_namespace"}
_INTEGRATION_RESPONSE_FIELDS = {"selectionPattern": "selection_pattern", "contentHandling": "content_handling",
                                "responseTemplates": "response_templates",
                                "responseParameters": "response_parameters"}
_MAP_FIELDS = {"requestTemplates", "requestParameters", "responseTemplates", "responseParameters"}


def _apply_patch(target: Any, operations: list[dict], fields: dict[str, str]) -> None:
    from moto.apigateway.exceptions import BadRequestException

    for op in operations:
        name, _, key = op.get("path", "").strip("/").partition("/")
        kind = op.get("op")
        if name not in fields or kind not in ("add", "replace", "remove") or bool(key) != (name in _MAP_FIELDS):
            raise BadRequestException(
                f"Invalid patch path '{op.get('path')}' specified for op '{kind}'. Must be one of: "
                f"[{', '.join('/' + f + ('/*' if f in _MAP_FIELDS else '') for f in fields)}]")
        attribute = fields[name]
        if key:
            mapping = dict(getattr(target, attribute) or {})
            if kind == "remove":
                mapping.pop(_unescape_patch_path(key), None)
            else:
                mapping[_unescape_patch_path(key)] = op.get("value")
            setattr(target, attribute, mapping)
        else:
            setattr(target, attribute, None if kind == "remove" else op.get("value"))


_APIGW_ARN = re.compile(r"arn:aws[a-z-]*:apigateway:[a-z0-9-]*:[A-Za-z0-9.-]+:(path|action)/.+")
_LAMBDA_INVOCATIONS = re.compile(r"arn:aws[a-z-]*:apigateway:[a-z0-9-]+:lambda:path/2015-03-31/functions/"
                                 r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[^/]+/invocations")
_FIREHOSE_ACTION = re.compile(r"arn:aws[a-z-]*:apigateway:[a-z0-9-]+:firehose:action/.+")


def _validate_proxy_uri(integration_type: str | None, uri: str | None) -> None:
    """AWS_PROXY integrations call a Lambda function's invocations path or Firehose by action;
    any other AWS URI gets AWS's BadRequestException (recorded 2024-06 and 2025-03: a Firehose
    URI with a Lambda path, an S3 path, a malformed Lambda path). Malformed ARNs are left to
    moto, which words those errors as AWS does."""
    from moto.apigateway.exceptions import BadRequestException

    if (integration_type or "").upper() != "AWS_PROXY" or not uri or not _APIGW_ARN.fullmatch(uri):
        return
    if not (_LAMBDA_INVOCATIONS.fullmatch(uri) or _FIREHOSE_ACTION.fullmatch(uri)):
        raise BadRequestException("Integrations of type 'AWS_PROXY' currently only supports "
                                  "Lambda function and Firehose stream invocations.")


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


def _validate_response_mapping(mapping: dict[str, str], declared: dict[str, Any]) -> None:
    """An integration response may set only the headers its method response declares
    (``method.response.header.{name}`` in the method response's responseParameters); AWS refuses
    the others with a 400 BadRequestException (recorded answer: "Invalid mapping expression
    specified: Validation Result: warnings : [], errors : [Invalid mapping expression parameter
    specified: method.response.header.Access-Control-Allow-Origin]"; "Set up method response",
    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-settings-method-response.html)."""
    from moto.apigateway.exceptions import BadRequestException

    errors = [f"Invalid mapping expression parameter specified: {target}" for target in mapping
              if target.startswith("method.response.header.") and target not in declared]
    if errors:
        raise BadRequestException(
            "Invalid mapping expression specified: Validation Result: warnings : [], "
            f"errors : [{', '.join(errors)}]"
        )


def find_rest_api(api_id: str) -> RestApi | None:
    """Locate a REST API by id in any region of any account, or None."""
    for account_id in list(apigateway_backends.keys()):
        for region, backend in list(apigateway_backends[account_id].items()):
            api = backend.apis.get(api_id)
            if api is not None:
                stages = {name: Stage(stage.deployment_id, dict(stage.variables or {}))
                          for name, stage in list(api.stages.items())}
                return RestApi(account_id, region, api.id, stages)
    return None


def api_keys_for_stage(account_id: str, region: str, api_id: str, stage: str) -> dict[str, dict]:
    """Values of the API keys that a usage plan attaches to ``api_id``/``stage``.

    Returns ``{key value: {"id": ..., "enabled": bool, "effective": bool}}``: ``effective`` is
    False while the key's link to the plan is newer than :data:`API_KEY_PROPAGATION_SECONDS`.
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
        for key_id, link in list(backend.usage_plan_keys.get(plan_id, {}).items()):
            key = backend.keys.get(key_id)
            if key is not None:
                effective = not _within(link, "_s3wb_created", API_KEY_PROPAGATION_SECONDS)
                if key.value in found:  # in two plans for this stage: the older link counts
                    effective = effective or found[key.value]["effective"]
                found[key.value] = {"id": key.id, "enabled": bool(key.enabled), "effective": effective}
    return found


# A new API key's link to a usage plan takes effect "within approximately 10 seconds" (AWS's
# answer on re:Post, https://repost.aws/questions/QUIiY_hoP0T4SYnFd3NMGDRw); until then the stage
# answers 403 Forbidden. AWS seconds, compressed by timing.
API_KEY_PROPAGATION_SECONDS = 10.0


# --- IAM -----------------------------------------------------------------------------------

def _moto_role(account_id: str, arn: str) -> Any | None:
    backend = iam_backends[account_id]["global"]
    for role in list(backend.roles.values()):
        if role.arn == arn:
            return role
    return None


def _live_role_documents(role: Any) -> list[str]:
    documents = list(role.policies.values())
    for managed in role.managed_policies.values():
        for version in managed.versions:
            if version.is_default:
                documents.append(version.document)
    return documents


def _live_user_documents(backend: Any, user: Any) -> list[str]:
    documents = list(user.policies.values())
    for managed in user.managed_policies.values():
        documents += [v.document for v in managed.versions if v.is_default]
    for group in backend.groups.values():
        if user in group.users:
            documents += list(group.policies.values())
            for managed in group.managed_policies.values():
                documents += [v.document for v in managed.versions if v.is_default]
    return documents


def _identity_policies(role: Any) -> list[str]:
    """The role's identity policies as the other services see them now (see
    :func:`effective_policies`)."""
    return effective_policies(role, _live_role_documents(role))


# IAM is eventually consistent: a change to a principal's policies (PutRolePolicy,
# DeleteRolePolicy, Attach/DetachRolePolicy, the user and group ones, a new default version of
# an attached managed policy) reaches the other services some seconds later
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
# Until then they keep evaluating the policies as they were. AWS seconds, compressed by timing.
POLICY_PROPAGATION_SECONDS = 10.0

# principal id (moto's role/user id) -> (documents before the first change still propagating,
# [(monotonic time of a change, documents after it), ...])
_policy_history: dict[str, tuple[list[str], list[tuple[float, list[str]]]]] = {}
# ids of the principals whose policies another service has evaluated at least once
_policy_used: set[str] = set()
_policy_lock = threading.Lock()


def effective_policies(principal: Any, live: list[str]) -> list[str]:
    """The identity policies of a moto role or user that the other services evaluate now: the
    documents after the latest change that has propagated (``live`` when every change has)."""
    window = timing.seconds(POLICY_PROPAGATION_SECONDS)
    now = time.monotonic()
    with _policy_lock:
        _policy_used.add(principal.id)
        history = _policy_history.get(principal.id)
        if history is None:
            return live
        before, changes = history
        settled = [docs for changed, docs in changes if now - changed >= window]
        if len(settled) == len(changes):
            del _policy_history[principal.id]  # all propagated: the live documents count
            return live
        return list(settled[-1] if settled else before)


def _principals(backend: Any) -> list[tuple[Any, list[str]]]:
    """Every role and user of an IAM backend with its live identity policy documents."""
    found = [(role, _live_role_documents(role)) for role in list(backend.roles.values())]
    found += [(user, _live_user_documents(backend, user)) for user in list(backend.users.values())]
    return found


def _install_policy_propagation_patches() -> None:
    """Record, for each IAM call that changes what a role or user may do, the documents before and
    after it, so that :func:`effective_policies` answers with the old ones for a while. Changes
    made before any service has evaluated the principal's policies count at once (a role set up
    and then used, as a new principal counts at once where the local AWS accepts it at once):
    that keeps set-up sequences deterministic, and every change after first use waits."""
    from moto.iam.models import IAMBackend

    def tracked(method: Callable[..., Any]) -> Callable[..., Any]:
        def change(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            before = {p.id: docs for p, docs in _principals(self)}
            result = method(self, *args, **kwargs)
            now = time.monotonic()
            with _policy_lock:
                for principal, docs in _principals(self):
                    old = before.get(principal.id)
                    if old is None or old == docs or principal.id not in _policy_used:
                        continue
                    _, changes = _policy_history.setdefault(principal.id, (old, []))
                    changes.append((now, docs))
            return result
        change.__name__ = method.__name__
        return change

    for name in ("put_role_policy", "delete_role_policy", "attach_role_policy", "detach_role_policy",
                 "put_user_policy", "delete_user_policy", "attach_user_policy", "detach_user_policy",
                 "put_group_policy", "delete_group_policy", "attach_group_policy",
                 "detach_group_policy", "add_user_to_group", "remove_user_from_group",
                 "create_policy_version", "set_default_policy_version"):
        setattr(IAMBackend, name, tracked(getattr(IAMBackend, name)))


def role_path(account_id: str, role_name: str) -> str | None:
    """The path of the role with this name (``/``, ``/service-role/``...), None if there is none."""
    backend = iam_backends[account_id]["global"]
    for role in list(backend.roles.values()):
        if role.name == role_name:
            return role.path
    return None


# The names AWS gives service-linked roles of the services the workbook meets
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html).
_SERVICE_LINKED_ROLES = {"replicator.lambda.amazonaws.com": "AWSServiceRoleForLambdaReplicator",
                         "logger.cloudfront.amazonaws.com": "AWSServiceRoleForCloudFrontLogger"}


def service_linked_role_name(service: str) -> str:
    """The name of a service's service-linked role (for other services, the usual pattern)."""
    parts = service.split(".")
    return _SERVICE_LINKED_ROLES.get(service) or "AWSServiceRoleFor" + parts[max(0, len(parts) - 3)].capitalize()


def role_by_arn(account_id: str, arn: str) -> Role | None:
    """The role with this ARN in the account, with its trust and identity policies, or None."""
    role = _moto_role(account_id, arn)
    if role is None:
        return None
    return Role(role.arn, role.name, role.assume_role_policy_document, _identity_policies(role))


# --- S3 ------------------------------------------------------------------------------------

# Origin access identities live above the bridge (cloudfront/oai.py); each local AWS in this
# process tells the bridge how to look one up in its store: id or S3 canonical user id ->
# monotonic creation time, or None. moto's state is one per process, so all stores are asked.
_oai_lookups: list[Any] = []  # weak references to the stores' lookup methods
OAI_PRINCIPAL = "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity "


def know_origin_access_identities(created: Callable[[str], float | None]) -> None:
    """Let PutBucketPolicy check OAI principals with ``created(id or canonical user id)`` (a
    bound method, held weakly: a stopped local AWS's store drops out)."""
    import weakref

    _oai_lookups[:] = [ref for ref in _oai_lookups if ref() is not None]
    _oai_lookups.append(weakref.WeakMethod(created))  # type: ignore[arg-type]


def _oai_created(key: str) -> float | None:
    for ref in list(_oai_lookups):
        lookup = ref()
        found = lookup(key) if lookup is not None else None
        if found is not None:
            return found
    return None


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def invalid_principal(policy: str) -> str | None:
    """The first principal of a bucket policy that S3 does not know (yet), or None.

    S3 refuses a policy naming an IAM role or user of this account that does not exist, or that
    was created so recently that it has not propagated (ROLE_PROPAGATION_SECONDS), and the same
    for an origin access identity (by ARN or canonical user id): ``MalformedPolicy`` "Invalid
    principal in policy". Accounts, services, ``*`` and principals of other accounts pass."""
    from moto.core.utils import utcnow

    try:
        statements = _listed(json.loads(policy).get("Statement") or [])
    except (ValueError, AttributeError):
        return None  # not a policy document: moto's own checks answer
    window = timing.seconds(ROLE_PROPAGATION_SECONDS)
    backend = iam_backends[ACCOUNT_ID]["global"]
    for statement in statements:
        if not isinstance(statement, dict):
            continue
        for field_name in ("Principal", "NotPrincipal"):
            principal = statement.get(field_name)
            if not isinstance(principal, dict):
                continue
            for kind, values in principal.items():
                for value in _listed(values):
                    if not isinstance(value, str):
                        continue
                    if kind == "CanonicalUser" or (kind == "AWS" and value.startswith(OAI_PRINCIPAL)):
                        created = _oai_created(value[len(OAI_PRINCIPAL):] if kind == "AWS" else value)
                        if (created is None and kind == "AWS") or \
                                (created is not None and time.monotonic() - created < window):
                            return value
                    elif kind == "AWS" and re.fullmatch(rf"arn:aws:iam::{ACCOUNT_ID}:(role|user)/.+", value):
                        entities = list(backend.roles.values()) + list(backend.users.values())
                        entity = next((e for e in entities if e.arn == value), None)
                        if entity is None or (utcnow() - entity.create_date).total_seconds() < window:
                            return value
    return None


def _install_bucket_policy_patches() -> None:
    """PutBucketPolicy refuses principals S3 does not know (yet) (see :func:`invalid_principal`);
    moto stores any policy."""
    from moto.s3 import models as s3_models
    from moto.s3.exceptions import S3ClientError

    original_put = s3_models.S3Backend.put_bucket_policy

    def put_bucket_policy(self, bucket_name, policy):  # type: ignore[no-untyped-def]
        text = policy.decode() if isinstance(policy, bytes) else str(policy)
        if invalid_principal(text) is not None:
            raise S3ClientError("MalformedPolicy", "Invalid principal in policy")
        return original_put(self, bucket_name, policy)

    s3_models.S3Backend.put_bucket_policy = put_bucket_policy

def bucket_policy(bucket_name: str) -> str | None:
    from moto.s3.models import s3_backends

    backend = s3_backends[ACCOUNT_ID]["global"]
    bucket = backend.buckets.get(bucket_name)
    if bucket is None or not bucket.policy:
        return None
    policy = bucket.policy
    return policy.decode() if isinstance(policy, bytes) else policy


def multipart_upload_exists(bucket_name: str, upload_id: str) -> bool:
    from moto.s3.models import s3_backends

    bucket = s3_backends[ACCOUNT_ID]["global"].buckets.get(bucket_name)
    return bucket is not None and upload_id in bucket.multiparts


def _s3_bucket(bucket_name: str) -> Any | None:
    from moto.s3.models import s3_backends

    return s3_backends[ACCOUNT_ID]["global"].buckets.get(bucket_name)


def bucket_exists(bucket_name: str) -> bool:
    return _s3_bucket(bucket_name) is not None


def _object_version(bucket_name: str, key_name: str, version_id: str | None = None) -> Any:
    """moto's key for the current version of an object, or for ``version_id``; None when there
    is none or it is a delete marker (in a versioned bucket, a deleted key's current version is
    a marker: no body, ETag or tags)."""
    from moto.s3.models import FakeKey

    bucket = _s3_bucket(bucket_name)
    if bucket is None:
        return None
    if version_id:
        key = next((v for v in bucket.keys.getlist(key_name, [])
                    if str(v.version_id if v.version_id is not None else "null") == version_id), None)
    else:
        key = bucket.keys.get(key_name)
    return key if isinstance(key, FakeKey) else None


def object_etag(bucket_name: str, key_name: str) -> str | None:
    """The ETag (quoted) of the current version of an object, None when there is none."""
    key = _object_version(bucket_name, key_name)
    return key.etag if key is not None else None


def object_tags(bucket_name: str, key_name: str, version_id: str | None = None) -> dict[str, str]:
    """The tags of the current version of an object, or of ``version_id`` (empty when there is
    none)."""
    from moto.s3.models import s3_backends

    key = _object_version(bucket_name, key_name, version_id)
    if key is None:
        return {}
    return dict(s3_backends[ACCOUNT_ID]["global"].tagger.get_tag_dict_for_resource(key.arn))


def multipart_parts(bucket_name: str, upload_id: str) -> dict[int, tuple[str, int]]:
    """{part number: (ETag without quotes, size)} of an upload in progress."""
    bucket = _s3_bucket(bucket_name)
    upload = bucket.multiparts.get(upload_id) if bucket is not None else None
    if upload is None:
        return {}
    return {int(n): (part.etag.replace('"', ""), part.contentsize) for n, part in upload.parts.items()}


def part_min_size() -> int:
    from moto.s3 import models as s3_models

    return s3_models.S3_UPLOAD_PART_MIN_SIZE


def object_chunks(bucket_name: str, key_name: str, etag: str, size: int,
                  start: int = 0, end: int | None = None) -> Any | None:
    """The bytes ``start`` to ``end`` (inclusive; default: all) of the current object version
    in 8 MiB chunks, read from its file as they are sent (moto's GetObject reads the whole
    object into memory, ranged ones included). None if the object is not the one with this
    ETag and size any more (the caller lets moto answer)."""
    key = _object_version(bucket_name, key_name)
    if key is None or key.etag != etag or key.size != size:
        return None
    stop = size if end is None else end + 1

    def chunks() -> Any:
        offset = start
        while offset < stop:
            with key.lock:
                try:
                    key._value_buffer.seek(offset)
                    data = key._value_buffer.read(min(COPY_CHUNK, stop - offset))
                except ValueError:  # replaced and disposed meanwhile: the response ends short
                    return
            if not data:
                return
            offset += len(data)
            yield data
    return chunks()


# --- CloudWatch Logs -------------------------------------------------------------------------

# Lambda's logs reach CloudWatch Logs some seconds after the function wrote them, Lambda@Edge's
# later still: CloudFront delivers edge function logs "on a best-effort basis" and an entry
# "might be delivered long after the request was actually processed"
# (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-logs.html).
# AWS seconds as emulated here (5 s and 10 s), compressed by timing.
LAMBDA_LOG_DELIVERY_SECONDS = 5.0
EDGE_LOG_DELIVERY_SECONDS = 10.0

_deliveries: list[tuple[float, int, Callable[[], None]]] = []  # a heap: (due, order, write)
_delivery_order = iter(range(1 << 62))
_delivery_ready = threading.Condition()
_delivery_thread: threading.Thread | None = None


def _deliver_forever() -> None:
    import heapq

    while True:
        with _delivery_ready:
            while not _deliveries or _deliveries[0][0] > time.monotonic():
                _delivery_ready.wait(None if not _deliveries else _deliveries[0][0] - time.monotonic())
            _, _, write = heapq.heappop(_deliveries)
        try:
            write()
        except Exception:  # a log group deleted meanwhile, a reset: the lines are lost, as on AWS
            pass


def _later(delay: float, write: Callable[[], None]) -> None:
    """``write()`` after ``delay`` seconds, in the order scheduled for equal times."""
    import heapq

    global _delivery_thread
    with _delivery_ready:
        heapq.heappush(_deliveries, (time.monotonic() + delay, next(_delivery_order), write))
        if _delivery_thread is None:
            _delivery_thread = threading.Thread(target=_deliver_forever, daemon=True,
                                                name="log-delivery")
            _delivery_thread.start()
        _delivery_ready.notify()


def put_log_lines(account_id: str, region: str, group: str, stream: str, lines: list[str],
                  delivery_seconds: float = 0.0) -> None:
    """Append lines to a CloudWatch Logs stream in moto, creating group and stream as needed.

    The group and stream exist at once; the events, stamped with the time of this call, become
    visible ``delivery_seconds`` (AWS seconds, compressed by timing) later. Events whose group
    was deleted meanwhile are lost."""
    now = int(time.time() * 1000)
    events = [{"timestamp": now, "message": line} for line in lines]
    backend = logs_backends[account_id][region]
    if group not in backend.groups:
        backend.create_log_group(group, {})
    if stream not in backend.groups[group].streams:
        backend.create_log_stream(group, stream)

    def write() -> None:
        backend.put_log_events(group, stream, events)

    delay = timing.seconds(delivery_seconds)
    if delay <= 0:
        write()
    else:
        _later(delay, write)


# --- Lambda --------------------------------------------------------------------------------

def lambda_function(account_id: str, region: str, name_or_arn: str,
                    qualifier: str | None = None) -> LambdaFunction | None:
    """The function (a specific version when qualified), or None if it does not exist."""
    from moto.awslambda.models import lambda_backends

    try:
        backend = lambda_backends[account_id][region]
        function = backend._lambdas.get_function_by_name_or_arn_with_qualifier(name_or_arn, qualifier)
    except Exception:  # moto raises its UnknownFunctionException (and KeyError for odd names)
        return None
    if function is None:
        return None
    layers = [backend.layers_versions_by_arn(layer["Arn"]).code_bytes for layer in function.layers]
    statements = list(function.policy.statements)
    return LambdaFunction(
        account=account_id, region=region, name=function.function_name, arn=function.function_arn,
        version=str(function.version), handler=function.handler or "",
        runtime=function.run_time or "", role=function.role,
        timeout=float(function.timeout or 3), memory=int(function.memory_size or 128),
        environment=dict(function.environment_vars or {}), code=function.code_bytes,
        code_sha=function.code_sha_256, layers=layers,
        resource_policy={"Version": "2012-10-17", "Statement": statements} if statements else None,
        state="Pending" if _pending(function) else "Active")


# A new role is not assumable by Lambda at once: IAM changes reach the other services after a
# delay ("eventually consistent", https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency),
# and CreateFunction with a role created seconds ago fails (AWS seconds; compressed by timing).
ROLE_PROPAGATION_SECONDS = 10.0


def role_propagating(role: Any) -> bool:
    """Whether a moto role is too new for other services to assume yet."""
    from moto.core.utils import utcnow

    created = getattr(role, "create_date", None)
    if created is None:
        return False
    return (utcnow() - created).total_seconds() < timing.seconds(ROLE_PROPAGATION_SECONDS)


def _install_root_identity_patch() -> None:
    """GetCallerIdentity with the root's keys: moto answers ``arn:aws:sts::ACCOUNT:user/moto``
    for any key it did not issue; AWS answers the root's ARN with the account as UserId
    (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html). Keys the
    local AWS did not issue never reach moto (control_auth.py refuses them), so what is left
    is the root."""
    from moto.sts.models import STSBackend

    original = STSBackend.get_caller_identity

    def get_caller_identity(self, access_key_id, region):  # type: ignore[no-untyped-def]
        user_id, arn, account = original(self, access_key_id, region)
        if arn.endswith(":user/moto"):
            return account, arn.split(":sts:", 1)[0] + f":iam::{account}:root", account
        return user_id, arn, account

    STSBackend.get_caller_identity = get_caller_identity


def _install_lambda_patches(trust_allows: Callable[[str | None, str], bool]) -> None:
    """CreateFunction's InvalidParameterValue for a role Lambda cannot assume (its trust policy
    does not allow it, or it was created too recently to have propagated) and for code that is
    not a zip file (moto accepts all three)."""
    from moto.awslambda import models as lambda_models
    from moto.awslambda.exceptions import InvalidParameterValueException

    original_put = lambda_models.LambdaStorage.put_function

    def put_function(self, fn):  # type: ignore[no-untyped-def]
        import io
        import zipfile

        code = getattr(fn, "code_bytes", b"")
        if code and getattr(fn, "package_type", "Zip") != "Image" and not zipfile.is_zipfile(io.BytesIO(code)):
            raise InvalidParameterValueException(
                "Could not unzip uploaded file. Please check your file, then try to upload again.")
        role = _moto_role(self.account_id, fn.role)
        if role is not None and (not trust_allows(role.assume_role_policy_document, "lambda.amazonaws.com")
                                 or role_propagating(role)):
            raise InvalidParameterValueException(
                "The role defined for the function cannot be assumed by Lambda.")
        return original_put(self, fn)

    lambda_models.LambdaStorage.put_function = put_function
    _install_lambda_state_patches(trust_allows)


# Lambda function states (https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html),
# in AWS seconds (compressed by timing): a new function is Pending before it is Active, an
# update is InProgress before it is Successful. moto reports Active and Successful at once.
FUNCTION_PENDING_SECONDS = 2.0
FUNCTION_UPDATE_SECONDS = 2.0


def _within(function: Any, attribute: str, aws_seconds: float) -> bool:
    started = getattr(function, attribute, None)
    return started is not None and time.monotonic() - started < timing.seconds(aws_seconds)


def _pending(function: Any) -> bool:
    return _within(function, "_s3wb_created", FUNCTION_PENDING_SECONDS)


def _updating(function: Any) -> bool:
    return _within(function, "_s3wb_updated", FUNCTION_UPDATE_SECONDS)


def _install_lambda_state_patches(trust_allows: Callable[[str | None, str], bool]) -> None:
    """State Pending after CreateFunction, LastUpdateStatus InProgress after UpdateFunctionCode
    and UpdateFunctionConfiguration; in those windows UpdateFunctionCode,
    UpdateFunctionConfiguration and PublishVersion are ResourceConflictException, as on AWS
    (Invoke's refusal of a Pending function is in awslambda/responses.py, which reads
    :attr:`LambdaFunction.state`). UpdateFunctionConfiguration to a role Lambda cannot assume
    (yet) is refused as CreateFunction refuses it."""
    from moto.awslambda import models as lambda_models
    from moto.awslambda.exceptions import InvalidParameterValueException, LambdaClientError

    class ResourceConflict(LambdaClientError):
        code = 409

        def __init__(self, message: str) -> None:
            super().__init__("ResourceConflictException", message)

    def refuse_if_busy(backend: Any, name_or_arn: str) -> Any:
        function = backend._lambdas.get_function_by_name_or_arn_with_qualifier(name_or_arn)
        if _pending(function):
            raise ResourceConflict("The operation cannot be performed at this time. The function "
                                   "is currently in the following state: Pending")
        if _updating(function):
            raise ResourceConflict("The operation cannot be performed at this time. An update is "
                                   f"in progress for resource: {function.function_arn}")
        return function

    original_configuration = lambda_models.LambdaFunction.get_configuration

    def get_configuration(self, on_create=False):  # type: ignore[no-untyped-def]
        config = original_configuration(self, on_create)
        if _pending(self):
            config.update(State="Pending", StateReason="The function is being created.",
                          StateReasonCode="Creating")
        elif _updating(self):
            config.update(LastUpdateStatus="InProgress",
                          LastUpdateStatusReason="The function is being created.",
                          LastUpdateStatusReasonCode="Creating")
        return config

    lambda_models.LambdaFunction.get_configuration = get_configuration

    original_create = lambda_models.LambdaBackend.create_function

    def create_function(self, spec):  # type: ignore[no-untyped-def]
        created = original_create(self, spec)
        latest = self._lambdas.get_function_by_name_or_arn_with_qualifier(created.function_name)
        latest._s3wb_created = time.monotonic()
        return created

    lambda_models.LambdaBackend.create_function = create_function

    def updated(self, function_name, result):  # type: ignore[no-untyped-def]
        latest = self._lambdas.get_function_by_name_or_arn_with_qualifier(function_name)
        latest._s3wb_updated = time.monotonic()
        if isinstance(result, dict) and result.get("Version") == "$LATEST":
            result = latest.get_configuration()
        return result

    original_code = lambda_models.LambdaBackend.update_function_code

    def update_function_code(self, function_name, qualifier, body):  # type: ignore[no-untyped-def]
        refuse_if_busy(self, function_name)
        if body.get("DryRun"):
            return original_code(self, function_name, qualifier, body)
        return updated(self, function_name, original_code(self, function_name, qualifier, body))

    lambda_models.LambdaBackend.update_function_code = update_function_code

    original_configure = lambda_models.LambdaBackend.update_function_configuration

    def update_function_configuration(self, function_name, qualifier, body):  # type: ignore[no-untyped-def]
        refuse_if_busy(self, function_name)
        role = _moto_role(self.account_id, body["Role"]) if body.get("Role") else None
        if role is not None and (not trust_allows(role.assume_role_policy_document, "lambda.amazonaws.com")
                                 or role_propagating(role)):
            raise InvalidParameterValueException(
                "The role defined for the function cannot be assumed by Lambda.")
        return updated(self, function_name, original_configure(self, function_name, qualifier, body))

    lambda_models.LambdaBackend.update_function_configuration = update_function_configuration

    original_publish = lambda_models.LambdaBackend.publish_version

    def publish_version(self, function_name, description=""):  # type: ignore[no-untyped-def]
        refuse_if_busy(self, function_name)
        version = original_publish(self, function_name, description)
        if version is not None:  # a version is Active at once (it copied the latest's marks)
            version._s3wb_created = version._s3wb_updated = None
        return version

    lambda_models.LambdaBackend.publish_version = publish_version

    original_delete = lambda_models.LambdaBackend.delete_function

    def delete_function(self, function_name, qualifier=None):  # type: ignore[no-untyped-def]
        try:
            latest = self._lambdas.get_function_by_name_or_arn_with_qualifier(function_name)
        except Exception:  # unknown: moto answers ResourceNotFoundException
            return original_delete(self, function_name, qualifier)
        base = latest.function_arn.split(":$LATEST")[0]
        replicated = replicated_version(base, qualifier)
        if replicated is not None:
            raise InvalidParameterValueException(
                f"Lambda was unable to delete {replicated} because it is a replicated function. "
                "Please see our documentation for Deleting Lambda@Edge Functions and Replicas.")
        original_delete(self, function_name, qualifier)
        _forget_replicas(base, qualifier)

    lambda_models.LambdaBackend.delete_function = delete_function


# --- Credentials -------------------------------------------------------------------------------

def assume_role(account_id: str, role_arn: str, session_name: str, duration: int = 3600) -> Credentials:
    """Temporary credentials for a role, minted by the local STS (as Lambda does for its role)."""
    from moto.sts.models import sts_backends

    assumed = sts_backends[account_id]["global"].assume_role(
        region_name="us-east-1", role_session_name=session_name, role_arn=role_arn,
        policy="", duration=duration, external_id="")
    return Credentials(assumed.access_key_id, assumed.secret_access_key, assumed.session_token)


def _user_policies(backend: Any, user: Any) -> list[str]:
    """A user's inline and attached policies, and those of its groups, as the other services see
    them now (see :func:`effective_policies`)."""
    return effective_policies(user, _live_user_documents(backend, user))


def principal_policies(account_id: str, arn: str) -> list[str] | None:
    """The identity policies of the IAM user or role with this ARN (None if there is none)."""
    backend = iam_backends[account_id]["global"]
    for user in list(backend.users.values()):
        if user.arn == arn:
            return _user_policies(backend, user)
    role = _moto_role(account_id, arn)
    return _identity_policies(role) if role is not None else None


def find_credentials(access_key_id: str) -> dict[str, Any] | None:
    """Who an access key belongs to, for request authentication.

    Returns ``{"secret", "arn", "account", "kind" ("root"|"user"|"role"), "policies",
    "session_token", "expiration", "active"}`` or None for an unknown key.
    """
    from moto.sts.models import sts_backends

    for account_id in list(sts_backends.keys()):
        for assumed in list(sts_backends[account_id]["global"].assumed_roles):
            if assumed.access_key_id == access_key_id:
                role = _moto_role(account_id, assumed.role_arn)
                role_name = assumed.role_arn.split("/")[-1]
                return {
                    "secret": assumed.secret_access_key,
                    "arn": f"arn:aws:sts::{account_id}:assumed-role/{role_name}/{assumed.session_name}",
                    "account": account_id, "kind": "role",
                    "policies": _identity_policies(role) if role is not None else [],
                    "session_token": assumed.session_token,
                    "expiration": assumed.expiration, "active": role is not None,
                }
    for account_id in list(iam_backends.keys()):
        backend = iam_backends[account_id]["global"]
        for user in list(backend.users.values()):
            for key in user.access_keys:
                if key.access_key_id == access_key_id:
                    return {
                        "secret": key.secret_access_key, "arn": user.arn, "account": account_id,
                        "kind": "user", "policies": _user_policies(backend, user), "session_token": None,
                        "expiration": None, "active": key.status == "Active",
                    }
    return None


# --- CloudFront ----------------------------------------------------------------------------------

def _moto_distributions() -> list[Any]:
    from moto.cloudfront.models import cloudfront_backends

    return list(cloudfront_backends[ACCOUNT_ID]["global"].distributions.values())


def _behaviour(behaviour: Any, path_pattern: str = "*") -> CacheBehaviour:
    return CacheBehaviour(
        path_pattern=getattr(behaviour, "path_pattern", None) or path_pattern,
        target_origin_id=behaviour.target_origin_id,
        allowed_methods=list(behaviour.allowed_methods.items),
        lambda_associations=list((getattr(behaviour, "lambda_function_associations", None)
                                  or {}).get("Items") or []),
        cache_policy_id=getattr(behaviour, "cache_policy_id", "") or "",
        origin_request_policy_id=getattr(behaviour, "origin_request_policy_id", "") or "",
        response_headers_policy_id=getattr(behaviour, "response_headers_policy_id", "") or "",
        forwarded_headers=tuple((getattr(getattr(behaviour, "forwarded_values", None), "Headers", None)
                                 or {}).get("Items") or ()))


def _distribution(dist: Any) -> Distribution:
    config = dist.distribution_config
    origins = {}
    for origin in config.Origins["Items"]:
        s3_config = getattr(origin, "s3_origin_config", None) or {}
        origins[origin.id] = Origin(origin.id, origin.domain_name, origin.origin_path or "",
                                    s3_config.get("OriginAccessIdentity", "") or "",
                                    getattr(origin, "origin_access_control_id", "") or "")
    return Distribution(
        id=dist.distribution_id, arn=dist.arn, domain_name=dist.domain_name,
        enabled=str(config.Enabled).lower() == "true",
        default_behaviour=_behaviour(config.DefaultCacheBehavior),
        behaviours=[_behaviour(b) for b in (config.CacheBehaviors or {}).get("Items") or []],
        origins=origins)


def cloudfront_distributions() -> list[Distribution]:
    """Every distribution of the local account, with its whole config (see the patches)."""
    return [_distribution(dist) for dist in _moto_distributions()]


def oai_in_use(identity_id: str) -> bool:
    """Whether any distribution's S3 origin uses the origin access identity."""
    for dist in _moto_distributions():
        for origin in dist.distribution_config.Origins["Items"]:
            config = getattr(origin, "s3_origin_config", None) or {}
            if config.get("OriginAccessIdentity", "").endswith("/" + identity_id):
                return True
    return False


def _install_cloudfront_patches(
        check_associations: Callable[[list[tuple[str, dict[str, Any]]]], None]) -> None:
    """Keep distribution configs whole, enforce ETag/If-Match and the delete rule, and check
    Lambda@Edge associations (``check_associations``) on create and update."""
    from moto.cloudfront import models as cf

    def checked(config: dict) -> None:
        try:
            check_associations(associations(config))
        except Rejected as refusal:
            raise _cloudfront_exception(refusal.code, refusal.message) from None

    original_origin = cf.Origin.__init__

    def origin_init(self, origin):  # type: ignore[no-untyped-def]
        original_origin(self, origin)
        # moto drops both; the serializer emits them under these attribute names.
        self.s3_origin_config = origin.get("S3OriginConfig")
        self.origin_access_control_id = origin.get("OriginAccessControlId", "")

    cf.Origin.__init__ = origin_init

    original_behaviour = cf.DefaultCacheBehaviour.__init__

    def behaviour_init(self, config):  # type: ignore[no-untyped-def]
        original_behaviour(self, config)
        for name, attribute in (("LambdaFunctionAssociations", "lambda_function_associations"),
                                ("FunctionAssociations", "function_associations")):
            items = (config.get(name) or {}).get("Items") or []
            setattr(self, attribute, {"Quantity": len(items), "Items": items} if items else {"Quantity": 0})

    cf.DefaultCacheBehaviour.__init__ = behaviour_init

    def associations(config: dict) -> list[tuple[str, dict]]:
        behaviours = [config.get("DefaultCacheBehavior") or {}]
        behaviours += (config.get("CacheBehaviors") or {}).get("Items") or []
        return [(b.get("PathPattern", "*"), item) for b in behaviours if isinstance(b, dict)
                for item in (b.get("LambdaFunctionAssociations") or {}).get("Items") or []]

    original_create = cf.CloudFrontBackend.create_distribution_with_tags

    def create(self, distribution_config, tags):  # type: ignore[no-untyped-def]
        checked(distribution_config)
        result = original_create(self, distribution_config, tags)
        result[0]._s3wb_changed = time.monotonic()  # InProgress until deployed
        _track_edge_associations(self)
        return result

    cf.CloudFrontBackend.create_distribution_with_tags = create

    original_update = cf.CloudFrontBackend.update_distribution
    # Held across the If-Match check and the change: of two writers with the same ETag, one wins.
    writing = threading.RLock()

    def update(self, dist_config, _id, if_match):  # type: ignore[no-untyped-def]
        with writing:
            return checked_update(self, dist_config, _id, if_match)

    def checked_update(self, dist_config, _id, if_match):  # type: ignore[no-untyped-def]
        from moto.cloudfront.exceptions import InvalidIfMatchVersion

        dist = self.distributions.get(_id)
        if dist is not None and if_match and if_match != dist.etag:
            raise _PreconditionFailed()
        if not if_match:
            raise InvalidIfMatchVersion()
        checked(dist_config or {})
        result = original_update(self, dist_config, _id, if_match)
        dist.etag = cf.random_id()
        dist._s3wb_changed = time.monotonic()  # InProgress until deployed
        _track_edge_associations(self)
        return dist, result[1], dist.etag

    cf.CloudFrontBackend.update_distribution = update

    original_delete = cf.CloudFrontBackend.delete_distribution

    def delete(self, distribution_id, if_match):  # type: ignore[no-untyped-def]
        with writing:
            dist = self.distributions.get(distribution_id)
            if dist is not None and if_match:
                if if_match != dist.etag:
                    raise _PreconditionFailed()
                # Disabled is not enough: the change must have been deployed (Status Deployed).
                if str(dist.distribution_config.Enabled).lower() == "true" or _deploying(dist):
                    raise _NotDisabled()
            original_delete(self, distribution_id, if_match)
            _track_edge_associations(self)

    cf.CloudFrontBackend.delete_distribution = delete

    def status(self):  # type: ignore[no-untyped-def]
        return "InProgress" if _deploying(self) else "Deployed"

    def ignore_status(self, value):  # type: ignore[no-untyped-def]
        pass  # ManagedState's transitions: the status follows from the time of the last change

    cf.Distribution.status = property(status, ignore_status)


# A new or changed distribution is InProgress until the change reaches every edge location,
# then Deployed: "reliably ... within 5 minutes" (AWS Networking & Content Delivery blog,
# "Slashing CloudFront change propagation times in 2020"). 20 AWS seconds here, compressed by
# timing, so that waiting is needed but a notebook's several changes stay short.
DISTRIBUTION_DEPLOY_SECONDS = 20.0

# Lambda@Edge: a function version that a distribution used keeps its replicas until some time
# after its last association is gone (the association removed, or the distribution deleted);
# until then DeleteFunction is refused. "Replicas are typically deleted within a few hours"
# (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-edge-delete-replicas.html);
# 30 AWS seconds here, compressed by timing.
EDGE_REPLICA_SECONDS = 30.0

# qualified function version ARN -> None while a distribution uses it, else the monotonic time
# its last association went.
_edge_replicas: dict[str, float | None] = {}
_edge_lock = threading.Lock()


def _deploying(dist: Any) -> bool:
    return _within(dist, "_s3wb_changed", DISTRIBUTION_DEPLOY_SECONDS)


def _track_edge_associations(backend: Any) -> None:
    """After a distribution is created, changed or deleted: which function versions are in use
    now, and since when the others are not."""
    in_use = {item.get("LambdaFunctionARN") for dist in list(backend.distributions.values())
              for behaviour in _distribution(dist).behaviours + [_distribution(dist).default_behaviour]
              for item in behaviour.lambda_associations}
    now = time.monotonic()
    with _edge_lock:
        for arn in in_use:
            if arn:
                _edge_replicas[arn] = None
        for arn, released in list(_edge_replicas.items()):
            if released is None and arn not in in_use:
                _edge_replicas[arn] = now


def replicated_version(function_arn: str, version: str | None = None) -> str | None:
    """The qualified ARN of a version of the function (``version``, or any) whose Lambda@Edge
    replicas still exist, or None when it may be deleted."""
    window = timing.seconds(EDGE_REPLICA_SECONDS)
    now = time.monotonic()
    with _edge_lock:
        for arn, released in sorted(_edge_replicas.items()):
            base, _, qualifier = arn.rpartition(":")
            if base != function_arn or (version not in (None, "$LATEST") and qualifier != version):
                continue
            if released is None or now - released < window:
                return arn
    return None


def _forget_replicas(function_arn: str, version: str | None) -> None:
    with _edge_lock:
        for arn in list(_edge_replicas):
            base, _, qualifier = arn.rpartition(":")
            if base == function_arn and (version in (None, "$LATEST") or qualifier == version):
                del _edge_replicas[arn]


def _cloudfront_exception(code: str, message: str) -> Exception:
    from moto.cloudfront.exceptions import CloudFrontException

    return CloudFrontException(code, message)


def _PreconditionFailed() -> Exception:  # noqa: N802 - reads like the error it raises
    return _cloudfront_exception("PreconditionFailed", "The request failed because it didn't meet "
                                 "the preconditions in one or more request-header fields.")


def _NotDisabled() -> Exception:  # noqa: N802
    return _cloudfront_exception("DistributionNotDisabled", "The distribution you are trying to "
                                 "delete has not been disabled.")


# --- S3 object bytes on disk -------------------------------------------------------------------

BODY_ENVIRON_KEY = "s3wb.file_body"
COPY_CHUNK = 8 * 1024 * 1024


class FileBody:
    """A request body already spooled to a file, handed to moto in place of ``bytes``.

    moto's FakeKey adopts the file as its storage (no copy in memory); ``md5`` is the hex digest
    computed while spooling, so the ETag needs no second pass over the bytes."""

    def __init__(self, file: Any, size: int, md5: str | None = None) -> None:
        self.file, self.size, self.md5 = file, size, md5
        self.adopted = False  # set when a key took the file as its storage

    def __len__(self) -> int:
        return self.size

    def __bool__(self) -> bool:
        return True  # even when empty: moto must take this path, not `body or b""`


def _append_file(target: Any, source: Any) -> int:
    """Append all of ``source`` (a file or a spooled file) to ``target``; returns the bytes
    copied. File to file, the kernel copies (copy_file_range): no bytes pass through Python."""
    source.seek(0)
    start = target.seek(0, os.SEEK_END)
    if getattr(source, "_rolled", True) and hasattr(os, "copy_file_range"):
        try:
            source_fd, target_fd = source.fileno(), target.fileno()
            target.flush()
            copied = 0
            while n := os.copy_file_range(source_fd, target_fd, COPY_CHUNK * 8):
                copied += n
            target.seek(0, os.SEEK_END)
            return copied
        except (OSError, ValueError, AttributeError):  # another file system or no fd: copy in Python
            target.truncate(start)
            target.seek(start)
            source.seek(0)
    copied = 0
    for chunk in iter(lambda: source.read(COPY_CHUNK), b""):
        target.write(chunk)
        copied += len(chunk)
    return copied


def _install_s3_streaming_patches() -> None:
    from moto.s3 import models as s3_models
    from moto.s3 import responses as s3_responses
    from moto.s3.exceptions import EntityTooSmall, InvalidPart, MalformedXML
    from moto.s3.models import FakeKey, FakeMultipart

    original_setup = s3_responses.S3Response.setup_class

    def setup_class(self, request, full_url=None, headers=None):  # type: ignore[no-untyped-def]
        original_setup(self, request, full_url, headers)
        if "Signature" in self.querystring and "AWSAccessKeyId" in self.querystring:
            # A SigV2 presigned URL's Expires is when the URL expires (checked in s3/auth.py);
            # moto would store it as the object's Expires header, which S3 never does.
            for name in ("AWSAccessKeyId", "Signature", "Expires"):
                self.querystring.pop(name, None)
        body = getattr(request, "environ", {}).get(BODY_ENVIRON_KEY)
        if body is not None:
            self.body = body

    s3_responses.S3Response.setup_class = setup_class

    original_value = FakeKey.value

    def set_value(self, new_value):  # type: ignore[no-untyped-def]
        if not isinstance(new_value, FileBody):
            return original_value.fset(self, new_value)
        previous, self._value_buffer = self._value_buffer, new_value.file
        new_value.adopted = True
        self.contentsize = new_value.size
        if self._etag is None and new_value.md5:
            self._etag = new_value.md5
        previous.close()

    FakeKey.value = property(original_value.fget, set_value)

    def complete(self, body):  # type: ignore[no-untyped-def]
        """FakeMultipart.complete without holding the object in memory: S3's checks (each part
        listed with its ETag, every part but the last at least 5 MiB), then the parts' files
        copied in order into one file. Checksums of the whole object are the data plane's
        (store.S3Store), not moto's."""
        import codecs
        import hashlib
        import tempfile

        listed = []
        for number, etag in body:
            part = self.parts.get(number)
            if part is None or part.etag.replace('"', "") != etag.replace('"', ""):
                raise InvalidPart()
            listed.append(part)
        if not listed:
            raise MalformedXML()
        if any(part.contentsize < s3_models.S3_UPLOAD_PART_MIN_SIZE for part in listed[:-1]):
            raise EntityTooSmall()
        joined = tempfile.TemporaryFile()
        md5s = b""
        size = 0
        for part in listed:
            md5s += codecs.decode(part.etag.replace('"', ""), "hex")
            with part.lock:
                size += _append_file(joined, part._value_buffer)
        etag = f"{hashlib.md5(md5s).hexdigest()}-{len(listed)}"
        return FileBody(joined, size), etag, None

    FakeMultipart.complete = complete


# --- API Gateway usage plans --------------------------------------------------------------

def _install_usage_plan_patches() -> None:
    """A new usage-plan key is marked with its creation time (the data plane accepts it
    :data:`API_KEY_PROPAGATION_SECONDS` later). AWS refuses DeleteUsagePlan while API stages are still associated with the plan
    (``BadRequestException``: "Cannot delete Usage Plan ID because there are API Stages associated
    with it, including API:STAGE"); the stages must be removed first with UpdateUsagePlan
    (``remove /apiStages`` with value ``API:STAGE``). moto deletes the plan at once."""
    from moto.apigateway.exceptions import BadRequestException

    original_delete = apigw_models.APIGatewayBackend.delete_usage_plan

    def delete_usage_plan(self, usage_plan_id):  # type: ignore[no-untyped-def]
        plan = self.usage_plans.get(usage_plan_id)
        if plan is not None and plan.api_stages:
            first = plan.api_stages[0]
            raise BadRequestException(
                f"Cannot delete Usage Plan {usage_plan_id} because there are API Stages associated "
                f"with it, including {first['apiId']}:{first['stage']}")
        return original_delete(self, usage_plan_id)

    apigw_models.APIGatewayBackend.delete_usage_plan = delete_usage_plan

    original_link = apigw_models.APIGatewayBackend.create_usage_plan_key

    def create_usage_plan_key(self, usage_plan_id, payload):  # type: ignore[no-untyped-def]
        link = original_link(self, usage_plan_id, payload)
        link._s3wb_created = time.monotonic()  # effective later: see API_KEY_PROPAGATION_SECONDS
        return link

    apigw_models.APIGatewayBackend.create_usage_plan_key = create_usage_plan_key


# --- Cognito user pools -------------------------------------------------------------------

def _install_cognito_patches() -> None:
    """Each user pool signs its tokens with its own RSA key, named by its own ``kid`` (AWS:
    "Amazon Cognito ... generates two pairs of RSA cryptographic keys for each user pool",
    https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html).
    moto 5.2.5 signs every pool's tokens with one fixed key, ``kid`` "dummy"."""
    import base64
    import hashlib

    from joserfc import jwk, jwt
    from moto.cognitoidp import models as cognito_models

    original_init = cognito_models.CognitoIdpUserPool.__init__

    # moto's __init__ imports its one fixed key from JSON for every pool (recovering the RSA
    # primes each time, about a tenth of a second) before the key is replaced below: it is
    # imported once and handed out again. Nothing else in moto's Cognito module uses ``jwk``.
    class FixedKeyOnce:
        imported: dict[str, Any] = {}

        @classmethod
        def import_key(cls, data):  # type: ignore[no-untyped-def]
            text = json.dumps(data, sort_keys=True) if not isinstance(data, str) else data
            if text not in cls.imported:
                cls.imported[text] = jwk.RSAKey.import_key(data)
            return cls.imported[text]

    cognito_models.jwk = type("jwk", (), {"RSAKey": FixedKeyOnce})

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original_init(self, *args, **kwargs)
        key = jwk.RSAKey.generate_key(2048, private=True)
        public = key.as_dict(private=False)
        digest = hashlib.sha256(f"{self.id}:{public['n']}".encode()).digest()
        self._s3wb_kid = base64.b64encode(digest).decode()
        self.json_web_key = key

    cognito_models.CognitoIdpUserPool.__init__ = __init__

    original_create_jwt = cognito_models.CognitoIdpUserPool.create_jwt

    def create_jwt(self, client_id, username, token_use, expires_in=60 * 60, extra_data=None):  # type: ignore[no-untyped-def]
        token, expires = original_create_jwt(self, client_id, username, token_use, expires_in, extra_data)
        # moto writes kid "dummy" into the header: re-sign the same claims with this pool's kid.
        claims = jwt.decode(token, self.json_web_key).claims
        return jwt.encode({"kid": self._s3wb_kid, "alg": "RS256"}, claims, self.json_web_key), expires

    cognito_models.CognitoIdpUserPool.create_jwt = create_jwt


def _cognito_pool(pool_id: str) -> Any | None:
    from moto.cognitoidp.models import cognitoidp_backends

    for account_id in list(cognitoidp_backends.keys()):
        for _region, backend in list(cognitoidp_backends[account_id].items()):
            pool = backend.user_pools.get(pool_id)
            if pool is not None:
                return pool
    return None


def cognito_jwks(pool_id: str) -> dict[str, Any] | None:
    """The user pool's JSON Web Key Set (public keys only, as ``/.well-known/jwks.json`` serves
    it), or None when no such pool exists."""
    pool = _cognito_pool(pool_id)
    if pool is None:
        return None
    public = pool.json_web_key.as_dict(private=False)
    return {"keys": [{"alg": "RS256", "e": public["e"], "kid": getattr(pool, "_s3wb_kid", "dummy"),
                      "kty": "RSA", "n": public["n"], "use": "sig"}]}


def cognito_pool_region(pool_id: str) -> str | None:
    pool = _cognito_pool(pool_id)
    return None if pool is None else pool.region
