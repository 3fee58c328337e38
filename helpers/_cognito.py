"""Authenticating uploaders: a Cognito user pool, its tokens, and authorizers in front of option
2's presign API (notebook 06).

Each step is one small call taking the boto3 client it uses (``idp`` is ``cognito-idp``):

    pool = create_user_pool(f"{prefix}-users", idp=idp, prefix=prefix)
    client_id = create_app_client(pool["pool_id"], idp=idp)
    sign_up_user(pool["pool_id"], client_id, "learner", password, idp=idp)
    tokens = sign_in(client_id, "learner", password, idp=idp)
    header, claims = decode_token(tokens["IdToken"])      # reading, not verifying
"""
from __future__ import annotations

import base64
import json
import secrets
import string
from typing import Any

from ._names import PREFIX_TAG_KEY, TAG_KEY, TAG_VALUE

EDGE_MODULE = "edge_cognito"


def create_user_pool(name: str, *, idp: Any, prefix: str) -> dict[str, str]:
    """A user pool where users sign in with a user name and password (at least 12 characters
    with upper, lower case and digits), tagged with ``prefix`` for the clean-up."""
    pool = idp.create_user_pool(
        PoolName=name,
        Policies={"PasswordPolicy": {"MinimumLength": 12, "RequireUppercase": True,
                                     "RequireLowercase": True, "RequireNumbers": True,
                                     "RequireSymbols": False}},
        AutoVerifiedAttributes=["email"],
        UserPoolTags={TAG_KEY: TAG_VALUE, PREFIX_TAG_KEY: prefix})["UserPool"]
    return {"pool_id": pool["Id"], "pool_arn": pool["Arn"], "name": pool["Name"]}


def create_app_client(pool_id: str, *, idp: Any, name: str = "uploader") -> str:
    """An app client without a secret (a browser or notebook cannot keep one) allowing sign-in
    with user name and password (``USER_PASSWORD_AUTH``) and refresh tokens; ID and access
    tokens live one hour."""
    client = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName=name, GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        IdTokenValidity=60, AccessTokenValidity=60,
        TokenValidityUnits={"IdToken": "minutes", "AccessToken": "minutes"})
    return client["UserPoolClient"]["ClientId"]


def new_password() -> str:
    """A random password the pool's policy accepts (never printed by the notebook)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(20))
        if any(c.isupper() for c in candidate) and any(c.islower() for c in candidate) \
                and any(c.isdigit() for c in candidate):
            return candidate


def sign_up_user(pool_id: str, client_id: str, username: str, password: str, *, idp: Any,
                 email: str | None = None) -> str:
    """Sign a user up as the app would (``SignUp``, unauthenticated), then confirm them as an
    administrator (``AdminConfirmSignUp``) instead of waiting for an emailed code. Returns the
    user's ``sub``, the id that never changes."""
    attributes = [{"Name": "email", "Value": email or f"{username}@example.com"}]
    answer = idp.sign_up(ClientId=client_id, Username=username, Password=password,
                         UserAttributes=attributes)
    idp.admin_confirm_sign_up(UserPoolId=pool_id, Username=username)
    return answer["UserSub"]


def sign_in(client_id: str, username: str, password: str, *, idp: Any) -> dict[str, Any]:
    """``InitiateAuth`` with ``USER_PASSWORD_AUTH``: the ID, access and refresh tokens."""
    answer = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": username, "PASSWORD": password})
    return answer["AuthenticationResult"]


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def decode_token(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A JWT's header and claims, *without* checking anything: for reading only. Whoever
    accepts a token must verify it (the authorizer and the edge function do)."""
    header, claims, _signature = token.split(".")
    return json.loads(_b64url(header)), json.loads(_b64url(claims))


def issuer(pool_id: str, region: str) -> str:
    """The ``iss`` claim of the pool's tokens."""
    return f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"


def jwks_url(pool_id: str, *, target: Any) -> str:
    """Where the pool's public keys are: under the issuer on AWS
    (``https://cognito-idp.{region}.amazonaws.com/{pool}/.well-known/jwks.json``); on the local
    AWS, the same path on its endpoint."""
    if target.is_local:
        return f"{target.endpoint_url.rstrip('/')}/{pool_id}/.well-known/jwks.json"
    return f"{issuer(pool_id, target.region)}/.well-known/jwks.json"


def create_cognito_authorizer(api_id: str, pool_arn: str, *, apigw: Any, name: str = "users") -> str:
    """A ``COGNITO_USER_POOLS`` authorizer reading the token from the ``Authorization`` header."""
    return apigw.create_authorizer(restApiId=api_id, name=name, type="COGNITO_USER_POOLS",
                                   providerARNs=[pool_arn],
                                   identitySource="method.request.header.Authorization")["id"]


def create_lambda_authorizer(api_id: str, function_arn: str, *, apigw: Any, lam: Any, region: str,
                             account: str, kind: str = "TOKEN", name: str = "tokens",
                             identity_source: str = "method.request.header.Authorization",
                             ttl_seconds: int = 300, validation: str | None = None) -> str:
    """A Lambda authorizer (``TOKEN`` or ``REQUEST``), and the permission for API Gateway to
    invoke its function (scoped to this authorizer's ARN)."""
    extra = {"identityValidationExpression": validation} if validation else {}
    uri = f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    authorizer_id = apigw.create_authorizer(
        restApiId=api_id, name=name, type=kind, authorizerUri=uri, identitySource=identity_source,
        authorizerResultTtlInSeconds=ttl_seconds, **extra)["id"]
    lam.add_permission(FunctionName=function_arn, StatementId=f"apigateway-authorizer-{authorizer_id}",
                       Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
                       SourceArn=f"arn:aws:execute-api:{region}:{account}:{api_id}/authorizers/{authorizer_id}")
    return authorizer_id


def protect_method(api_id: str, resource_id: str, http_method: str, *, apigw: Any, kind: str,
                   authorizer_id: str) -> None:
    """Put an authorizer in front of an existing method (``kind``: ``COGNITO_USER_POOLS`` or
    ``CUSTOM`` for a Lambda authorizer). Takes effect at the next deployment."""
    apigw.update_method(restApiId=api_id, resourceId=resource_id, httpMethod=http_method,
                        patchOperations=[{"op": "replace", "path": "/authorizationType", "value": kind},
                                         {"op": "replace", "path": "/authorizerId", "value": authorizer_id}])


def delete_user_pool(pool_id: str, *, idp: Any) -> bool:
    """Delete a user pool (its users and app clients with it); False if it was already gone."""
    try:
        idp.delete_user_pool(UserPoolId=pool_id)
    except idp.exceptions.ResourceNotFoundException:
        return False
    return True


def add_authorized_method(api_id: str, resource_id: str, *, apigw: Any, kind: str,
                          authorizer_id: str, http_method: str = "GET",
                          path_parameters: tuple[str, ...] = ("object",)) -> None:
    """Declare a method behind an authorizer (``kind``: ``COGNITO_USER_POOLS``, or ``CUSTOM``
    for a Lambda authorizer)."""
    apigw.put_method(restApiId=api_id, resourceId=resource_id, httpMethod=http_method,
                     authorizationType=kind, authorizerId=authorizer_id,
                     requestParameters={f"method.request.path.{p}": True for p in path_parameters})


def create_user_presign_function(prefix: str, *, bucket: str, target: Any,
                                 expires_seconds: int = 300) -> dict[str, str]:
    """Option 2's presign function, signing under ``uploads/{sub}/``: a role that may put
    objects under ``uploads/`` only, and the function ``presign_user_upload``."""
    from ._iam import create_service_role
    from ._lambda import BASIC_EXECUTION_POLICY, create_function
    from ._presign import presign_role_policy

    role = create_service_role(f"{prefix}-presign", service="lambda.amazonaws.com",
                               policy=presign_role_policy(bucket), iam=target.client("iam"),
                               prefix=prefix, managed_policies=(BASIC_EXECUTION_POLICY,))
    fn = create_function(f"{prefix}-presign", module="presign_user_upload", role_arn=role["role_arn"],
                         lam=target.client("lambda"), prefix=prefix,
                         environment={"UPLOAD_BUCKET": bucket, "URL_EXPIRES_SECONDS": str(expires_seconds)})
    return {**fn, "role_name": role["role_name"]}


def cognito_substitutions(pool_id: str, client_id: str, *, target: Any) -> dict[str, str]:
    """What ``edge_cognito.py`` needs written in (Lambda@Edge has no environment variables)."""
    return {"__USER_POOL_ID__": pool_id, "__REGION__": target.region, "__CLIENT_ID__": client_id,
            "__JWKS_URL__": jwks_url(pool_id, target=target)}


def authorizer_package(pool_id: str, client_id: str, *, target: Any,
                       blocked_users: tuple[str, ...] = ()) -> bytes:
    """``token_authorizer.py`` with ``edge_cognito.py`` (its token check) beside it in one zip,
    the settings written in."""
    from ._lambda import function_source, package_source

    edge = function_source(EDGE_MODULE)
    for placeholder, value in cognito_substitutions(pool_id, client_id, target=target).items():
        edge = edge.replace(placeholder, value)
    authorizer = function_source("token_authorizer").replace("__BLOCKED_USERS__", ",".join(blocked_users))
    return package_source({"token_authorizer.py": authorizer, f"{EDGE_MODULE}.py": edge})


def block_users(function_name: str, users: tuple[str, ...], *, pool_id: str, client_id: str,
                target: Any) -> None:
    """Deploy the authorizer function again with another blocklist, and wait until the update
    is done (AWS runs the previous code until then)."""
    lam = target.client("lambda")
    lam.update_function_code(FunctionName=function_name, ZipFile=authorizer_package(
        pool_id, client_id, target=target, blocked_users=users))
    lam.get_waiter("function_updated_v2").wait(FunctionName=function_name)


def local_token_check(pool_id: str, client_id: str, *, target: Any) -> Any:
    """``edge_cognito.py`` with the pool written in, loaded here in the kernel (not deployed):
    its ``verify(token, now=...)`` is the edge function's own check, to try with other clocks."""
    import types

    from ._lambda import function_source

    source = function_source(EDGE_MODULE)
    for placeholder, value in cognito_substitutions(pool_id, client_id, target=target).items():
        source = source.replace(placeholder, value)
    module = types.ModuleType(EDGE_MODULE)
    exec(compile(source, f"{EDGE_MODULE}.py", "exec"), module.__dict__)
    return module


def create_token_authorizer_function(prefix: str, *, pool_id: str, client_id: str, target: Any,
                                     blocked_users: tuple[str, ...] = ()) -> dict[str, str]:
    """The Lambda authorizer function (``authorizer_package``) and its logs-only role."""
    from ._iam import create_service_role
    from ._lambda import BASIC_EXECUTION_POLICY, when_role_is_ready
    from ._names import tags

    package = authorizer_package(pool_id, client_id, target=target, blocked_users=blocked_users)
    iam, lam = target.client("iam"), target.client("lambda")
    name = f"{prefix}-authorizer"
    role = create_service_role(name, service="lambda.amazonaws.com", policy=None, iam=iam,
                               prefix=prefix, managed_policies=(BASIC_EXECUTION_POLICY,))
    fn = when_role_is_ready(lam.create_function, FunctionName=name, Runtime="python3.12",
                            Role=role["role_arn"], Handler="token_authorizer.handler",
                            Code={"ZipFile": package}, Timeout=5, MemorySize=128, Tags=tags(prefix),
                            Description="s3-upload-workbook: token_authorizer")
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return {"function_name": fn["FunctionName"], "function_arn": fn["FunctionArn"],
            "role_name": role["role_name"]}
