"""Lambda Invoke, as recorded against AWS.

API: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
Limits: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
Python errors: https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html
Recordings (LocalStack's AWS-validated suite, conformance_kit.LS_LAMBDA / LS_LAMBDA_API), dates per case.
"""
import base64
import json
import re

import pytest
from botocore.exceptions import ClientError

from conformance_kit import (ACCOUNT, LS_LAMBDA, LS_LAMBDA_API, REGION, create_function,  # noqa: F401
                             wait_for_logs)

TIMEOUT_FN = '''
import time
def handler(event, context):
    print("starting wait")
    time.sleep(event["wait"])
    print("done waiting")
'''
IMPORT_ERROR_FN = 'raise Exception("Runtime startup fails")\n'
HANDLER_ERROR_FN = '''
def handler(event, context):
    raise Exception("Handler fails")
'''
RESPONSE_SIZE_FN = '''
def handler(event, ctx):
    print("generating bytes...")
    return "a" * event["bytenum"]
'''
ECHO_FN = '''
def handler(event, context):
    return event
'''
NONE_FN = '''
def handler(event, context):
    print("{}")
'''
EXIT_FN = '''
import sys
def handler(event, context):
    sys.exit(0)
'''
EXIT_AT_IMPORT_FN = 'import sys\nsys.exit(0)\n'


@pytest.fixture(scope="module")
def lam(aws):
    return aws("lambda")


def _payload(result):
    return json.loads(result["Payload"].read())


def test_timeout_payload(lam, create_function):
    """LS_LAMBDA, test_lambda_invoke_with_timeout (recorded 2025-11-25): FunctionError Unhandled,
    errorType Sandbox.Timedout, "RequestId: <id> Error: Task timed out after 1.00 seconds"."""
    fn = create_function(TIMEOUT_FN, timeout=1)
    result = lam.invoke(FunctionName=fn["FunctionName"], Payload=json.dumps({"wait": 2}))
    payload = _payload(result)
    request_id = result["ResponseMetadata"]["RequestId"]
    assert result["StatusCode"] == 200 and result["FunctionError"] == "Unhandled"
    assert result["ExecutedVersion"] == "$LATEST"
    assert payload == {"errorType": "Sandbox.Timedout",
                       "errorMessage": f"RequestId: {request_id} Error: Task timed out after 1.00 seconds"}


def test_timeout_prints_reach_logs(aws, lam, create_function):
    """LS_LAMBDA, test_lambda_invoke_with_timeout (2025-11-25): what the handler printed before
    the timeout is in CloudWatch Logs; what it would have printed after is not."""
    fn = create_function(TIMEOUT_FN, timeout=1)
    lam.invoke(FunctionName=fn["FunctionName"], Payload=json.dumps({"wait": 2}))
    messages = wait_for_logs(aws("logs"), f"/aws/lambda/{fn['FunctionName']}",
                             lambda m: any("Task timed out" in x for x in m))
    assert any("starting wait" in m for m in messages)
    assert not any("done waiting" in m for m in messages)
    assert any(re.search(r"\s[-a-f0-9]{36} Task timed out after 1\.00 seconds", m) for m in messages)


def test_exception_at_import_is_reported_as_itself(lam, create_function):
    """LS_LAMBDA, test_lambda_runtime_error (recorded 2025-11-24): an exception raised while the
    module is imported comes back with its own type and message, requestId "", and a stack trace
    ending in the function's file."""
    fn = create_function(IMPORT_ERROR_FN, handler="lambda_runtime_error.handler",
                         filename="lambda_runtime_error.py")
    result = lam.invoke(FunctionName=fn["FunctionName"], Payload=b"{}")
    payload = _payload(result)
    assert result["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Exception" and payload["errorMessage"] == "Runtime startup fails"
    assert payload["requestId"] == ""
    assert payload["stackTrace"][-1] == ('  File "/var/task/lambda_runtime_error.py", line 1, in <module>\n'
                                         '    raise Exception("Runtime startup fails")\n')


def test_handler_exception(lam, create_function):
    """LS_LAMBDA, test_lambda_handler_error (recorded 2025-11-24)."""
    fn = create_function(HANDLER_ERROR_FN, handler="lambda_handler_error.handler",
                         filename="lambda_handler_error.py")
    result = lam.invoke(FunctionName=fn["FunctionName"], Payload=b"{}")
    payload = _payload(result)
    assert result["FunctionError"] == "Unhandled"
    assert payload == {"errorMessage": "Handler fails", "errorType": "Exception",
                       "requestId": result["ResponseMetadata"]["RequestId"],
                       "stackTrace": ['  File "/var/task/lambda_handler_error.py", line 3, in handler\n'
                                      '    raise Exception("Handler fails")\n']}


@pytest.mark.parametrize("source", [EXIT_FN, EXIT_AT_IMPORT_FN], ids=["in-handler", "at-import"])
def test_exit_without_reason(lam, create_function, source):
    """LS_LAMBDA, test_lambda_handler_exit and test_lambda_runtime_exit (recorded 2025-11-24):
    sys.exit(0) -> Runtime.ExitError "RequestId: <id> Error: Runtime exited without providing a
    reason"."""
    fn = create_function(source)
    result = lam.invoke(FunctionName=fn["FunctionName"], Payload=b"{}")
    request_id = result["ResponseMetadata"]["RequestId"]
    assert result["FunctionError"] == "Unhandled"
    assert _payload(result) == {"errorType": "Runtime.ExitError", "errorMessage":
                                f"RequestId: {request_id} Error: Runtime exited without providing a reason"}


@pytest.mark.parametrize("qualifier,suffix", [(None, "$LATEST"), ("7", "7")], ids=["unqualified", "qualified"])
def test_missing_function(lam, qualifier, suffix):
    """LS_LAMBDA, test_invoke_exceptions (recorded 2025-11-24), and LS_LAMBDA_API,
    test_function_name_and_qualifier_validation (a qualifier is named as given): 404
    ResourceNotFoundException, Message with the qualified ARN, Type User."""
    kwargs = {"Qualifier": qualifier} if qualifier else {}
    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName="doesnotexist", Payload=b"{}", **kwargs)
    response = caught.value.response
    message = f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:doesnotexist:{suffix}"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert response["Error"] == {"Code": "ResourceNotFoundException", "Message": message}
    assert response["Message"] == message and response["Type"] == "User"


@pytest.fixture(scope="module")
def size_fn(create_function):
    return create_function(RESPONSE_SIZE_FN)


def test_six_mib_response_is_returned(lam, size_fn):
    """LS_LAMBDA test_lambda_large_response (validated 2025-11): "a" * 6 MiB comes back whole
    (the limit is 6 MB plus 100 bytes)."""
    result = lam.invoke(FunctionName=size_fn["FunctionName"], Payload=json.dumps({"bytenum": 6 * 1024 * 1024}))
    assert "FunctionError" not in result
    assert _payload(result) == "a" * 6 * 1024 * 1024


def test_too_large_response(aws, lam, size_fn):
    """LS_LAMBDA, test_lambda_too_large_response (recorded 2025-11-24): 7 MiB ->
    Function.ResponseSizeTooLarge "Response payload size exceeded maximum allowed payload size
    (6291556 bytes).", twice; the handler's print is in the logs."""
    for _ in range(2):
        result = lam.invoke(FunctionName=size_fn["FunctionName"], Payload=json.dumps({"bytenum": 7 * 1024 * 1024}))
        assert result["StatusCode"] == 200 and result["FunctionError"] == "Unhandled"
        assert _payload(result) == {
            "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
            "errorType": "Function.ResponseSizeTooLarge"}
    messages = wait_for_logs(aws("logs"), f"/aws/lambda/{size_fn['FunctionName']}",
                             lambda m: any("generating bytes" in x for x in m))
    assert any("generating bytes" in m for m in messages)


@pytest.fixture(scope="module")
def echo_fn(create_function):
    return create_function(ECHO_FN)


def test_five_mb_request_echoed(lam, echo_fn):
    """LS_LAMBDA, test_large_payloads (validated 2025-11-24): a 5 MB event goes in and comes back."""
    payload = {"test": "test123456" * 100 * 1000 * 5}
    result = lam.invoke(FunctionName=echo_fn["FunctionName"], Payload=json.dumps(payload))
    assert "FunctionError" not in result and _payload(result) == payload


def test_request_over_six_mb(lam, echo_fn):
    """Limits page: invocation payload 6 MB synchronous; over it RequestTooLargeException (413)
    (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors)."""
    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName=echo_fn["FunctionName"], Payload=json.dumps({"x": "a" * (6 * 1024 * 1024 + 10)}))
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert caught.value.response["Error"]["Code"] == "RequestTooLargeException"


@pytest.mark.parametrize("invocation_type,status", [("Event", 202), ("DryRun", 204)])
def test_invocation_types(lam, echo_fn, invocation_type, status):
    """LS_LAMBDA, test_invocation_type_event (recorded 2025-11-24: 202, empty payload) and
    test_invocation_type_dry_run (recorded 2023-04-26: 204, empty payload)."""
    result = lam.invoke(FunctionName=echo_fn["FunctionName"], InvocationType=invocation_type, Payload=b"{}")
    assert result["StatusCode"] == status and result["Payload"].read() == b""
    assert "ExecutedVersion" not in result


def test_request_response_returning_nothing_is_null(lam, create_function):
    """LS_LAMBDA, test_invocation_type_no_return_payload[python-RequestResponse] (2025-11-24):
    a handler that returns None answers "null"."""
    fn = create_function(NONE_FN)
    result = lam.invoke(FunctionName=fn["FunctionName"], Payload=b"{}")
    assert result["StatusCode"] == 200 and result["ExecutedVersion"] == "$LATEST"
    assert result["Payload"].read() == b"null"


def test_log_tail(lam, create_function):
    """LS_LAMBDA, test_invocation_with_logs[python3.10] (recorded 2025-11-24): the tail holds
    START RequestId: <id> Version: $LATEST, what was printed, END and REPORT (Init Duration on
    a cold start)."""
    fn = create_function(NONE_FN)
    result = lam.invoke(FunctionName=fn["FunctionName"], Payload=b"{}", LogType="Tail")
    request_id = result["ResponseMetadata"]["RequestId"]
    lines = base64.b64decode(result["LogResult"]).decode().splitlines()
    start = lines.index(f"START RequestId: {request_id} Version: $LATEST")
    assert lines[start + 1] == "{}"
    assert lines[start + 2] == f"END RequestId: {request_id}"
    assert re.match(rf"REPORT RequestId: {request_id}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\t"
                    r"Memory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: [\d.]+ ms", lines[start + 3])


def test_payload_not_json(lam, echo_fn):
    """LS_LAMBDA, test_lambda_invoke_payload_encoding_error (recorded 2025-11-24): 400
    InvalidRequestContentException "Could not parse request body into json: Could not parse
    payload into json: ...", with Type User. (The rest of the message is the JSON parser's own
    wording, Java's on AWS; only the prefix is compared.)"""
    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName=echo_fn["FunctionName"], Payload=b'{"message": not json')
    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"]["Code"] == "InvalidRequestContentException"
    assert response["Error"]["Message"].startswith(
        "Could not parse request body into json: Could not parse payload into json: ")
    assert response["Type"] == "User"
