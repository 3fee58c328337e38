"""Helpers for the S3 upload workbook: named boto3 steps, upload clients and widgets.

    import helpers as wb
    target = wb.connect("local")                 # or wb.connect("aws", region="eu-west-1")
    prefix = wb.unique_prefix()
    api = wb.build_s3_proxy_api(target, prefix)  # or the steps one by one, as notebook 01 does
    wb.upload_file(api.upload_url("cat.jpg"), "cat.jpg", headers={"x-api-key": api.api_key})
    wb.clean_up(target, prefix)
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
    deploy_stage,
    set_binary_media_types,
)
from ._lambda import (
    BASIC_EXECUTION_POLICY,
    allow_api_gateway,
    create_function,
    publish_version,
    delete_function,
    function_source,
    package_function,
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
    workbook_actions,
    workbook_policy,
)
from ._errors import ConfigurationError, LocalAWSError, UploadRefused, WorkbookError
from ._iam import create_service_role, delete_role, put_object_policy, trust_policy
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
    "CloudFrontUpload", "UploadDistribution", "build_cloudfront_upload", "create_edge_function",
    "create_origin_access_control", "create_origin_access_identity", "create_upload_distribution",
    "delete_edge_function", "delete_origin_access_identity", "disable_and_delete_distribution",
    "distribution_config", "oac_put_only_policy", "oai_put_only_policy", "publish_version",
    "put_bucket_policy", "update_distribution", "wait_until_deployed",
    "MultipartApi", "MultipartState", "abort_incomplete_uploads_rule", "abort_multipart",
    "build_multipart_api", "complete_multipart", "composite_sha256", "multipart_role_policy", "multipart_upload",
    "post_file", "request_post_form", "start_multipart", "upload_parts", "uploaded_parts",
    "BASIC_EXECUTION_POLICY", "PresignApi", "add_lambda_proxy", "allow_api_gateway",
    "build_presign_api", "create_function", "delete_function", "function_source",
    "package_function", "presign_role_policy", "recent_log_lines", "request_upload_url",
    "upload_presigned",
    "ConfigurationError", "FilePicker", "LocalAWSError", "S3ProxyApi", "Target", "UploadRefused",
    "UploadResult", "WorkbookError", "__version__", "add_method", "add_resource", "add_responses",
    "add_s3_integration", "build_s3_proxy_api", "choose_file", "clean_up", "connect",
    "create_api_key", "create_rest_api", "create_service_role", "create_upload_bucket",
    "delete_api_key", "delete_resources", "delete_rest_api", "delete_role", "deploy_stage",
    "empty_and_delete_bucket", "find_resources", "list_keys", "local_endpoint",
    "make_sample_file", "object_sha256", "put_object_policy", "set_binary_media_types", "sha256_file", "show_picker",
    "tags", "trust_policy", "unique_prefix", "upload_file",
    "CleanUpIncomplete", "bucket_contents", "caller_identity", "check_environment",
    "check_permissions", "curl_command", "PRICES", "PRICES_AS_OF", "upload_cost", "tail_function_logs", "workbook_actions", "workbook_policy",
]
