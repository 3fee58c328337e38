"""The import graph's rules (issue 12): the contracts in pyproject.toml's [tool.importlinter]
hold, a wrong import breaks the contract it should, the local AWS has no import cycle, and the
installed moto is the one localaws/moto_bridge.py was written for.

The contracts (https://import-linter.readthedocs.io/en/stable/contract_types.html):
helpers reach localaws only in helpers._config; localaws never imports helpers; only
localaws.moto_bridge imports moto; localaws in layers (server; the API Gateway and CloudFront
data planes; the Lambda and S3 services; the bridge, iam_eval and bodies; the store); API
Gateway's integrations below its data plane; no cycles between siblings.
"""
from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# `lint-imports`, run by this interpreter (the one with the `test` extra installed).
LINT_IMPORTS = [sys.executable, "-c",
                "import sys; from importlinter.cli import lint_imports_command; "
                "sys.exit(lint_imports_command())"]


def lint_imports(project: Path) -> subprocess.CompletedProcess:
    """Run import-linter on ``project`` (its pyproject.toml, its helpers/ and localaws/); the
    copy on PYTHONPATH is the one analysed, not the installed package."""
    env = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run([*LINT_IMPORTS, "--no-cache", "--no-logo"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)


def contract_names() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [c["name"] for c in config["tool"]["importlinter"]["contracts"]]


def test_the_import_contracts_hold():
    result = lint_imports(ROOT)
    output = " ".join((result.stdout + result.stderr).split())  # import-linter wraps long lines
    assert result.returncode == 0, result.stdout + result.stderr
    names = contract_names()
    assert len(names) >= 6
    for name in names:
        assert f"{name} KEPT" in output
    assert f"Contracts: {len(names)} kept, 0 broken." in output


@pytest.mark.parametrize("module, line, contract, shown", [
    ("localaws/store.py", "import helpers",
     "the local AWS never imports the learners' helpers", "localaws.store -> helpers"),
    ("helpers/_s3.py", "import localaws.server",
     "helpers reach the local AWS only in helpers._config, where it is started or found",
     "helpers._s3 -> localaws.server"),
    ("localaws/awslambda/runtime.py", "from moto.awslambda import models",
     "only localaws.moto_bridge imports moto", "localaws.awslambda.runtime -> moto"),
    ("localaws/apigateway/integrations.py", "from . import dataplane",
     "API Gateway: integrations get a context, never the data plane",
     "localaws.apigateway.integrations -> localaws.apigateway.dataplane"),
    ("localaws/moto_bridge.py", "from .cloudfront import edge_rules",
     "no import cycles between the local AWS's modules and packages", ".moto_bridge -> .cloudfront"),
])
def test_a_wrong_import_breaks_its_contract(tmp_path, module, line, contract, shown):
    """In a copy of the tree (never in the tree itself): one import that goes the wrong way, and
    lint-imports fails naming the contract it breaks and the import."""
    for package in ("helpers", "localaws"):
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{line}  # a deliberately wrong import\n")
    result = lint_imports(tmp_path)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output
    assert f"{contract} BROKEN" in output
    assert shown in output


def test_the_local_aws_has_no_import_cycle():
    """No module of localaws reaches itself again through its imports, package roots included
    (import-linter's acyclic_siblings contract compares siblings only)."""
    import grimp

    graph = grimp.build_graph("localaws", cache_dir=None)
    cycles = [sorted(component) for component in _strongly_connected(graph) if len(component) > 1]
    assert cycles == []


def _strongly_connected(graph) -> list[set[str]]:
    # Tarjan's algorithm, iterative.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                found.append(component)
    return found


def test_the_installed_moto_is_the_one_the_bridge_was_written_for():
    """moto_bridge.py replaces private methods of one moto release: pyproject pins that release
    exactly, and the one installed must be it."""
    from localaws import moto_bridge

    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = [re.fullmatch(r"moto(\[[^\]]*\])?==(?P<version>[^;\s]+)", d) for d in dependencies
            if re.match(r"moto\b", d)]
    assert len(pins) == 1 and pins[0], f"moto must be pinned exactly (==) in pyproject: {dependencies}"
    assert pins[0]["version"] == moto_bridge.MOTO_VERSION, (
        f"pyproject pins moto {pins[0]['version']} but localaws/moto_bridge.py was written for "
        f"{moto_bridge.MOTO_VERSION}: change both together")
    problem = moto_bridge.version_problem(importlib.metadata.version("moto"))
    assert problem is None, problem


def test_another_moto_is_named_with_what_to_do():
    from localaws import moto_bridge

    assert moto_bridge.version_problem("5.3.0") == (
        f"the local AWS's moto bridge was written for moto {moto_bridge.MOTO_VERSION}; 5.3.0 is "
        "installed: pip install -e '.[test]'")


def _moto_objects(value, path="result"):
    """Where in ``value`` (dataclasses, dicts, lists of plain values) an object that is not plain
    data sits: a moto model, or anything else the emulator did not define."""
    import dataclasses
    import datetime

    if value is None or isinstance(value, (str, bytes, int, float, bool, datetime.datetime)):
        return []
    if dataclasses.is_dataclass(value):
        if not type(value).__module__.startswith("localaws."):
            return [f"{path}: {type(value).__module__}.{type(value).__name__}"]
        return [found for f in dataclasses.fields(value)
                for found in _moto_objects(getattr(value, f.name), f"{path}.{f.name}")]
    if isinstance(value, dict):
        return [found for k, v in value.items()
                for found in _moto_objects(k, f"{path} key") + _moto_objects(v, f"{path}[{k!r}]")]
    if isinstance(value, (list, tuple)):
        return [found for i, v in enumerate(value) for found in _moto_objects(v, f"{path}[{i}]")]
    return [f"{path}: {type(value).__module__}.{type(value).__name__}"]


def test_the_bridge_readers_hand_out_plain_data_never_a_moto_object(aws, make_function, name):
    """What the data plane reads of moto's state comes back as the bridge's own dataclasses and
    plain values, so no module but moto_bridge.py depends on moto's models."""
    from test_cloudfront_control_plane import distribution_config

    from localaws import moto_bridge

    account = moto_bridge.ACCOUNT_ID
    function = make_function("def handler(e, c):\n    return 1\n", Environment={"Variables": {"A": "1"}})
    aws("lambda").add_permission(FunctionName=function["FunctionName"], StatementId="s",
                                 Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com")
    apigw = aws("apigateway")
    api = apigw.create_rest_api(name=name)["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    apigw.create_deployment(restApiId=api, stageName="v1", variables={"k": "v"})
    aws("s3").create_bucket(Bucket=name)
    aws("cloudfront").create_distribution(DistributionConfig=distribution_config(name))
    user_key = aws("iam").create_access_key(UserName=aws("iam").create_user(UserName=name)["User"]["UserName"])

    readers = {
        "find_rest_api": moto_bridge.find_rest_api(api),
        "role_by_arn": moto_bridge.role_by_arn(account, function["Role"]),
        "lambda_function": moto_bridge.lambda_function(account, "us-east-1", function["FunctionArn"]),
        "assume_role": moto_bridge.assume_role(account, function["Role"], "s"),
        "cloudfront_distributions": moto_bridge.cloudfront_distributions(),
        "find_credentials": moto_bridge.find_credentials(user_key["AccessKey"]["AccessKeyId"]),
        "api_keys_for_stage": moto_bridge.api_keys_for_stage(account, "us-east-1", api, "v1"),
        "bucket_policy": moto_bridge.bucket_policy(name),
    }
    assert readers["find_rest_api"].stages["v1"].variables == {"k": "v"}
    assert readers["lambda_function"].environment == {"A": "1"}
    assert readers["lambda_function"].resource_policy["Statement"]
    assert any(d.origins["s3"].domain_name == f"{name}.s3.us-east-1.amazonaws.com"
               for d in readers["cloudfront_distributions"])
    assert readers["find_credentials"]["kind"] == "user"
    for reader, value in readers.items():
        assert _moto_objects(value, reader) == []
