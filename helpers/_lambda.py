"""Lambda steps: package a function from helpers/functions, create it, let API Gateway call it,
read its logs."""
from __future__ import annotations

import importlib.util
import io
import os
import time
import zipfile
from typing import Any

from ._errors import ConfigurationError
from ._iam import retry_while_refused
from ._names import tags

BASIC_EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def _source_path(module: str) -> str:
    spec = importlib.util.find_spec(f"helpers.functions.{module}")
    if spec is None or spec.origin is None:
        raise ConfigurationError(f"no function source helpers/functions/{module}.py")
    return spec.origin


def function_source(module: str) -> str:
    """The handler's source code, to read before deploying it."""
    with open(_source_path(module)) as handle:
        return handle.read()


def _add(archive: zipfile.ZipFile, name: str, data: bytes | str) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # fixed dates: reproducible zips
    # Lambda runs your code as another user: files must be readable by others (0644). A plain
    # ZipFile.writestr(name, ...) gives 0600, and the function then fails to import on AWS.
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def package_source(files: dict[str, str | bytes]) -> bytes:
    """A deployment package (zip) from ``{path: source}``, every file readable by Lambda (0644).

        package = package_source({"edge_auth.py": my_source})
        lam.update_function_code(FunctionName=name, ZipFile=package)
        lam.get_waiter("function_updated_v2").wait(FunctionName=name)  # before invoking it
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            _add(archive, name, data)
    return buffer.getvalue()


def package_function(module: str, *, substitutions: dict[str, str] | None = None,
                     packages: tuple[str, ...] = ()) -> bytes:
    """A deployment package (zip) holding ``{module}.py`` at its root.

    ``substitutions`` replace placeholders in the source (Lambda@Edge has no environment
    variables, so settings are written in); ``packages`` are pure-Python packages copied from
    this environment into the zip (e.g. ``("jwt",)``).
    """
    source = function_source(module)
    for placeholder, value in (substitutions or {}).items():
        if placeholder not in source:
            raise ConfigurationError(f"{module}.py has no placeholder {placeholder!r}")
        source = source.replace(placeholder, value)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        _add(archive, f"{module}.py", source)
        for package in packages:
            spec = importlib.util.find_spec(package)
            if spec is None or not spec.submodule_search_locations:
                raise ConfigurationError(f"package {package!r} is not installed here: pip install it first")
            root = list(spec.submodule_search_locations)[0]
            for folder, dirs, files in sorted(os.walk(root)):
                dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                for file in sorted(files):
                    path = os.path.join(folder, file)
                    with open(path, "rb") as handle:
                        _add(archive, os.path.join(package, os.path.relpath(path, root)), handle.read())
    return buffer.getvalue()


def create_function(name: str, *, module: str, role_arn: str, lam: Any, prefix: str,
                    environment: dict[str, str] | None = None, timeout: int = 10,
                    memory: int = 128, runtime: str = "python3.12",
                    substitutions: dict[str, str] | None = None,
                    packages: tuple[str, ...] = ()) -> dict[str, str]:
    """Create a Python function from ``helpers/functions/{module}.py`` (handler ``module.handler``).

    A role created seconds ago is not assumable by Lambda yet (IAM is eventually consistent):
    creation is retried then, with short waits that grow, for up to a minute. The function is
    ``Pending`` at first; this returns once it is ``Active`` and can be invoked.
    """
    package = package_function(module, substitutions=substitutions, packages=packages)
    fn = when_role_is_ready(
        lam.create_function,
        FunctionName=name, Runtime=runtime, Role=role_arn, Handler=f"{module}.handler",
        Code={"ZipFile": package}, Timeout=timeout, MemorySize=memory,
        **({"Environment": {"Variables": dict(environment)}} if environment else {}),
        Tags=tags(prefix), Description=f"s3-upload-workbook: {module}")
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return {"function_name": fn["FunctionName"], "function_arn": fn["FunctionArn"]}


def when_role_is_ready(call: Any, *, patience: float = 60.0, **params: Any) -> Any:
    """``call(**params)`` (CreateFunction, UpdateFunctionConfiguration), retried while Lambda
    answers that the role "cannot be assumed": a new role takes some seconds to reach Lambda.
    Waits 0.5 s, then 1 s, 2 s, 4 s, 4 s, ... for at most ``patience`` seconds in all."""
    return retry_while_refused(call, code="InvalidParameterValueException", says="cannot be assumed",
                               patience=patience, **params)


def publish_version(function_name: str, *, lam: Any) -> str:
    """Publish the function's current code and settings as a numbered version; returns its ARN
    (Lambda@Edge and aliases need one: $LATEST can change under them).

    Lambda refuses to publish while the function is still being created or updated
    (ResourceConflictException): this waits until it is Active and its last update is done."""
    lam.get_waiter("function_active_v2").wait(FunctionName=function_name)
    lam.get_waiter("function_updated_v2").wait(FunctionName=function_name)
    return lam.publish_version(FunctionName=function_name)["FunctionArn"]


def allow_api_gateway(function_name: str, *, api_id: str, region: str, account: str, lam: Any,
                      method: str = "*", path: str = "*") -> dict[str, str]:
    """Let API Gateway invoke the function, for this API only (a resource policy statement)."""
    source_arn = f"arn:aws:execute-api:{region}:{account}:{api_id}/*/{method}/{path}"
    lam.add_permission(FunctionName=function_name, StatementId=f"apigateway-{api_id}",
                       Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
                       SourceArn=source_arn)
    return {"source_arn": source_arn}


def recent_log_lines(function_name: str, *, logs: Any, limit: int = 20) -> list[str]:
    """The last lines the function wrote to CloudWatch Logs (newest stream last).

    ``function_name`` may carry Lambda@Edge's ``us-east-1.`` prefix (its log group's name).
    """
    group = f"/aws/lambda/{function_name}"
    try:
        streams = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime",
                                            descending=True, limit=5)["logStreams"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    lines: list[str] = []
    for stream in reversed(streams):
        events = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"],
                                     startFromHead=True)["events"]
        lines += [e["message"].rstrip("\n") for e in events]
    return lines[-limit:]


def edge_log_regions(target: Any) -> list[str]:
    """Regions where a Lambda@Edge function may have written logs: CloudFront runs it at the
    edge location nearest each viewer, and it logs to ``/aws/lambda/us-east-1.NAME`` in that
    location's Region (CloudFront Developer Guide, "Edge function logs"). Every Region of the
    partition, us-east-1 first; Regions not enabled for the account are skipped when read."""
    regions = target.available_regions("logs")
    return ["us-east-1"] + [r for r in regions if r != "us-east-1"]


def edge_log_groups(function_names: Any, *, target: Any) -> list[tuple[str, str]]:
    """``(region, group)`` for every Region holding the log group of one of these Lambda@Edge
    functions (one listing per Region, whatever the number of functions)."""
    wanted = {f"/aws/lambda/us-east-1.{name}" for name in
              ([function_names] if isinstance(function_names, str) else function_names)}
    found = []
    for region in edge_log_regions(target) if wanted else []:
        logs = target.client("logs", region=region)
        try:
            pages = logs.get_paginator("describe_log_groups").paginate(
                logGroupNamePrefix="/aws/lambda/us-east-1.")
            found += [(region, g["logGroupName"]) for page in pages for g in page["logGroups"]
                      if g["logGroupName"] in wanted]
        except Exception as err:  # a Region not enabled for this account answers with an error
            code = getattr(err, "response", {}).get("Error", {}).get("Code", "")
            if code not in ("UnrecognizedClientException", "InvalidClientTokenId", "AccessDeniedException"):
                raise
    return found


def tail_function_logs(function_name: str, *, target: Any, edge: bool = False, limit: int = 20,
                       contains: str | None = None, expect: int = 1, wait: float = 60.0) -> list[str]:
    """The function's last log lines, like ``aws logs tail /aws/lambda/NAME``.

        for line in tail_function_logs(fn["function_name"], target=aws, contains="refused"):
            print(line)

    ``edge=True`` reads a Lambda@Edge function's group, ``/aws/lambda/us-east-1.NAME``, in every
    Region that has one: CloudFront runs the function near the viewer and its logs land in that
    Region, not necessarily in us-east-1 where the function lives. ``contains`` keeps only
    matching lines. CloudWatch Logs shows lines some seconds after they were written (edge logs
    later still), so this polls, with growing pauses, until at least ``expect`` lines are there
    or ``wait`` seconds have passed, and returns what it found then.
    """
    deadline, pause = time.monotonic() + wait, 0.25
    while True:
        if edge:
            lines = []
            for region, group in edge_log_groups(function_name, target=target):
                lines += recent_log_lines(group[len("/aws/lambda/"):], limit=10_000,
                                          logs=target.client("logs", region=region))
        else:
            lines = recent_log_lines(function_name, logs=target.client("logs"), limit=10_000)
        if contains is not None:
            lines = [line for line in lines if contains in line]
        if len(lines) >= expect or time.monotonic() + pause > deadline:
            return lines[-limit:]
        time.sleep(pause)
        pause = min(pause * 2, 5.0)


def delete_function(name: str, *, lam: Any) -> bool:
    """Delete a function and all its versions; False if it was already gone."""
    try:
        lam.delete_function(FunctionName=name)
    except lam.exceptions.ResourceNotFoundException:
        return False
    return True
