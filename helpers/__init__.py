"""Helpers for the S3 upload workbook: named boto3 steps, upload clients and widgets.

    import helpers as wb
    target = wb.connect("local")                 # or wb.connect("aws", region="eu-west-1")
    prefix = wb.unique_prefix()
    api = wb.build_s3_proxy_api(target, prefix)  # or the steps one by one, as notebook 01 does
    wb.upload_file(api.upload_url("cat.jpg"), "cat.jpg", headers={"x-api-key": api.api_key})
    wb.clean_up(target, prefix)

Where each call a notebook makes lives (every name is re-exported here, so ``wb.name`` works):

    _config.py     connect, Target, local_endpoint: where calls go (local AWS or your account)
    _names.py      unique_prefix, tags: how resources are named and found again
    _s3.py         create_upload_bucket, list_keys, object_sha256, empty_and_delete_bucket
    _iam.py        create_service_role, put_object_policy, trust_policy, delete_role,
                   until_refused
    _apigw.py      option 1: create_rest_api, add_resource, add_method, add_s3_integration,
                   deploy_stage, create_api_key, wait_until_uploads_work, build_s3_proxy_api
    _lambda.py     package_function, create_function, allow_api_gateway, publish_version,
                   tail_function_logs
    _presign.py    option 2: build_presign_api, presign_role_policy
    _cognito.py    notebook 06: create_user_pool, create_app_client, sign_up_user, sign_in,
                   decode_token, create_cognito_authorizer, create_lambda_authorizer,
                   add_authorized_method, create_user_presign_function,
                   create_token_authorizer_function, block_users, cognito_substitutions
    _multipart.py  option 2 beyond 5 GB: start_multipart, upload_parts, complete_multipart,
                   abort_multipart, request_post_form, post_file, build_multipart_api
    _cloudfront.py option 3: create_origin_access_control / _identity, create_edge_function,
                   create_upload_distribution, wait_until_deployed, build_cloudfront_upload
    _page.py       notebook 05: serve_page (the upload page on loopback), put_upload_cors,
                   add_cors_preflight, allow_origin_in_function, forward_cors_headers, preflight
    _upload.py     upload_file, upload_presigned, request_upload_url, make_sample_file, sha256_file
    _widgets.py    FilePicker, choose_file, show_picker
    _curl.py       curl_command: the same upload as a shell command
    _costs.py      upload_cost, PRICES
    _setup.py      notebook 00's checks: check_environment, caller_identity, check_permissions,
                   workbook_policy, create_workbook_user
    _cleanup.py    find_resources, delete_resources, clean_up
    _errors.py     WorkbookError and its family
    functions/     the Lambda handlers the notebooks deploy (read them: they are the lesson too)
    lab.py         ``python -m helpers.lab``: JupyterLab with the local AWS running

The local AWS itself is another package, ``localaws`` (beside this one); the helpers reach it
only in ``_config.py``, to start it, and otherwise talk to it over HTTP exactly as to AWS.
"""
__version__ = "0.1.0"

from ._apigw import (
    S3ProxyApi,
    add_lambda_proxy,
    add_method,
    add_resource,
    add_responses,
    add_s3_integration,
    build_s3_proxy_api,
    create_api_key,
    create_rest_api,
    delete_api_key,
    delete_rest_api,
    delete_usage_plan,
    deploy_stage,
    set_binary_media_types,
    wait_until_uploads_work,
    within_quota,
)
from ._cognito import (
    add_authorized_method,
    authorizer_package,
    block_users,
    cognito_substitutions,
    create_app_client,
    create_cognito_authorizer,
    create_lambda_authorizer,
    create_token_authorizer_function,
    create_user_pool,
    create_user_presign_function,
    decode_token,
    delete_user_pool,
    issuer,
    jwks_url,
    local_token_check,
    new_password,
    sign_in,
    sign_up_user,
)
from ._lambda import (
    BASIC_EXECUTION_POLICY,
    allow_api_gateway,
    create_function,
    publish_version,
    delete_function,
    function_source,
    package_function,
    package_source,
    recent_log_lines,
    tail_function_logs,
)
from ._multipart import (
    MultipartApi,
    MultipartState,
    abort_incomplete_uploads_rule,
    abort_multipart,
    build_multipart_api,
    complete_multipart,
    composite_sha256,
    multipart_role_policy,
    multipart_upload,
    post_file,
    request_post_form,
    start_multipart,
    upload_parts,
    uploaded_parts,
)
from ._presign import PresignApi, build_presign_api, presign_role_policy
from ._page import (
    CORS_S3_ORIGIN_POLICY,
    PageServer,
    Preflight,
    add_cors_preflight,
    allow_origin_in_function,
    forward_cors_headers,
    preflight,
    put_upload_cors,
    readable_headers,
    serve_page,
)
from ._cloudfront import (
    CloudFrontUpload,
    UploadDistribution,
    build_cloudfront_upload,
    create_edge_function,
    create_origin_access_control,
    create_origin_access_identity,
    create_upload_distribution,
    delete_edge_function,
    delete_origin_access_identity,
    disable_and_delete_distribution,
    distribution_config,
    oac_put_only_policy,
    oai_put_only_policy,
    oai_upload_headers,
    put_bucket_policy,
    update_distribution,
    wait_until_deployed,
)
from ._cleanup import CleanUpIncomplete, clean_up, delete_resources, find_resources
from ._config import Target, connect, local_endpoint
from ._costs import PRICES, PRICES_AS_OF, upload_cost
from ._curl import curl_command
from ._setup import (
    caller_identity,
    check_environment,
    check_permissions,
    create_workbook_user,
    workbook_actions,
    workbook_policy,
)
from ._errors import ConfigurationError, LocalAWSError, UploadRefused, WorkbookError
from ._iam import create_service_role, delete_role, put_object_policy, trust_policy, until_refused
from ._names import tags, unique_prefix
from ._s3 import bucket_contents, create_upload_bucket, empty_and_delete_bucket, list_keys, object_sha256
from ._upload import (
    UploadResult,
    make_sample_file,
    request_upload_url,
    sha256_file,
    upload_file,
    upload_presigned,
)
from ._widgets import FilePicker, choose_file, show_picker

__all__ = [
    "CORS_S3_ORIGIN_POLICY", "PageServer", "Preflight", "add_cors_preflight", "allow_origin_in_function",
    "forward_cors_headers", "preflight", "put_upload_cors", "readable_headers", "serve_page",
    "CloudFrontUpload", "UploadDistribution", "build_cloudfront_upload", "create_edge_function",
    "create_origin_access_control", "create_origin_access_identity", "create_upload_distribution",
    "delete_edge_function", "delete_origin_access_identity", "disable_and_delete_distribution",
    "distribution_config", "oac_put_only_policy", "oai_put_only_policy", "oai_upload_headers", "publish_version",
    "put_bucket_policy", "update_distribution", "wait_until_deployed",
    "MultipartApi", "MultipartState", "abort_incomplete_uploads_rule", "abort_multipart",
    "build_multipart_api", "complete_multipart", "composite_sha256", "multipart_role_policy", "multipart_upload",
    "post_file", "request_post_form", "start_multipart", "upload_parts", "uploaded_parts",
    "BASIC_EXECUTION_POLICY", "PresignApi", "add_lambda_proxy", "allow_api_gateway",
    "build_presign_api", "create_function", "delete_function", "function_source",
    "package_function", "package_source", "presign_role_policy", "recent_log_lines", "request_upload_url",
    "upload_presigned",
    "ConfigurationError", "FilePicker", "LocalAWSError", "S3ProxyApi", "Target", "UploadRefused",
    "UploadResult", "WorkbookError", "__version__", "add_method", "add_resource", "add_responses",
    "add_s3_integration", "build_s3_proxy_api", "choose_file", "clean_up", "connect",
    "create_api_key", "create_rest_api", "create_service_role", "create_upload_bucket",
    "delete_api_key", "delete_resources", "delete_rest_api", "delete_usage_plan", "delete_role", "until_refused", "deploy_stage",
    "empty_and_delete_bucket", "find_resources", "list_keys", "local_endpoint",
    "make_sample_file", "object_sha256", "put_object_policy", "set_binary_media_types", "sha256_file", "within_quota", "wait_until_uploads_work", "show_picker",
    "tags", "trust_policy", "unique_prefix", "upload_file",
    "CleanUpIncomplete", "bucket_contents", "caller_identity", "check_environment",
    "check_permissions", "create_workbook_user", "curl_command", "PRICES", "PRICES_AS_OF", "upload_cost", "tail_function_logs", "workbook_actions", "workbook_policy",
]
