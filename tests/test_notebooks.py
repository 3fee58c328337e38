"""papermill runs each notebook headless, with parameters, against a fresh local AWS.

(nbval separately re-runs the committed notebooks and compares their stored outputs.)
"""
import os

import nbformat
import papermill
import pytest

import helpers as wb
import localaws as local
from tests.kernel_transport import AsyncKernelOverIpc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = os.path.join(ROOT, "notebooks")


@pytest.fixture
def fresh_aws(monkeypatch):
    server = local.start(port=0)
    monkeypatch.setenv("WORKBOOK_ENDPOINT_URL", server.endpoint_url)
    yield server
    server.stop()


@pytest.fixture
def run(as_learner):
    """run(name, tmp_path, **parameters): the notebook under papermill, its kernel signed in as the
    CI learner (an IAM user holding exactly helpers.workbook_policy()), not as the root."""
    def execute(name, tmp_path, **parameters):
        with as_learner(parameters["endpoint_url"]):
            return execute_notebook(name, tmp_path, **parameters)
    return execute


def execute_notebook(name, tmp_path, **parameters):
    out = tmp_path / name
    papermill.execute_notebook(os.path.join(NOTEBOOKS, name), str(out), parameters=parameters,
                               cwd=NOTEBOOKS, kernel_name="python3", progress_bar=False,
                               request_save_on_cell_execute=False,  # written once, at the end
                               kernel_manager_class=AsyncKernelOverIpc)
    nb = nbformat.read(str(out), as_version=4)
    # A cell's printed text may arrive in several stream outputs (print writes its arguments one
    # by one, and the kernel may flush between them): stream text is joined as it was written.
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "stream":
                parts.append(output.get("text", ""))
            else:
                parts.append("\n" + str(output.get("data", {}).get("text/plain", "")) + "\n")
    return "".join(parts)


def test_notebook_01_uploads_the_given_file_and_cleans_up(fresh_aws, tmp_path, run):
    path = wb.make_sample_file(tmp_path / "holiday photo.jpg", 3 * 1024 * 1024 + 11, seed=9)
    prefix = "s3wb-nb01-" + os.urandom(3).hex()
    text = run("01_api_gateway_s3_proxy.ipynb", tmp_path, endpoint_url=fresh_aws.endpoint_url,
               name_prefix=prefix, upload_path=str(path))
    assert "uploading holiday photo.jpg: 3,145,739 bytes" in text
    assert f"stored: {wb.sha256_file(path)}" in text
    assert "identical: True" in text
    assert "413 HTTP content length exceeded 10485760 bytes." in text
    assert "403 ForbiddenException Forbidden" in text
    assert "identical without */*: False" in text
    assert "left behind: {}" in text
    target = wb.connect("local", endpoint_url=fresh_aws.endpoint_url, start=False)
    assert not any(wb.find_resources(target, prefix).values())
    assert not [b for b in target.client("s3").list_buckets()["Buckets"] if b["Name"].startswith(prefix)]


def test_notebook_02_uploads_through_a_presigned_url_and_cleans_up(fresh_aws, tmp_path, run):
    path = wb.make_sample_file(tmp_path / "clip.mp4", 11 * 1024 * 1024 + 3, seed=5)
    prefix = "s3wb-nb02-" + os.urandom(3).hex()
    text = run("02_presigned_urls.ipynb", tmp_path, endpoint_url=fresh_aws.endpoint_url,
               name_prefix=prefix, upload_path=str(path))
    assert "clip.mp4: 11,534,339 bytes, video/mp4" in text
    assert "200 11,534,339 bytes sent" in text
    assert "identical: True" in text and "stored content type: video/mp4" in text
    assert "403 SignatureDoesNotMatch" in text
    assert "403 AccessDenied Request has expired" in text
    assert "is not authorized to perform: s3:PutObject" in text
    assert "in bucket: True" not in text
    assert "left behind: {}" in text
    target = wb.connect("local", endpoint_url=fresh_aws.endpoint_url, start=False)
    assert not any(wb.find_resources(target, prefix).values())


def test_notebook_03_uploads_in_parts_resumes_aborts_and_cleans_up(fresh_aws, tmp_path, run):
    path = wb.make_sample_file(tmp_path / "archive.tar", 16 * 1024 * 1024 + 1, seed=6)
    prefix = "s3wb-nb03-" + os.urandom(3).hex()
    text = run("03_multipart_uploads.ipynb", tmp_path, endpoint_url=fresh_aws.endpoint_url,
               name_prefix=prefix, upload_path=str(path), threads=2)
    assert "parts: 4 of 5,242,880 bytes" in text
    assert "sent before the interruption: [1, 2]" in text
    assert "S3 already has parts: [1, 2]" in text and "sent after resuming: [3, 4]" in text
    checksums = [line.split()[-1] for line in text.splitlines() if line.startswith("checksum ")]
    assert len(checksums) == 2 and checksums[0] == checksums[1] and checksums[0].endswith("-4")
    assert "identical file: True" in text
    assert "in progress after abort:  False" in text
    assert "400 True" in text and "parts stored: []" in text
    assert "400 EntityTooLarge" in text and "too-big.bin stored: False" in text
    assert "left behind: {}" in text
    target = wb.connect("local", endpoint_url=fresh_aws.endpoint_url, start=False)
    assert not any(wb.find_resources(target, prefix).values())


def test_notebook_04_uploads_through_cloudfront_with_lambda_edge_and_cleans_up(fresh_aws, tmp_path, run):
    path = wb.make_sample_file(tmp_path / "scan.pdf", 2 * 1024 * 1024 + 9, seed=12)
    prefix = "s3wb-nb04-" + os.urandom(3).hex()
    text = run("04_cloudfront_lambda_edge.ipynb", tmp_path, endpoint_url=fresh_aws.endpoint_url,
               name_prefix=prefix, upload_path=str(path))
    assert "InvalidLambdaFunctionAssociation" in text
    assert "no header:    401 Unauthorized" in text and "wrong secret: 401 Unauthorized" in text
    assert "in bucket:    []" in text
    assert "right secret: 200" in text and "identical: True" in text
    assert "403 True" in text
    assert "buggy, any header: 200" in text and "fixed, any header: 401 Unauthorized" in text
    assert "valid token:   200" in text and "alg none:      401 Unauthorized" in text
    assert "expired token: 401 Unauthorized" in text and "in bucket: ['jwt.bin']" in text
    assert "left behind: {}" in text
    target = wb.connect("local", endpoint_url=fresh_aws.endpoint_url, start=False)
    assert not any(wb.find_resources(target, prefix).values())


def test_notebook_05_shows_each_cors_refusal_and_its_cure_and_cleans_up(fresh_aws, tmp_path, run):
    """Headless, the CORS cells make the browser's preflights with plain HTTP: each refusal the
    notebook explains, then the answer once its setting is made (the page itself is exercised
    in a real browser by tests/test_upload_page.py)."""
    prefix = "s3wb-nb05-" + os.urandom(3).hex()
    text = run("05_web_page.ipynb", tmp_path, endpoint_url=fresh_aws.endpoint_url, name_prefix=prefix)
    assert "the page: http://127.0.0.1:" in text
    assert "200 page may read it: False" in text and "200 page may read it: True" in text
    assert "403 refused: AccessForbidden CORSResponse: CORS is not enabled for this bucket." in text
    assert text.count("403 refused: AccessForbidden CORSResponse: This CORS request is not allowed.") >= 3
    assert "403 refused: Missing Authentication Token" in text
    assert "404 refused: no route for OPTIONS /uploads/some-upload-id/parts" in text
    assert "not this page's origin" in text
    assert "204 page may read it: False\nin bucket: True" in text
    assert "ETag readable by the page: False" in text and "ETag readable by the page: True" in text
    assert "presigned POST: 204 page may read it: True" in text
    assert "400 refused: BadRequest Insufficient information. Origin request header needed." in text
    assert "401 Unauthorized" in text
    assert "option 2: 200 True | option 3: 200 True" in text and "identical: True True" in text
    assert "left behind: {}" in text
    target = wb.connect("local", endpoint_url=fresh_aws.endpoint_url, start=False)
    for part in ("ps", "mp", "cf"):
        assert not any(wb.find_resources(target, f"{prefix}-{part}").values())


def test_notebook_00_checks_the_environment_and_cleans_up(fresh_aws, tmp_path, run):
    prefix = "s3wb-nb00-" + os.urandom(3).hex()
    text = run("00_setup.ipynb", tmp_path, endpoint_url=fresh_aws.endpoint_url, name_prefix=prefix)
    assert "environment ok: True" in text
    # As the CI learner: the local policy simulator finds every action of the workbook allowed.
    assert "account: 123456789012" in text and "principal: arn:aws:iam::123456789012:user/" in text
    assert "simulated: True | ok" in text and "denied: none" in text
    assert f"allowed: {len(wb.workbook_actions())} of {len(wb.workbook_actions())} actions" in text
    assert f"found by tag: ['{prefix}-setup-check']" in text
    assert "left behind: {}" in text
    target = wb.connect("local", endpoint_url=fresh_aws.endpoint_url, start=False)
    assert not any(wb.find_resources(target, prefix).values())


def test_notebook_07_compares_the_options_on_the_same_files(fresh_aws, tmp_path, run):
    prefix = "s3wb-nb07-" + os.urandom(3).hex()
    text = run("07_comparison.ipynb", tmp_path, endpoint_url=fresh_aws.endpoint_url,
               name_prefix=prefix, sizes_mib=[1, 11], repeats=1, threads=2)
    assert "1 · S3 proxy, 11 MiB: 413 HTTP content length exceeded 10485760 bytes." in text
    assert "7 uploads checked, all identical: True" in text
    assert "EntityTooSmall" in text
    assert "prices as of 2026-11" in text and "too big" in text
    assert "left behind: {}" in text
    target = wb.connect("local", endpoint_url=fresh_aws.endpoint_url, start=False)
    for part in ("px", "ps", "mp", "cf"):
        assert not any(wb.find_resources(target, f"{prefix}-{part}").values())


def test_notebook_06_authenticates_uploaders_and_cleans_up(fresh_aws, tmp_path, run):
    path = wb.make_sample_file(tmp_path / "report.pdf", 300_000, seed=6)
    prefix = "s3wb-nb06-" + os.urandom(3).hex()
    text = run("06_authenticating_uploaders.ipynb", tmp_path, endpoint_url=fresh_aws.endpoint_url,
               name_prefix=prefix, upload_path=str(path))
    assert "key is under the learner's own prefix: True" in text
    assert "identical: True" in text
    for refused in ("no token", "not a JWT", "tampered", "another pool's token"):
        assert f"{refused:22} -> 401 Unauthorized" in text
    assert "the learner's token    -> 200 granted" in text
    assert "in 61 minutes: expired" in text
    assert "403 SignatureDoesNotMatch" in text
    assert "learner : 200 key under own prefix: True" in text
    assert "blocked : 403 User is not authorized to access this resource with an explicit deny" in text
    assert "blocked, within the TTL  : 200 key under own prefix: True" in text
    assert ("blocked, after the TTL   : 403 User is not authorized to access this resource with "
            "an explicit deny") in text
    assert "without contentType -> 401" in text
    # Step 6: through the distribution, the edge function in front of S3
    assert "learner, own prefix   : 200" in text
    assert "identical through CloudFront: True" in text
    assert "learner, other prefix : 403 Forbidden" in text
    for refused in ("no token", "tampered", "another pool's token"):
        assert f"{refused:22}: 401 Unauthorized" in text
    assert "under someone-else/   : []" in text
    for why in ("outside the user's own prefix", "no bearer token", "bad signature", "unknown kid"):
        assert f"refused: {why}" in text
    # one bucket: the distribution fronts the notebook's own bucket, not a second one
    assert "'distributions': 1" in text and "'origin_access_controls': 1" in text and "'buckets': 1" in text
    assert "'user_pools': 2" in text and "left behind: {}" in text
    target = wb.connect("local", endpoint_url=fresh_aws.endpoint_url, start=False)
    assert not any(wb.find_resources(target, prefix).values())
    pools = target.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]
    assert not [p for p in pools if p["Name"].startswith(prefix)]


def test_notebook_08s_clean_up_finds_user_pools_by_name_and_tag(fresh_aws):
    target = wb.connect("local", endpoint_url=fresh_aws.endpoint_url, start=False)
    idp = target.client("cognito-idp")
    prefix = wb.unique_prefix()
    ours = wb.create_user_pool(f"{prefix}-users", idp=idp, prefix=prefix)["pool_id"]
    untagged = idp.create_user_pool(PoolName=f"{prefix}-untagged")["UserPool"]["Id"]
    try:
        assert wb.find_resources(target, prefix)["user_pools"] == [ours]
        assert wb.clean_up(target, prefix)["user_pools"] == 1
        remaining = [p["Id"] for p in idp.list_user_pools(MaxResults=60)["UserPools"]]
        assert ours not in remaining and untagged in remaining
    finally:
        idp.delete_user_pool(UserPoolId=untagged)


def test_notebook_08_lists_then_deletes_everything_tagged_and_nothing_else(fresh_aws, tmp_path, run):
    # moto's state is per process, so this "fresh" local AWS also holds what earlier tests in this
    # worker left; with prefix=None the notebook must delete that too, and nothing untagged.
    # With no prefix it looks under the prefixes the workbook chooses itself (s3wb-...), the
    # names the least-privilege policy covers.
    target = wb.connect("local", endpoint_url=fresh_aws.endpoint_url, start=False)
    s3 = target.client("s3")
    one, two = wb.unique_prefix(), wb.unique_prefix()
    proxy = wb.build_s3_proxy_api(target, one)
    wb.upload_file(proxy.upload_url("a.bin"), wb.make_sample_file(tmp_path / "a.bin", 1000),
                   headers={"x-api-key": proxy.api_key}, progress=False)
    presign = wb.build_presign_api(target, two)
    multipart = wb.build_multipart_api(target, f"{two}-mp")
    unfinished = wb.start_multipart(multipart.invoke_url, wb.make_sample_file(tmp_path / "b.bin", 9 << 20))
    wb.upload_parts(multipart.invoke_url, unfinished, limit=1, progress=False)
    cdn = wb.build_cloudfront_upload(target, f"{one}-cf", secret="x" * 24, access="oac")
    s3.create_bucket(Bucket=f"{one}-not-ours")  # untagged: must survive
    before = wb.find_resources(target)
    assert before["distributions"] == [cdn.distribution.distribution_id]
    assert wb.bucket_contents(multipart.bucket, s3=s3)["incomplete_uploads"] == 1

    text = run("08_clean_up.ipynb", tmp_path, endpoint_url=fresh_aws.endpoint_url, dry_run=True)
    assert "dry run: nothing deleted" in text and presign.function_name in text
    assert wb.find_resources(target) == before

    text = run("08_clean_up.ipynb", tmp_path, endpoint_url=fresh_aws.endpoint_url)
    assert "left behind: {}" in text and "'distributions': 1" in text
    assert not any(wb.find_resources(target).values())
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert f"{one}-not-ours" in names and not [n for n in names if n.startswith((one, two)) and "not-ours" not in n]
    s3.delete_bucket(Bucket=f"{one}-not-ours")


# --- a headless run stops the local AWS it started -------------------------------------------------

def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_aws_processes(port):
    """pids of `python -m localaws ... --port PORT` processes on this machine."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            continue
        if b"localaws" in argv and b"--port" in argv and str(port).encode() in argv:
            found.append(int(pid))
    return found


def wait_gone(endpoint, port, timeout=30):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (local.probe(endpoint) or local_aws_processes(port)):
        time.sleep(0.2)
    return local.probe(endpoint) is None and not local_aws_processes(port)


def test_exit_with_stops_the_local_aws_when_that_process_exits():
    import subprocess
    import sys

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    owner = subprocess.Popen(["sleep", "120"])
    aws = subprocess.Popen([sys.executable, "-m", "localaws", "--port", str(port), "--exit-with", str(owner.pid)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import time

        deadline = time.monotonic() + 60
        while local.probe(endpoint) is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert local.probe(endpoint), "the local AWS did not start"
        time.sleep(1)
        assert aws.poll() is None, "it must keep running while its owner runs"
        owner.kill()
        owner.wait()
        assert aws.wait(timeout=30) == 0
        assert local.probe(endpoint) is None
    finally:
        owner.kill()
        aws.kill()
        owner.wait()
        aws.wait()


TINY_RUN = [
    ("endpoint_url = None", ["parameters"]),
    ("import requests\nimport helpers as wb\n\n"
     "aws = wb.connect('local', endpoint_url=endpoint_url)\n"
     "print('local AWS answers:', requests.get(endpoint_url + '/_aws/health').ok)", []),
    ("print('buckets:', aws.client('s3').list_buckets()['Buckets'])", []),
]


def test_a_headless_papermill_run_stops_the_local_aws_its_setup_cell_started(tmp_path):
    """No local AWS answers when the run starts, so the setup cell (helpers.connect) starts one,
    tied to the kernel; when papermill ends the kernel, that local AWS ends too."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    nb = nbformat.v4.new_notebook()
    for source, tags in TINY_RUN:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = tags
        nb.cells.append(cell)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, str(tmp_path / "tiny.ipynb"))
    assert local.probe(endpoint) is None
    papermill.execute_notebook(str(tmp_path / "tiny.ipynb"), str(tmp_path / "out.ipynb"),
                               parameters={"endpoint_url": endpoint}, kernel_name="python3",
                               progress_bar=False, cwd=str(tmp_path),
                               kernel_manager_class=AsyncKernelOverIpc)
    out = nbformat.read(str(tmp_path / "out.ipynb"), as_version=4)
    text = "".join(o.get("text", "") for c in out.cells for o in c.outputs)
    assert "local AWS answers: True" in text and "buckets: []" in text
    assert wait_gone(endpoint, port), f"still running after the run: {local_aws_processes(port)}"
