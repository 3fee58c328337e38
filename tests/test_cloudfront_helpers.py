"""Option 3 through helpers: the edge functions as the workbook ships them, against the local AWS."""
import time

import jwt
import pytest

import helpers as wb

KEY = "a-signing-key-of-at-least-32-bytes!!"


@pytest.fixture(scope="module")
def target(local_aws):
    return wb.connect("local", endpoint_url=local_aws.endpoint_url, start=False)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return wb.make_sample_file(tmp_path_factory.mktemp("cf") / "report.pdf", 300_000, seed=8)


def put(site, key, path, authorization=None):
    headers = {"Authorization": authorization} if authorization else {}
    if site.oai_id:  # a legacy OAI: the viewer sends the body's SHA-256 (S3 needs it)
        headers.update(wb.oai_upload_headers(path))
    return wb.upload_file(f"{site.url}/{key}", path, progress=False, headers=headers)


@pytest.mark.parametrize("access", ["oai", "oac"])
def test_shared_secret_function_guards_a_put_only_origin(target, sample, access):
    prefix = wb.unique_prefix()
    site = wb.build_cloudfront_upload(target, prefix, secret="correct horse battery", access=access)
    try:
        for authorization in (None, "wrong", "correct horse battery!"):
            with pytest.raises(wb.UploadRefused) as err:
                put(site, "r.pdf", sample, authorization)
            assert err.value.status == 401
        assert put(site, "r.pdf", sample, "correct horse battery").status == 200
        s3 = target.client("s3")
        assert wb.object_sha256(site.bucket, "r.pdf", s3=s3) == wb.sha256_file(sample)
        import requests
        assert requests.get(f"{site.url}/r.pdf", headers={"Authorization": "correct horse battery"}).status_code == 403
        # logs arrive late (edge logs later still): wait for the three refusals' lines
        refusals = wb.tail_function_logs(site.function_name, target=target, edge=True,
                                         contains="refused PUT /r.pdf", expect=3, wait=30)
        assert len(refusals) == 3
        logs = "\n".join(wb.tail_function_logs(site.function_name, target=target, edge=True, limit=1000))
        assert "correct horse battery" not in logs  # never logs the secret
    finally:
        wb.clean_up(target, prefix)
    assert not any(wb.find_resources(target, prefix).values())


def token(**claims):
    return "Bearer " + jwt.encode({"sub": "learner", "scope": "upload", "exp": int(time.time()) + 300, **claims},
                                  KEY, algorithm="HS256")


def test_jwt_function_checks_signature_expiry_algorithm_and_scope(target, sample):
    prefix = wb.unique_prefix()
    site = wb.build_cloudfront_upload(target, prefix, secret=KEY, module="edge_jwt")
    try:
        bad = [
            token(exp=int(time.time()) - 10),                          # expired
            token(scope="read"),                                       # no upload scope
            "Bearer " + jwt.encode({"sub": "x", "scope": "upload", "exp": int(time.time()) + 60},
                                   "another-key-of-at-least-32-bytes!!!", algorithm="HS256"),
            "Bearer " + jwt.encode({"sub": "x", "scope": "upload", "exp": int(time.time()) + 60},
                                   None, algorithm="none"),            # alg none
            "Basic dXNlcjpwYXNz",
        ]
        for authorization in bad:
            with pytest.raises(wb.UploadRefused) as err:
                put(site, "j.pdf", sample, authorization)
            assert err.value.status == 401
        assert wb.list_keys(site.bucket, s3=target.client("s3")) == []
        assert put(site, "j.pdf", sample, token()).status == 200
    finally:
        wb.clean_up(target, prefix)


def test_cognito_edge_function_guards_uploads_per_user_through_cloudfront(target, sample):
    """Option 3 with the pool's RS256 ID tokens, end to end through the local CloudFront
    (https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html)."""
    prefix = wb.unique_prefix()
    idp = target.client("cognito-idp")
    pool = wb.create_user_pool(f"{prefix}-users", idp=idp, prefix=prefix)
    client_id = wb.create_app_client(pool["pool_id"], idp=idp)
    password = wb.new_password()
    sub = wb.sign_up_user(pool["pool_id"], client_id, "learner", password, idp=idp)
    id_token = wb.sign_in(client_id, "learner", password, idp=idp)["IdToken"]
    site = wb.build_cloudfront_upload(target, prefix, module="edge_cognito",
                                      substitutions=wb.cognito_substitutions(pool["pool_id"], client_id,
                                                                             target=target))
    try:
        for authorization, key, status in ((None, f"uploads/{sub}/a.pdf", 401),
                                           ("Bearer " + id_token[:-3] + "abc", f"uploads/{sub}/a.pdf", 401),
                                           ("Bearer " + id_token, "uploads/someone-else/a.pdf", 403)):
            with pytest.raises(wb.UploadRefused) as err:
                put(site, key, sample, authorization)
            assert err.value.status == status
        assert wb.list_keys(site.bucket, s3=target.client("s3")) == []
        assert put(site, f"uploads/{sub}/a.pdf", sample, "Bearer " + id_token).status == 200
        assert wb.object_sha256(site.bucket, f"uploads/{sub}/a.pdf", s3=target.client("s3")) == wb.sha256_file(sample)
        logs = "\n".join(wb.tail_function_logs(site.function_name, target=target, edge=True, limit=1000))
        assert "fetched the JWKS" in logs and id_token not in logs
    finally:
        wb.clean_up(target, prefix)
    assert not any(wb.find_resources(target, prefix).values())


def test_edge_functions_are_packaged_with_their_settings_written_in():
    import io
    import zipfile
    data = wb.package_function("edge_jwt", substitutions={"__JWT_KEY__": "k"}, packages=("jwt",))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert "edge_jwt.py" in names and "jwt/__init__.py" in names
        assert 'JWT_KEY = "k"' in archive.read("edge_jwt.py").decode()
    with pytest.raises(wb.ConfigurationError):
        wb.package_function("edge_auth", substitutions={"__NOT_THERE__": "x"})
