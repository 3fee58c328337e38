"""The Lambda runtime of the local AWS: handlers really run, in warm worker processes.

INVOKE: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
ERRORS: https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html
ENV: https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
CONTEXT: https://docs.aws.amazon.com/lambda/latest/dg/python-context.html
LIMITS: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
"""
import base64
import json
import time

import pytest
from botocore.exceptions import ClientError

from conftest import wait_updated, zip_code

SIDE_EFFECT = '''
import os, boto3
s3 = boto3.client("s3")
def handler(event, context):
    s3.put_object(Bucket=os.environ["BUCKET"], Key=event["key"], Body=event["body"].encode())
    return {"stored": event["key"]}
'''

COUNTER = '''
import os, time
COUNT = 0
STARTED = time.time()
print("init ran")
def handler(event, context):
    global COUNT
    COUNT += 1
    return {"count": COUNT, "pid": os.getpid(), "version": context.function_version,
            "name": context.function_name, "arn": context.invoked_function_arn,
            "request_id": context.aws_request_id, "memory": context.memory_limit_in_mb,
            "remaining_ok": 0 < context.get_remaining_time_in_millis() <= 3000,
            "env": {k: os.environ.get(k) for k in ("AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME",
                    "GREETING", "AWS_ENDPOINT_URL")},
            "has_session": bool(os.environ.get("AWS_SESSION_TOKEN"))}
'''


def invoke(aws, name, payload=None, **kwargs):
    response = aws("lambda").invoke(FunctionName=name, Payload=json.dumps(payload or {}), **kwargs)
    body = response["Payload"].read()
    return response, json.loads(body) if body else None


def test_a_handler_with_side_effects_really_runs_with_its_role_credentials(aws, make_function, name):
    aws("s3").create_bucket(Bucket=name)
    fn = make_function(SIDE_EFFECT, Environment={"Variables": {"BUCKET": name}}, policy={
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{name}/*"}]})
    response, result = invoke(aws, fn["FunctionName"], {"key": "from-lambda.txt", "body": "hi"})
    assert response["StatusCode"] == 200 and "FunctionError" not in response
    assert result == {"stored": "from-lambda.txt"}
    assert aws("s3").get_object(Bucket=name, Key="from-lambda.txt")["Body"].read() == b"hi"


def test_the_role_s_policies_limit_what_the_handler_may_do(aws, make_function, name):
    aws("s3").create_bucket(Bucket=name)
    fn = make_function(SIDE_EFFECT, Environment={"Variables": {"BUCKET": name}})  # no policy at all
    response, result = invoke(aws, fn["FunctionName"], {"key": "x", "body": "x"})
    assert response["FunctionError"] == "Unhandled"
    assert "AccessDenied" in result["errorMessage"] and "s3:PutObject" in result["errorMessage"]


def test_warm_reuse_keeps_module_state_and_cold_start_reports_init_ENV_CONTEXT(aws, make_function):
    fn = make_function(COUNTER, Environment={"Variables": {"GREETING": "hello"}}, MemorySize=256)
    first_response, first = invoke(aws, fn["FunctionName"], LogType="Tail")
    _, second = invoke(aws, fn["FunctionName"])
    assert (first["count"], second["count"]) == (1, 2)
    assert first["pid"] == second["pid"]
    cold_log = base64.b64decode(first_response["LogResult"]).decode()
    assert "init ran" in cold_log and "Init Duration:" in cold_log
    third_response, _ = invoke(aws, fn["FunctionName"], LogType="Tail")
    assert "Init Duration:" not in base64.b64decode(third_response["LogResult"]).decode()
    assert first["name"] == fn["FunctionName"] and first["version"] == "$LATEST"
    assert first["arn"] == fn["FunctionArn"] and first["memory"] == "256" and first["remaining_ok"]
    assert first["env"]["GREETING"] == "hello" and first["env"]["AWS_REGION"] == "us-east-1"
    assert first["env"]["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert first["has_session"]


def test_code_updates_start_a_new_environment(aws, make_function):
    fn = make_function(COUNTER)
    invoke(aws, fn["FunctionName"])
    aws("lambda").update_function_code(FunctionName=fn["FunctionName"], ZipFile=zip_code(
        {"app.py": COUNTER.replace("COUNT = 0", "COUNT = 100")}))
    wait_updated(aws("lambda"), fn["FunctionName"])
    _, result = invoke(aws, fn["FunctionName"])
    assert result["count"] == 101


def test_published_versions_and_aliases_run_the_code_they_were_published_with(aws, make_function):
    fn = make_function("def handler(e, c):\n    return 'one'\n")
    lam = aws("lambda")
    version = lam.publish_version(FunctionName=fn["FunctionName"])["Version"]
    lam.create_alias(FunctionName=fn["FunctionName"], Name="live", FunctionVersion=version)
    lam.update_function_code(FunctionName=fn["FunctionName"],
                             ZipFile=zip_code({"app.py": "def handler(e, c):\n    return 'two'\n"}))
    wait_updated(lam, fn["FunctionName"])
    assert invoke(aws, fn["FunctionName"])[1] == "two"
    response, result = invoke(aws, fn["FunctionName"], Qualifier=version)
    assert result == "one" and response["ExecutedVersion"] == version
    assert invoke(aws, fn["FunctionName"], Qualifier="live")[1] == "one"


def test_unhandled_error_shape_ERRORS(aws, make_function):
    fn = make_function("def handler(event, context):\n    raise ValueError('bad input: ' + event['x'])\n")
    response, result = invoke(aws, fn["FunctionName"], {"x": "42"})
    assert response["StatusCode"] == 200 and response["FunctionError"] == "Unhandled"
    assert result["errorMessage"] == "bad input: 42" and result["errorType"] == "ValueError"
    assert result["stackTrace"] and '/var/task/app.py' in result["stackTrace"][0]
    assert "requestId" in result


@pytest.mark.parametrize("handler,error_type", [
    ("missing.handler", "Runtime.ImportModuleError"),
    ("app.nothing_here", "Runtime.HandlerNotFound"),
])
def test_broken_handler_configuration(aws, make_function, handler, error_type):
    fn = make_function("def handler(e, c):\n    return 1\n", handler=handler)
    response, result = invoke(aws, fn["FunctionName"])
    assert response["FunctionError"] == "Unhandled" and result["errorType"] == error_type


def test_timeout_is_enforced_and_the_environment_replaced(aws, make_function):
    source = "import time\nCOUNT = 0\ndef handler(e, c):\n    global COUNT\n    COUNT += 1\n" \
             "    time.sleep(e.get('sleep', 0))\n    return COUNT\n"
    fn = make_function(source, Timeout=1)
    started = time.time()
    response, result = invoke(aws, fn["FunctionName"], {"sleep": 5})
    assert time.time() - started < 4
    assert response["FunctionError"] == "Unhandled"
    assert result["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert invoke(aws, fn["FunctionName"])[1] == 1  # a fresh environment: module state is new


def test_unserializable_result_is_a_marshal_error(aws, make_function):
    fn = make_function("def handler(e, c):\n    return object()\n")
    response, result = invoke(aws, fn["FunctionName"])
    assert result["errorType"] == "Runtime.MarshalError"


def test_event_and_dry_run_invocation_types_INVOKE(aws, make_function, name):
    aws("s3").create_bucket(Bucket=name)
    fn = make_function(SIDE_EFFECT, Environment={"Variables": {"BUCKET": name}}, policy={
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]})
    lam = aws("lambda")
    assert lam.invoke(FunctionName=fn["FunctionName"], InvocationType="DryRun")["StatusCode"] == 204
    response = lam.invoke(FunctionName=fn["FunctionName"], InvocationType="Event",
                          Payload=json.dumps({"key": "async.txt", "body": "later"}))
    assert response["StatusCode"] == 202
    deadline = time.time() + 10
    while time.time() < deadline:
        if aws("s3").list_objects_v2(Bucket=name).get("KeyCount"):
            break
        time.sleep(0.2)
    assert aws("s3").get_object(Bucket=name, Key="async.txt")["Body"].read() == b"later"


def test_payloads_must_be_json_and_at_most_6_mb_LIMITS(aws, make_function):
    fn = make_function("def handler(e, c):\n    return len(e['x'])\n")
    lam = aws("lambda")
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName=fn["FunctionName"], Payload=b"{not json")
    assert err.value.response["Error"]["Code"] == "InvalidRequestContentException"
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName=fn["FunctionName"], Payload=json.dumps({"x": "a" * (6 * 1024 * 1024)}))
    assert err.value.response["Error"]["Code"] == "RequestTooLargeException"
    assert invoke(aws, fn["FunctionName"], {"x": "a" * 1000})[1] == 1000


def test_unknown_function_is_resource_not_found(aws):
    with pytest.raises(ClientError) as err:
        aws("lambda").invoke(FunctionName="no-such-function-here")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_role_lambda_cannot_assume_is_refused_at_create_function(aws, name, monkeypatch):
    # No propagation delay (time scale 0): the trust policy alone refuses here, however old the
    # role (tests/test_as_strict_as_aws.py checks the delay).
    monkeypatch.setenv("LOCALAWS_TIME_SCALE", "0")
    iam = aws("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    with pytest.raises(ClientError) as err:
        aws("lambda").create_function(FunctionName=name, Runtime="python3.12", Role=role,
                                      Handler="app.handler",
                                      Code={"ZipFile": zip_code({"app.py": "def handler(e,c): pass"})})
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "cannot be assumed by Lambda" in err.value.response["Error"]["Message"]


def test_layers_are_importable(aws, make_function, name):
    layer = aws("lambda").publish_layer_version(
        LayerName=name, Content={"ZipFile": zip_code({"python/greeting.py": "WORD = 'layered'\n"})})
    fn = make_function("import greeting\ndef handler(e, c):\n    return greeting.WORD\n",
                       Layers=[layer["LayerVersionArn"]])
    assert invoke(aws, fn["FunctionName"])[1] == "layered"


def test_prints_and_logging_reach_cloudwatch_logs(aws, make_function):
    fn = make_function("import logging\nlog = logging.getLogger()\nlog.setLevel('INFO')\n"
                       "def handler(e, c):\n    print('printed line')\n    log.info('logged line')\n")
    invoke(aws, fn["FunctionName"])
    logs = aws("logs")
    group = f"/aws/lambda/{fn['FunctionName']}"
    deadline = time.monotonic() + 30
    while True:  # CloudWatch Logs shows the lines some seconds after they were written
        streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
        text = "\n".join(e["message"] for s in streams
                         for e in logs.get_log_events(logGroupName=group, logStreamName=s["logStreamName"])["events"])
        if "REPORT RequestId:" in text or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert "printed line" in text and "logged line" in text and "[INFO]" in text
    assert "START RequestId:" in text and "REPORT RequestId:" in text


def test_without_logs_permissions_on_its_role_a_function_s_logs_are_lost(aws, make_function):
    fn = make_function("def handler(e, c):\n    print('lost line')\n", logs=False)
    response, _ = invoke(aws, fn["FunctionName"], LogType="Tail")
    assert "lost line" in base64.b64decode(response["LogResult"]).decode()  # the tail still shows it
    groups = aws("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{fn['FunctionName']}")
    assert groups["logGroups"] == []


def test_code_that_is_not_a_zip_is_refused_at_create_function(aws, name):
    iam = aws("iam")
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
            "Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    with pytest.raises(ClientError) as err:
        aws("lambda").create_function(FunctionName=name, Runtime="python3.12", Role=role,
                                      Handler="app.handler", Code={"ZipFile": b"print('not zipped')"})
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "Could not unzip" in err.value.response["Error"]["Message"]


def test_an_environment_that_cannot_start_fails_the_invocation_and_leaves_no_folder(
        aws, make_function, monkeypatch, tmp_path):
    """Code that cannot be unpacked (here: replaced by bytes that are not a zip behind moto's back)
    is a failed invocation, not a server error; the half-made folder (code, credentials) goes."""
    import tempfile

    from moto.awslambda.models import lambda_backends

    from localaws import moto_bridge

    fn = make_function("def handler(e, c):\n    return 1\n")
    function = lambda_backends[moto_bridge.ACCOUNT_ID]["us-east-1"].get_function(fn["FunctionArn"])
    monkeypatch.setattr(function, "code_bytes", b"not a zip")
    monkeypatch.setattr(function, "code_sha_256", "changed")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    response, result = invoke(aws, fn["FunctionName"])
    assert response["FunctionError"] == "Unhandled" and "BadZipFile" in result["errorMessage"]
    assert list(tmp_path.iterdir()) == []


# --- each execution environment is its own process, forked from a zygote with boto3 imported ---
# A cold start forks localaws/awslambda/zygote.py, which has imported boto3 once. What a function
# can see of that must be what it sees on AWS: its own copy of a package wins over the runtime's,
# its own subprocesses can be waited for, and environments share no state.

BUNDLED_BOTO3 = {
    "app.py": "import boto3, botocore\n"
              "def handler(e, c):\n    return [boto3.__version__, botocore.__version__]\n",
    "boto3/__init__.py": "__version__ = 'bundled'\n",
    "botocore/__init__.py": "__version__ = 'bundled too'\n",
}


def test_a_function_that_bundles_boto3_imports_its_own_copy_not_the_runtime_s(aws, make_function):
    """On AWS the function's folder comes first on sys.path, so a packaged boto3 replaces the
    runtime's (https://docs.aws.amazon.com/lambda/latest/dg/python-package.html)."""
    fn = make_function(BUNDLED_BOTO3)
    assert invoke(aws, fn["FunctionName"])[1] == ["bundled", "bundled too"]


def test_a_layer_that_bundles_boto3_replaces_the_runtime_s_too(aws, make_function, name):
    layer = aws("lambda").publish_layer_version(LayerName=name, Content={"ZipFile": zip_code(
        {"python/boto3/__init__.py": "__version__ = 'from the layer'\n"})})
    fn = make_function("import boto3\ndef handler(e, c):\n    return boto3.__version__\n",
                       Layers=[layer["LayerVersionArn"]])
    assert invoke(aws, fn["FunctionName"])[1] == "from the layer"


def test_a_module_named_like_a_standard_one_leaves_the_runtime_s_boto3_in_place(aws, make_function):
    """Only installed packages (boto3, botocore, urllib3, ...) are the function's to replace. AWS's
    runtime interface client imports http.client (and with it email) before the handler, so a
    module of the package named ``email.py`` does not replace the standard one there; here it
    made the environment drop everything boto3 had imported, and boto3 then failed to import."""
    import boto3

    fn = make_function({"app.py": "import boto3, email, sys\n"
                                  "def handler(e, c):\n"
                                  "    return [boto3.__version__, email.__file__.startswith(sys.prefix)"
                                  " or email.__file__.startswith(sys.base_prefix)]\n",
                        "email.py": "SHADOW = True\n"})
    assert invoke(aws, fn["FunctionName"])[1] == [boto3.__version__, True]


def test_without_a_bundled_copy_the_runtime_s_boto3_is_the_installed_one(aws, make_function):
    import boto3

    fn = make_function("import boto3\ndef handler(e, c):\n    return boto3.__version__\n")
    assert invoke(aws, fn["FunctionName"])[1] == boto3.__version__


def test_a_handler_can_run_and_wait_for_its_own_subprocess(aws, make_function):
    """The zygote lets the kernel reap its children; the environments it forks must not inherit
    that, or ``subprocess.run`` could not collect its child's exit status."""
    fn = make_function("import subprocess, sys\ndef handler(e, c):\n"
                       "    done = subprocess.run([sys.executable, '-c', 'import sys; sys.exit(3)'])\n"
                       "    return done.returncode\n")
    response, result = invoke(aws, fn["FunctionName"])
    assert "FunctionError" not in response, result
    assert result == 3


def test_concurrent_environments_are_separate_processes_with_their_own_random_state(
        aws, make_function, tmp_path):
    """Three invocations at once, each holding its environment until all three are running (a
    file each in a folder of this machine): three environments, none reused."""
    import concurrent.futures

    fn = make_function("import os, random, time\nSEED = random.random()\n"
                       "def handler(e, c):\n"
                       "    open(os.path.join(e['meet'], str(os.getpid())), 'w').close()\n"
                       "    deadline = time.time() + 20\n"
                       "    while len(os.listdir(e['meet'])) < 3 and time.time() < deadline:\n"
                       "        time.sleep(0.05)\n"
                       "    return [os.getpid(), SEED, os.environ['AWS_LAMBDA_LOG_STREAM_NAME']]\n",
                       Timeout=30)
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: invoke(aws, fn["FunctionName"], {"meet": str(tmp_path)})[1],
                                range(3)))
    pids, seeds, streams = zip(*results)
    assert len(set(pids)) == 3 and len(set(seeds)) == 3 and len(set(streams)) == 3


def test_each_environment_s_boto3_uses_its_own_role_credentials_and_region(aws, make_function):
    """The zygote has boto3's default session ready (service models read); what a client takes
    from the environment (credentials, region, endpoint) must still be this function's."""
    source = ("import boto3\ndef handler(e, c):\n    sts = boto3.client('sts')\n"
              "    return [sts.meta.region_name, sts.get_caller_identity()['Arn']]\n")
    first, second = make_function(source), make_function(source)
    for fn in (first, second):
        region, arn = invoke(aws, fn["FunctionName"])[1]
        role = fn["Role"].split("/")[-1]
        assert region == "us-east-1"
        assert arn.startswith("arn:aws:sts::") and f":assumed-role/{role}/" in arn, arn


def test_a_zygote_that_died_is_replaced_at_the_next_cold_start(aws, make_function, local_aws):
    """The zygote is an ordinary process: if something kills it, the next cold start starts a
    new one instead of failing every invocation from then on."""
    import os
    import signal

    fn = make_function("import os\ndef handler(e, c):\n    return os.getpid()\n")
    invoke(aws, fn["FunctionName"])
    zygote = local_aws.app.awslambda.runtime._zygote
    old, old_channel = zygote._process, zygote._channel
    os.kill(old.pid, signal.SIGKILL)
    old.wait(timeout=10)
    aws("lambda").update_function_configuration(FunctionName=fn["FunctionName"],
                                                Environment={"Variables": {"COLD": "again"}})
    wait_updated(aws("lambda"), fn["FunctionName"])
    response, pid = invoke(aws, fn["FunctionName"])
    assert "FunctionError" not in response and isinstance(pid, int)
    assert zygote._process is not old and zygote._process.poll() is None
    assert old_channel.fileno() == -1, "the dead zygote's socket was left open"
