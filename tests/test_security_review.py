"""The security review of what the workbook teaches, as checks over what its helpers really create:
every policy least-privilege and scoped to its bucket and prefix, private and encrypted buckets,
short-lived presigned URLs, server-chosen keys, constant-time secret checks, no secrets in the
stored notebook outputs. (The local AWS binding loopback only is tested in test_local_server.)"""
import json
import os
import re

import nbformat
import pytest

import helpers as wb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


@pytest.fixture(scope="module")
def built(local_aws):
    """Every option, built by the same helpers the notebooks call."""
    target = wb.connect("local", endpoint_url=local_aws.endpoint_url, start=False)
    prefix = wb.unique_prefix()
    options = {
        "proxy": wb.build_s3_proxy_api(target, prefix + "a"),
        "presign": wb.build_presign_api(target, prefix + "b"),
        "multipart": wb.build_multipart_api(target, prefix + "c"),
        "cloudfront": wb.build_cloudfront_upload(target, prefix + "d", secret=os.urandom(16).hex()),
    }
    yield target, options
    for p in "abcd":
        wb.clean_up(target, prefix + p)


def statements(doc):
    doc = json.loads(doc) if isinstance(doc, str) else doc
    items = doc["Statement"]
    return items if isinstance(items, list) else [items]


def as_list(value):
    return value if isinstance(value, list) else [value]


def role_policies(target, role_name):
    iam = target.client("iam")
    inline = [iam.get_role_policy(RoleName=role_name, PolicyName=n)["PolicyDocument"]
              for n in iam.list_role_policies(RoleName=role_name)["PolicyNames"]]
    attached = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]]
    return inline, attached


def test_every_role_may_only_write_objects_of_its_own_bucket(built):
    target, options = built
    for name, option in options.items():
        found = wb.find_resources(target, option.prefix)
        assert found["roles"], name
        for role in found["roles"]:
            inline, attached = role_policies(target, role)
            assert set(attached) <= {BASIC_EXECUTION}, (name, attached)  # logs only
            for doc in inline:
                for statement in statements(doc):
                    assert statement["Effect"] == "Allow"
                    for action in as_list(statement["Action"]):
                        assert action in ("s3:PutObject", "s3:AbortMultipartUpload",
                                          "s3:ListMultipartUploadParts"), (name, action)
                    for resource in as_list(statement["Resource"]):
                        assert resource.startswith(f"arn:aws:s3:::{option.bucket}/"), (name, resource)


def test_buckets_are_private_and_encrypted_and_bucket_policies_name_one_principal(built):
    target, options = built
    s3 = target.client("s3")
    for name, option in options.items():
        block = s3.get_public_access_block(Bucket=option.bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values()) and len(block) == 4, name
        rules = s3.get_bucket_encryption(Bucket=option.bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    policy = s3.get_bucket_policy(Bucket=options["cloudfront"].bucket)["Policy"]
    for statement in statements(policy):
        assert statement["Principal"] != "*" and statement["Principal"] != {"AWS": "*"}
        assert as_list(statement["Action"]) == ["s3:PutObject"]


def test_presigned_urls_are_short_lived_and_keys_are_chosen_by_the_server(built, tmp_path):
    target, options = built
    presign = options["presign"]
    config = target.client("lambda").get_function_configuration(FunctionName=presign.function_name)
    assert int(config["Environment"]["Variables"]["URL_EXPIRES_SECONDS"]) <= 900
    grant = wb.request_upload_url(presign.grant_url("report.txt"), content_type="text/plain")
    assert grant["expiresIn"] <= 900
    assert grant["key"].startswith("uploads/")  # the function decides where uploads land
    with pytest.raises(wb.UploadRefused) as refused:
        wb.request_upload_url(presign.grant_url("../escape.txt"), content_type="text/plain")
    assert refused.value.status == 400
    multipart = options["multipart"]
    started = wb.start_multipart(multipart.invoke_url, wb.make_sample_file(tmp_path / "a.bin", 100))
    assert started.key.startswith("uploads/") and started.key.endswith("/a.bin")
    wb.abort_multipart(multipart.invoke_url, started)


def test_secrets_are_compared_in_constant_time_and_never_logged():
    for module in ("edge_auth", "edge_jwt", "edge_cognito", "token_authorizer"):
        source = wb.function_source(module)
        assert re.search(r"compare_digest|jwt\.decode|edge_cognito\.verify", source), module
        for line in source.splitlines():
            if "print(" in line:
                assert not re.search(r"SHARED_SECRET|JWT_KEY|given|token\b", line), (module, line)


SECRET_PATTERNS = [
    re.compile(r"X-Amz-Signature=[0-9a-f]{64}"),          # a usable presigned URL
    re.compile(r"Signature=[A-Za-z0-9%+/=]{20,}&"),       # SigV2 presigned URL
    re.compile(r"SecretAccessKey|aws_secret_access_key\s*=\s*['\"](?!test)"),
    re.compile(r"x-api-key['\"]?\s*[:=]\s*['\"][A-Za-z0-9]{20,}"),
    re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),  # a JWT
]


@pytest.mark.parametrize("notebook", sorted(n for n in os.listdir(os.path.join(ROOT, "notebooks"))
                                            if n.endswith(".ipynb")))
def test_stored_notebook_outputs_show_no_secrets(notebook):
    nb = nbformat.read(os.path.join(ROOT, "notebooks", notebook), as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        text = json.dumps(cell.get("outputs", []))
        for pattern in SECRET_PATTERNS:
            assert not pattern.search(text), f"{notebook}: output of {cell.source[:60]!r} matches {pattern.pattern}"
