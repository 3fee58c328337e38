"""The workbook's own tooling: curl commands, the setup checks, the IAM policy the README lists,
the clean-up order, and the navigation links between notebooks."""
import difflib
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import time

import jupytext
import nbformat
import pytest
from botocore.exceptions import ClientError

import helpers as wb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = os.path.join(ROOT, "notebooks")
sys.path.insert(0, os.path.join(ROOT, "tools"))
import navlinks  # noqa: E402


# --- curl ---------------------------------------------------------------------------------------

def test_curl_command_masks_credentials_and_presigned_urls():
    command = wb.curl_command("http://127.0.0.1:4566/_aws/execute-api/a1/v1/upload/cat.jpg", "cat.jpg",
                              headers={"x-api-key": "s3cr3t-value", "Content-Type": "image/jpeg",
                                       "Authorization": "Bearer abc.def"})
    assert "s3cr3t-value" not in command and "abc.def" not in command
    assert '-H "x-api-key: $API_KEY"' in command and '-H "Authorization: $AUTHORIZATION"' in command
    assert "--upload-file cat.jpg" in command and "-H 'Content-Type: image/jpeg'" in command
    signed = "https://b.s3.amazonaws.com/uploads/k?X-Amz-Credential=AKIA&X-Amz-Signature=deadbeef"
    command = wb.curl_command(signed, "my file.bin", headers={"Content-Type": "video/mp4"})
    assert "deadbeef" not in command and command.endswith('"$UPLOAD_URL"')
    assert "--upload-file 'my file.bin'" in command
    assert "deadbeef" in wb.curl_command(signed, "f", mask=False)


def test_curl_command_runs_against_the_local_aws(local_aws, tmp_path):
    if not shutil.which("curl"):
        pytest.skip("curl is not installed")
    target = wb.connect("local", endpoint_url=local_aws.endpoint_url, start=False)
    prefix = "curl-" + os.urandom(3).hex()
    api = wb.build_s3_proxy_api(target, prefix)
    try:
        path = wb.make_sample_file(tmp_path / "photo.jpg", 300_000, seed=3)
        command = wb.curl_command(api.upload_url("photo.jpg"), "photo.jpg",
                                  headers={"x-api-key": api.api_key, "Content-Type": "image/jpeg"})
        assert api.api_key not in command
        done = subprocess.run(["bash", "-c", command + " --silent --show-error"], cwd=tmp_path,
                              env={**os.environ, "API_KEY": api.api_key}, capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert wb.object_sha256(api.bucket, "photo.jpg", s3=target.client("s3")) == wb.sha256_file(path)
    finally:
        wb.clean_up(target, prefix)


# --- setup checks -------------------------------------------------------------------------------

def test_check_environment_reports_plain_data():
    report = wb.check_environment()
    assert report["python_ok"] is True
    packages = {p["package"]: p for p in report["packages"]}
    assert packages["boto3"]["required"].startswith("==") and packages["boto3"]["ok"]
    assert packages["matplotlib"]["installed"]
    json.dumps(report)  # plain data


def test_check_permissions_on_the_local_aws_needs_no_simulation(local_aws):
    target = wb.connect("local", endpoint_url=local_aws.endpoint_url, start=False)
    report = wb.check_permissions(target)
    assert report["checked"] is False and "local AWS" in report["reason"]
    assert report["principal"].startswith("arn:aws:")


class _FakeIam:
    """Answers SimulatePrincipalPolicy: denies the listed actions, or refuses to simulate; and
    ListRoles with one role, Learner, at the root path. (Real AWS's simulator cannot run here:
    moto has none.)"""

    def __init__(self, denied=(), refuse=False):
        self.denied, self.refuse, self.calls = set(denied), refuse, []

    def get_paginator(self, name):
        if name == "list_roles":
            class Roles:
                def paginate(self):
                    yield {"Roles": [{"RoleName": "Learner",
                                      "Arn": "arn:aws:iam::111122223333:role/Learner"}]}
            return Roles()
        assert name == "simulate_principal_policy"
        fake = self

        class Paginator:
            def paginate(self, **kwargs):
                fake.calls.append(kwargs)
                if fake.refuse:
                    raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}},
                                      "SimulatePrincipalPolicy")
                yield {"EvaluationResults": [
                    {"EvalActionName": a, "EvalDecision": "implicitDeny" if a in fake.denied else "allowed"}
                    for a in kwargs["ActionNames"]]}
        return Paginator()


class _FakeAwsTarget:
    name, region, is_local = "aws", "eu-west-1", False

    def __init__(self, arn):
        self.arn = arn

    def client(self, service, region=None):
        assert service == "sts"
        arn = self.arn

        class Sts:
            def get_caller_identity(self):
                return {"Account": "111122223333", "Arn": arn}
        return Sts()


def test_check_permissions_simulates_as_the_role_behind_a_session():
    iam = _FakeIam(denied={"cloudfront:CreateDistribution"})
    target = _FakeAwsTarget("arn:aws:sts::111122223333:assumed-role/Learner/alice")
    report = wb.check_permissions(target, iam=iam)
    assert report["checked"] is True and report["denied"] == ["cloudfront:CreateDistribution"]
    assert {c["PolicySourceArn"] for c in iam.calls} == {"arn:aws:iam::111122223333:role/Learner"}
    assert "arn:aws:iam::111122223333:role/s3wb-example" in {c["ResourceArns"][0] for c in iam.calls}
    simulated = {a for c in iam.calls for a in c["ActionNames"]}
    assert "lambda:EnableReplication" in simulated and not any("*" in a for a in simulated)
    assert len(report["allowed"]) + len(report["denied"]) == len(simulated)


def test_check_permissions_tolerates_a_denied_simulation():
    target = _FakeAwsTarget("arn:aws:iam::111122223333:user/learner")
    report = wb.check_permissions(target, iam=_FakeIam(refuse=True))
    assert report["checked"] is False and "AccessDenied" in report["reason"]


def test_the_readme_lists_exactly_the_workbook_policy():
    with open(os.path.join(ROOT, "README.md")) as handle:
        readme = handle.read()
    section = readme[readme.index("## Real AWS"):]
    block = re.search(r"```json\n(.+?)\n```", section, re.S).group(1)
    assert json.loads(block) == wb.workbook_policy(), (
        "copy the output of python -c 'import json, helpers; "
        "print(json.dumps(helpers.workbook_policy(), indent=2))' into the README")


def test_the_policy_covers_every_client_call_in_the_helpers():
    """A rough guard: each boto3 method the helpers and the notebooks call on S3, IAM, Lambda,
    CloudFront or Logs has its action (by name) in the policy."""
    renames = {"put_public_access_block": "s3:PutBucketPublicAccessBlock",
               "put_bucket_encryption": "s3:PutEncryptionConfiguration",
               "put_bucket_lifecycle_configuration": "s3:PutLifecycleConfiguration",
               "head_bucket": "s3:ListBucket", "head_object": "s3:GetObject",
               "list_buckets": "s3:ListAllMyBuckets", "delete_objects": "s3:DeleteObject",
               "list_multipart_uploads": "s3:ListBucketMultipartUploads",
               "list_object_versions": "s3:ListBucketVersions", "list_objects_v2": "s3:ListBucket",
               "create_distribution_with_tags": "cloudfront:CreateDistribution",
               "invoke": "lambda:InvokeFunction", "list_tags": "lambda:ListTags",
               "get_public_access_block": "s3:GetBucketPublicAccessBlock",
               "create_multipart_upload": "s3:PutObject", "upload_part": "s3:PutObject",
               "complete_multipart_upload": "s3:PutObject",
               "put_bucket_cors": "s3:PutBucketCORS", "delete_bucket_cors": "s3:PutBucketCORS"}
    services = {"s3": "s3", "iam": "iam", "lam": "lambda", "region_lam": "lambda", "edge_lam": "lambda",
                "cf": "cloudfront", "logs": "logs", "region_logs": "logs", "idp": "cognito-idp"}
    actions = set(wb.workbook_actions())
    files = [os.path.join(ROOT, "helpers", name) for name in os.listdir(os.path.join(ROOT, "helpers"))
             if name.endswith(".py")]
    # the notebooks, through their text twins (the same cells as plain Python)
    files += [os.path.join(NOTEBOOKS, name[:-len(".ipynb")] + ".py") for name in navlinks.notebooks(NOTEBOOKS)]
    source = "".join(open(path).read() for path in files)
    # create_workbook_user is run by an administrator to make the least-privilege user; its
    # IAM user calls are not the workbook's, and the policy must not grant them.
    source = source.replace(inspect.getsource(wb.create_workbook_user), "")
    missing = set()
    for var, method in re.findall(r"\b(s3|iam|lam|region_lam|edge_lam|cf|logs|region_logs|idp)\.([a-z_]+)\(", source):
        if method in ("get_paginator", "get_waiter"):
            continue
        action = renames.get(method) or services[var] + ":" + "".join(w.title() for w in method.split("_"))
        if action not in actions:
            missing.add(action)
    assert not missing


# --- clean-up order -----------------------------------------------------------------------------

class _Recording:
    """A target whose clients record every call, in order, as "service.method"."""

    def __init__(self, target, log):
        self._target, self._log = target, log
        self.region, self.name, self.is_local = target.region, target.name, target.is_local

    def client(self, service, *, region=None):
        real = self._target.client(service, region=region)
        log = self._log

        class Proxy:
            def __getattr__(self, attr):
                value = getattr(real, attr)
                if callable(value):
                    def call(*args, **kwargs):
                        log.append(f"{service}.{attr}")
                        return value(*args, **kwargs)
                    return call
                return value
        return Proxy()


def test_delete_resources_orders_distribution_edge_function_and_buckets(local_aws):
    target = wb.connect("local", endpoint_url=local_aws.endpoint_url, start=False)
    prefix = "order-" + os.urandom(3).hex()
    upload = wb.build_cloudfront_upload(target, prefix, secret="s" * 24, access="oai")
    s3 = target.client("s3")
    s3.put_object(Bucket=upload.bucket, Key="done.bin", Body=b"x")
    started = s3.create_multipart_upload(Bucket=upload.bucket, Key="half.bin")
    s3.upload_part(Bucket=upload.bucket, Key="half.bin", UploadId=started["UploadId"], PartNumber=1, Body=b"y")
    assert wb.bucket_contents(upload.bucket, s3=s3) == {"objects": 1, "bytes": 1, "incomplete_uploads": 1}
    found = wb.find_resources(target, prefix)
    assert found["distributions"] and found["functions"] and found["origin_access_identities"]
    log = []
    counts = wb.delete_resources(_Recording(target, log), found)
    assert counts["distributions"] == 1 and counts["functions"] == 1 and counts["buckets"] == 1
    order = [entry for entry in log if entry in (
        "cloudfront.update_distribution", "cloudfront.delete_distribution", "lambda.delete_function",
        "cloudfront.delete_cloud_front_origin_access_identity", "s3.abort_multipart_upload",
        "s3.delete_objects", "s3.delete_bucket")]
    assert order[:7] == ["cloudfront.update_distribution", "cloudfront.delete_distribution",
                         "lambda.delete_function", "cloudfront.delete_cloud_front_origin_access_identity",
                         "s3.abort_multipart_upload", "s3.delete_objects", "s3.delete_bucket"]
    # the edge function's first try is refused (CloudFront still holds its replicas): it is
    # tried again once everything else is gone
    assert order[7:] and set(order[7:]) == {"lambda.delete_function"}
    assert not any(wb.find_resources(target, prefix).values())


def test_delete_resources_goes_on_after_a_failure_and_says_what_stayed(local_aws):
    target = wb.connect("local", endpoint_url=local_aws.endpoint_url, start=False)
    prefix = "fail-" + os.urandom(3).hex()
    wb.create_upload_bucket(f"{prefix}-uploads", s3=target.client("s3"), prefix=prefix)
    found = wb.find_resources(target, prefix)
    found["roles"] = ["no-such-role-" + prefix]
    found["distributions"] = ["ENOSUCHDIST"]
    with pytest.raises(wb.CleanUpIncomplete) as caught:
        wb.delete_resources(target, found)
    assert [kind for kind, _, _ in caught.value.errors] == ["distributions"]
    assert caught.value.counts["buckets"] == 1 and caught.value.counts["roles"] == 0
    assert not any(wb.find_resources(target, prefix).values())


# --- navigation links ---------------------------------------------------------------------------

def test_navigation_links_are_up_to_date():
    done = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "navlinks.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_navlinks_adds_a_new_notebook_between_its_neighbours_idempotently(tmp_path):
    for number, title in (("01", "One"), ("02", "Two"), ("04", "Four")):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell(f"# {number} · {title}\n\ntext")]
        nbformat.write(nb, str(tmp_path / f"{number}_{title.lower()}.ipynb"))
    assert len(navlinks.update(str(tmp_path))) == 3
    assert navlinks.update(str(tmp_path), check=True) == []
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 03 · Three")]
    nb.metadata["workbook"] = {"title": "Three, short"}
    nbformat.write(nb, str(tmp_path / "03_three.ipynb"))
    assert sorted(navlinks.update(str(tmp_path), check=True)) == ["02_two.ipynb", "03_three.ipynb", "04_four.ipynb"]
    navlinks.update(str(tmp_path))
    two = nbformat.read(str(tmp_path / "02_two.ipynb"), as_version=4)
    assert two.cells[0].source == ("[← 01 One](01_one.ipynb) · **02 Two** · "
                                   "[03 Three, short →](03_three.ipynb)")
    assert two.cells[-1].source.startswith("**Next:** [03 Three, short](03_three.ipynb)")
    assert len(two.cells) == 3
    last = nbformat.read(str(tmp_path / "04_four.ipynb"), as_version=4)
    assert "**04 Four**" in last.cells[0].source and "→" not in last.cells[0].source
    assert navlinks.update(str(tmp_path)) == []


def test_navlinks_updates_both_files_of_a_pair_and_takes_a_new_notebook_written_as_text(tmp_path):
    """In a folder paired by jupytext.toml: a notebook added as its text twin alone gets its
    .ipynb, and the neighbours' links change in both files of their pairs, outputs kept."""
    folder = copy_notebooks(tmp_path, "07_comparison", "08_clean_up")
    (folder / "09_extra.py").write_text(
        "# %% [markdown]\n# # 09 · Extra things\n\n# %%\nprint('extra')\n")
    outputs_before = [c.outputs for c in nbformat.read(str(folder / "08_clean_up.ipynb"), 4).cells
                      if c.cell_type == "code"]
    assert sorted(navlinks.update(str(folder))) == ["07_comparison.ipynb", "08_clean_up.ipynb", "09_extra.ipynb"]
    assert (folder / "09_extra.ipynb").exists()
    for stem in ("07_comparison", "08_clean_up", "09_extra"):
        assert pair_differences(str(folder / f"{stem}.ipynb")) == []
    assert "[09 Extra things →](09_extra.ipynb)" in (folder / "08_clean_up.py").read_text()
    six = nbformat.read(str(folder / "08_clean_up.ipynb"), as_version=4)
    assert "[09 Extra things →](09_extra.ipynb)" in six.cells[0].source
    assert [c.outputs for c in six.cells if c.cell_type == "code"] == outputs_before
    assert navlinks.update(str(folder), check=True) == []


# --- one source per notebook: the .ipynb and its text twin ----------------------------------------

def cells_of(path):
    """What a pair must agree on: each cell's type, source and tags (never outputs)."""
    nb = jupytext.read(path)
    return [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in nb.cells], nb.metadata.get("workbook")


def pair_differences(ipynb):
    """The differences between ``NN_topic.ipynb`` and its twin ``NN_topic.py``, as readable lines."""
    twin = ipynb[:-len(".ipynb")] + ".py"
    if not os.path.exists(twin):
        return [f"{os.path.basename(twin)} is missing"]
    (left, left_meta), (right, right_meta) = cells_of(ipynb), cells_of(twin)
    found = []
    if left_meta != right_meta:
        found.append(f"metadata workbook: {left_meta} != {right_meta}")
    if len(left) != len(right):
        found.append(f"{len(left)} cells in the .ipynb, {len(right)} in the .py")
    for i, (a, b) in enumerate(zip(left, right)):
        if a[0] != b[0] or a[2] != b[2]:
            found.append(f"cell {i}: {a[0]} {a[2]} != {b[0]} {b[2]}")
        elif a[1] != b[1]:
            changed = [line for line in difflib.unified_diff(a[1].splitlines(), b[1].splitlines(), lineterm="", n=0)
                       if line[:1] in "+-" and line[:3] not in ("+++", "---")]
            found.append(f"cell {i}: " + " | ".join(changed))
    return found


def copy_notebooks(tmp_path, *stems):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    shutil.copy(os.path.join(NOTEBOOKS, "jupytext.toml"), folder)
    for stem in stems:
        for ext in (".ipynb", ".py"):
            shutil.copy2(os.path.join(NOTEBOOKS, stem + ext), folder)
    return folder


def sync(path):
    done = subprocess.run([sys.executable, "-m", "jupytext", "--sync", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_notebook_has_a_text_twin_with_the_same_cells():
    """Edit either file, then `jupytext --sync notebooks/*.ipynb` (Lab's jupytext does it on save)."""
    names = navlinks.notebooks(NOTEBOOKS)
    assert len(names) == 9
    stale = {name: pair_differences(os.path.join(NOTEBOOKS, name)) for name in names}
    assert not {k: v for k, v in stale.items() if v}, "run `jupytext --sync notebooks/*.ipynb`"
    twins = sorted(n for n in os.listdir(NOTEBOOKS) if n.endswith(".py"))
    assert twins == [n[:-len(".ipynb")] + ".py" for n in names]
    with open(os.path.join(NOTEBOOKS, twins[1])) as handle:
        assert "# %% tags=[\"parameters\"]" in handle.read()  # py:percent, tags kept


def test_the_pair_check_catches_a_stale_pair(tmp_path):
    folder = copy_notebooks(tmp_path, "01_api_gateway_s3_proxy")
    twin = folder / "01_api_gateway_s3_proxy.py"
    twin.write_text(twin.read_text().replace('region = "us-east-1"', 'region = "eu-west-1"'))
    found = pair_differences(str(folder / "01_api_gateway_s3_proxy.ipynb"))
    assert len(found) == 1 and "eu-west-1" in found[0]
    (folder / "01_api_gateway_s3_proxy.py").unlink()
    assert pair_differences(str(folder / "01_api_gateway_s3_proxy.ipynb")) == [
        "01_api_gateway_s3_proxy.py is missing"]


def test_editing_the_text_twin_and_syncing_changes_the_ipynb_and_keeps_its_outputs(tmp_path):
    folder = copy_notebooks(tmp_path, "01_api_gateway_s3_proxy")
    ipynb, twin = folder / "01_api_gateway_s3_proxy.ipynb", folder / "01_api_gateway_s3_proxy.py"
    before = nbformat.read(str(ipynb), as_version=4)
    text = twin.read_text()
    assert text.count("## Parameters") == 1
    twin.write_text(text.replace("## Parameters", "## Parameters (edited as text)"))
    os.utime(twin, (time.time() + 5, time.time() + 5))  # saved after the .ipynb
    sync(ipynb)
    after = nbformat.read(str(ipynb), as_version=4)
    assert sum("## Parameters (edited as text)" in c.source for c in after.cells) == 1
    assert [c.outputs for c in after.cells if c.cell_type == "code"] == [
        c.outputs for c in before.cells if c.cell_type == "code"]
    assert any(c.outputs for c in after.cells if c.cell_type == "code")
    assert pair_differences(str(ipynb)) == []


def test_editing_the_ipynb_and_syncing_changes_the_text_twin(tmp_path):
    folder = copy_notebooks(tmp_path, "08_clean_up")
    ipynb, twin = folder / "08_clean_up.ipynb", folder / "08_clean_up.py"
    nb = nbformat.read(str(ipynb), as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell("print('added in Lab')"))
    nbformat.write(nb, str(ipynb))
    os.utime(ipynb, (time.time() + 5, time.time() + 5))
    assert pair_differences(str(ipynb))
    sync(ipynb)
    assert "# %%\nprint('added in Lab')\n" in twin.read_text()
    assert pair_differences(str(ipynb)) == []


def test_pytest_collects_the_notebooks_but_not_their_text_twins():
    """The twins are not test modules (nor importable: their names start with digits); nbval
    collects each .ipynb."""
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0",
                           "-p", "no:randomly", "notebooks"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    files = {line.split("::")[0] for line in done.stdout.splitlines() if "::" in line}
    assert files == {f"notebooks/{name}" for name in navlinks.notebooks(NOTEBOOKS)}


def test_nbval_reads_every_sanitizer_in_the_file():
    """nbval takes a sanitizer only as a ``regex: ...`` line followed by a ``replace: ...`` line
    (with the space after the colon); a section it cannot read is silently ignored, and the stored
    outputs then differ from a run's by whatever that section was meant to hide."""
    import configparser

    from nbval.plugin import get_sanitize_patterns

    path = os.path.join(ROOT, "tests", "sanitize.cfg")
    text = open(path, encoding="utf-8").read()
    sections = configparser.ConfigParser(interpolation=None)
    sections.read_string(text)
    patterns = dict(get_sanitize_patterns(text))
    assert [sections[name]["regex"] for name in sections.sections()] == list(patterns)
    # the clean-up's progress lines, as many as the machine's speed makes them, leave nothing
    line = "waiting for CloudFront to remove the replicas of s3wb-abc123-edge: 3 s so far\n"
    cleaned = 2 * line + "left behind: {}\n"
    for regex, replace in patterns.items():
        cleaned = re.sub(regex, replace, cleaned)
    assert cleaned == "left behind: {}\n"


@pytest.mark.parametrize("how", ["nbval", "papermill"])
def test_the_suite_s_kernels_listen_on_unix_sockets_of_their_own(how, tmp_path):
    """nbval's and papermill's kernels in this suite use the ipc transport, each in a folder of its
    own that goes with the kernel: a TCP port picked for a kernel can be taken by another of the
    suite's processes before the kernel binds it (tests/kernel_transport.py)."""
    probe = ("import json, os, ipykernel.connect as c; info = json.loads(c.get_connection_info()); "
             "print(info['transport'], info['ip'], os.path.exists(info['ip'] + '-%d' % info['shell_port']))")
    if how == "nbval":
        import nbval.kernel

        km, kc = nbval.kernel.start_new_kernel(kernel_name="python3", cwd=str(tmp_path))
        seen = []
        try:
            kc.execute_interactive(probe, timeout=60, output_hook=seen.append)
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
        text = "".join(m["content"].get("text", "") for m in seen if m["msg_type"] == "stream")
    else:
        import papermill

        from tests.kernel_transport import AsyncKernelOverIpc
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(probe)])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, str(tmp_path / "probe.ipynb"))
        papermill.execute_notebook(str(tmp_path / "probe.ipynb"), str(tmp_path / "out.ipynb"),
                                   kernel_name="python3", progress_bar=False, cwd=str(tmp_path),
                                   kernel_manager_class=AsyncKernelOverIpc)
        out = nbformat.read(str(tmp_path / "out.ipynb"), as_version=4)
        text = "".join(o.get("text", "") for o in out.cells[0].outputs)
    transport, ip, listening = text.split()
    assert (transport, listening) == ("ipc", "True"), text
    assert os.path.isabs(ip) and len(ip) + 2 < 107, ip  # a path both sides agree on, short enough
    assert not os.path.exists(os.path.dirname(ip)), "the kernel's socket folder outlived it"
