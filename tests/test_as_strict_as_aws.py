"""What AWS refuses, the local AWS refuses too, and the helpers do it AWS's way (issue: "As strict
and as slow as AWS"). Each test names the AWS documentation or recorded answer it follows; each
would fail against the lenient behaviour it replaces."""
import json
import time
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import helpers as wb
from helpers._setup import principal_arn


def _deployable_api(apigw, name):
    api = apigw.create_rest_api(name=name)
    apigw.put_method(restApiId=api["id"], resourceId=api["rootResourceId"], httpMethod="GET",
                     authorizationType="NONE")
    apigw.put_integration(restApiId=api["id"], resourceId=api["rootResourceId"], httpMethod="GET",
                          type="MOCK", requestTemplates={"application/json": '{"statusCode": 200}'})
    return api["id"]


def _api_with_key_and_plan(apigw, name):
    api_id = _deployable_api(apigw, name)
    apigw.create_deployment(restApiId=api_id, stageName="v1")
    key = apigw.create_api_key(name=name, enabled=True)
    plan = apigw.create_usage_plan(name=name, apiStages=[{"apiId": api_id, "stage": "v1"}])
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    return api_id, key["id"], plan["id"]


def test_a_usage_plan_with_api_stages_cannot_be_deleted(aws, name):
    """AWS answers DeleteUsagePlan with 400 BadRequestException while API stages are associated
    ("Cannot delete Usage Plan ... because there are API Stages associated with it, including
    API:STAGE", recorded in aws/aws-sdk-js#3841); UpdateUsagePlan `remove /apiStages` with value
    `API:STAGE` detaches them (https://docs.aws.amazon.com/apigateway/latest/api/patch-operations.html#UpdateUsagePlan-Patch)."""
    apigw = aws("apigateway")
    api_id, key_id, plan_id = _api_with_key_and_plan(apigw, name)
    with pytest.raises(ClientError) as refused:
        apigw.delete_usage_plan(usagePlanId=plan_id)
    error = refused.value.response["Error"]
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Code"] == "BadRequestException"
    assert error["Message"] == (f"Cannot delete Usage Plan {plan_id} because there are API Stages "
                                f"associated with it, including {api_id}:v1")
    assert apigw.get_usage_plan(usagePlanId=plan_id)["apiStages"]  # nothing changed
    apigw.update_usage_plan(usagePlanId=plan_id, patchOperations=[
        {"op": "remove", "path": "/apiStages", "value": f"{api_id}:v1"}])
    apigw.delete_usage_plan(usagePlanId=plan_id)
    apigw.delete_api_key(apiKey=key_id)
    apigw.delete_rest_api(restApiId=api_id)


def test_the_helpers_delete_a_usage_plan_stages_first(aws, name):
    """delete_api_key and the clean-up detach the plan's stages before deleting it, so they work
    on AWS (they used to delete the plan directly, which AWS refuses)."""
    apigw = aws("apigateway")
    api_id, key_id, plan_id = _api_with_key_and_plan(apigw, name)
    wb.delete_api_key(key_id, plan_id, apigw=apigw)
    ids = [p["id"] for p in apigw.get_usage_plans()["items"]]
    assert plan_id not in ids
    assert key_id not in [k["id"] for k in apigw.get_api_keys()["items"]]
    assert wb.delete_usage_plan(plan_id, apigw=apigw) is False  # already gone
    apigw.delete_rest_api(restApiId=api_id)


def test_clean_up_removes_a_usage_plan_that_still_has_its_stage(local_aws):
    target = wb.connect("local", endpoint_url=local_aws.endpoint_url, start=False)
    prefix = wb.unique_prefix()
    apigw = target.client("apigateway")
    api = wb.create_rest_api(f"{prefix}-api", apigw=apigw, prefix=prefix)
    method = apigw.put_method(restApiId=api["api_id"], resourceId=api["root_id"], httpMethod="GET",
                              authorizationType="NONE")
    assert method["httpMethod"] == "GET"
    apigw.put_integration(restApiId=api["api_id"], resourceId=api["root_id"], httpMethod="GET",
                          type="MOCK", requestTemplates={"application/json": '{"statusCode": 200}'})
    wb.deploy_stage(api["api_id"], "v1", apigw=apigw, target=target)
    key = wb.create_api_key(f"{prefix}-key", apigw=apigw, api_id=api["api_id"], stage="v1", prefix=prefix)
    counts = wb.clean_up(target, prefix)
    assert counts["usage_plans"] == 1 and counts["api_keys"] == 1 and counts["rest_apis"] == 1
    assert key["usage_plan_id"] not in [p["id"] for p in apigw.get_usage_plans()["items"]]


def test_clean_up_without_a_prefix_reads_tags_only_of_the_workbooks_names(local_aws, aws, name):
    """The README's least-privilege policy allows iam:ListRoleTags and lambda:ListTags only on
    `s3wb-*` (IAM User Guide, "Controlling access to IAM resources by tag" / ARN-scoped
    resources): on AWS, reading the tags of any other role (a service-linked role, say) is
    AccessDenied. So a clean-up with no prefix must not ask for them."""
    iam = aws("iam")
    other = f"Other{name}"
    iam.create_role(RoleName=other, AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": []}))
    target = wb.connect("local", endpoint_url=local_aws.endpoint_url, start=False)
    asked = []
    client = target.client("iam")

    def record(params, **_):
        asked.append(params["RoleName"])
    client.meta.events.register("provide-client-params.iam.ListRoleTags", record)
    try:
        wb.find_resources(target)
    finally:
        client.meta.events.unregister("provide-client-params.iam.ListRoleTags", record)
        iam.delete_role(RoleName=other)
    assert other not in asked
    assert all(role.startswith("s3wb-") for role in asked)


def test_the_simulated_principal_keeps_the_role_path(aws):
    """An IAM Identity Center (SSO) session's ARN has no role path, but its role has one
    (/aws-reserved/sso.amazonaws.com/...), and SimulatePrincipalPolicy needs the role's real ARN
    (https://docs.aws.amazon.com/singlesignon/latest/userguide/referencingpermissionsets.html).
    The role is looked up with the real IAM API of the local AWS."""
    iam = aws("iam")
    name = f"AWSReservedSSO_Learner_{uuid.uuid4().hex[:16]}"
    created = iam.create_role(RoleName=name, Path="/aws-reserved/sso.amazonaws.com/eu-west-1/",
                              AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    try:
        session = f"arn:aws:sts::123456789012:assumed-role/{name}/alice@example.com"
        arn = principal_arn(session, iam=iam)
        assert arn == created["Role"]["Arn"]
        assert arn == f"arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/{name}"
        user = "arn:aws:iam::123456789012:user/learner"
        assert principal_arn(user, iam=iam) == user
    finally:
        iam.delete_role(RoleName=name)


def _no_retries(aws, service):
    client = aws(service)
    return boto3.client(service, endpoint_url=client.meta.endpoint_url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"total_max_attempts": 1}))


def test_create_deployment_is_limited_to_one_every_five_seconds(aws, name, monkeypatch):
    """"CreateDeployment: 1 request every 5 seconds per account", not adjustable
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html); over it, API
    Gateway answers 429 TooManyRequestsException with Retry-After
    (https://docs.aws.amazon.com/apigateway/latest/api/CommonErrors.html). At time scale 1 the
    local AWS keeps AWS's own 5 s window."""
    monkeypatch.setenv("LOCALAWS_TIME_SCALE", "1")
    apigw = _no_retries(aws, "apigateway")
    api_id = _deployable_api(aws("apigateway"), name)
    wb.within_quota(apigw.create_deployment, restApiId=api_id, stageName="v1")
    with pytest.raises(ClientError) as throttled:
        apigw.create_deployment(restApiId=api_id, stageName="v1")
    response = throttled.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert response["Error"]["Code"] == "TooManyRequestsException"
    assert response["Error"]["Message"] == "Too Many Requests"
    assert 1 <= int(response["ResponseMetadata"]["HTTPHeaders"]["retry-after"]) <= 5
    assert len(apigw.get_deployments(restApiId=api_id)["items"]) == 1  # the refused one made nothing
    monkeypatch.setenv("LOCALAWS_TIME_SCALE", "0")  # instant again: no quota
    apigw.create_deployment(restApiId=api_id, stageName="v1")
    apigw.create_deployment(restApiId=api_id, stageName="v1")
    aws("apigateway").delete_rest_api(restApiId=api_id)


def test_the_helpers_wait_out_the_quota(local_aws, monkeypatch):
    """Two deployments in a row, as notebook 01 makes them, succeed on AWS only if the second
    waits for the quota: deploy_stage waits as long as Retry-After says."""
    monkeypatch.setenv("LOCALAWS_TIME_SCALE", "0.3")  # a 1.5 s window
    target = wb.connect("local", endpoint_url=local_aws.endpoint_url, start=False)
    apigw = target.client("apigateway")
    prefix = wb.unique_prefix()
    api = wb.create_rest_api(f"{prefix}-api", apigw=apigw, prefix=prefix)
    apigw.put_method(restApiId=api["api_id"], resourceId=api["root_id"], httpMethod="GET",
                     authorizationType="NONE")
    apigw.put_integration(restApiId=api["api_id"], resourceId=api["root_id"], httpMethod="GET",
                          type="MOCK", requestTemplates={"application/json": '{"statusCode": 200}'})
    first = wb.deploy_stage(api["api_id"], "v1", apigw=apigw, target=target)
    second = wb.deploy_stage(api["api_id"], "v1", apigw=apigw, target=target)
    assert first["deployment_id"] != second["deployment_id"]
    wb.clean_up(target, prefix)


def test_edge_logs_are_read_and_deleted_in_the_region_that_wrote_them(local_aws):
    """Lambda@Edge writes its logs to /aws/lambda/us-east-1.NAME in the Region of the edge
    location that ran it, not in us-east-1 where the function lives
    (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-logs.html).
    Reading only us-east-1 misses them, and a clean-up that looks only there leaves them."""
    target = wb.connect("local", endpoint_url=local_aws.endpoint_url, start=False)
    prefix = wb.unique_prefix()
    role = wb.create_service_role(f"{prefix}-edge", service=("lambda.amazonaws.com", "edgelambda.amazonaws.com"),
                                  policy=None, iam=target.client("iam"), prefix=prefix)
    fn = wb.create_function(f"{prefix}-edge", module="edge_auth", role_arn=role["role_arn"],
                            lam=target.client("lambda", region="us-east-1"), prefix=prefix,
                            substitutions={"__SHARED_SECRET__": "x" * 24})
    logs = target.client("logs", region="eu-west-2")
    group = f"/aws/lambda/us-east-1.{fn['function_name']}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="2026/11/30/[1]abc")
    logs.put_log_events(logGroupName=group, logStreamName="2026/11/30/[1]abc",
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": "refused: no secret"}])
    assert wb.tail_function_logs(fn["function_name"], target=target, edge=True, contains="refused") == [
        "refused: no secret"]
    assert f"eu-west-2:{group}" in wb.find_resources(target, prefix)["log_groups"]
    wb.clean_up(target, prefix)
    assert not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]


def _zip(entries):
    """A package from [(ZipInfo or name, source)], written exactly as given."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for entry, source in entries:
            archive.writestr(entry, source)
    return buffer.getvalue()


def _with_mode(name, mode):
    import zipfile

    info = zipfile.ZipInfo(name)
    info.external_attr = mode << 16
    return info


def _from_windows(name):
    """An entry as Windows tools write it: MS-DOS attributes only (archive bit), no Unix mode."""
    import zipfile

    info = zipfile.ZipInfo(name)
    info.create_system, info.external_attr = 0, 0x20
    return info


HELLO = "def handler(event, context):\n    return 'hello'\n"


def _invoke(aws, fn):
    result = aws("lambda").invoke(FunctionName=fn["FunctionName"], Payload=b"{}")
    return result.get("FunctionError"), json.loads(result["Payload"].read())


def test_a_package_file_others_cannot_read_fails_at_import(aws, make_function):
    """Lambda needs global read permissions on the package's files (0644; folders 0755): it runs
    the code as a user that does not own them, and a file without the o+r bit gives
    Runtime.ImportModuleError "Unable to import module 'app': [Errno 13] Permission denied:
    '/var/task/app.py'" (https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-deployment.html#troubleshooting-deployment-denied,
    https://repost.aws/knowledge-center/lambda-deployment-package-errors).
    ZipFile.writestr("app.py", ...) stores mode 0600."""
    fn = make_function(_zip([("app.py", HELLO)]))
    error, payload = _invoke(aws, fn)
    assert error == "Unhandled"
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert payload["errorMessage"] == ("Unable to import module 'app': [Errno 13] Permission "
                                       "denied: '/var/task/app.py'")
    # a readable handler that imports an unreadable module of the package fails the same way
    fn = make_function(_zip([(_with_mode("app.py", 0o644), "import lib\n" + HELLO),
                             (_with_mode("lib.py", 0o640), "X = 1\n")]))
    error, payload = _invoke(aws, fn)
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert payload["errorMessage"] == ("Unable to import module 'app': [Errno 13] Permission "
                                       "denied: '/var/task/lib.py'")


def test_packages_readable_by_others_or_without_unix_modes_import(aws, make_function):
    """The helpers' packages (0644) import, and so do zips that carry no Unix mode at all (as
    Windows tools write them: Lambda extracts them readable)."""
    for package in (wb.package_source({"app.py": HELLO}), _zip([(_from_windows("app.py"), HELLO)]),
                    _zip([(_with_mode("app.py", 0o444), HELLO)])):
        answer = _invoke(aws, make_function(package))
        assert answer == (None, "hello"), answer
    fn = make_function(wb.package_function("presign_upload"), handler="presign_upload.handler")
    error, payload = _invoke(aws, fn)  # imported: it then fails for want of its settings
    assert payload["errorType"] != "Runtime.ImportModuleError", payload


LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def test_a_new_role_cannot_be_assumed_by_lambda_at_once(aws, name, monkeypatch):
    """IAM is eventually consistent: a role just created is not yet usable by other services
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency),
    and CreateFunction answers 400 InvalidParameterValueException "The role defined for the
    function cannot be assumed by Lambda." (https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html#API_CreateFunction_Errors).
    The local AWS keeps a role unassumable for 10 AWS seconds (1 s at the default scale 0.1)."""
    monkeypatch.setenv("LOCALAWS_TIME_SCALE", "0.1")
    iam, lam = aws("iam"), aws("lambda")
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"]["Arn"]
    params = dict(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                  Code={"ZipFile": wb.package_source({"app.py": HELLO})})
    with pytest.raises(ClientError) as refused:
        lam.create_function(**params)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert refused.value.response["Error"]["Message"] == (
        "The role defined for the function cannot be assumed by Lambda.")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=name)  # nothing was created
    time.sleep(1.2)
    created = lam.create_function(**params)
    assert (created["FunctionName"], created["State"]) == (name, "Pending")  # see the next tests
    lam.delete_function(FunctionName=name)


def test_the_helpers_create_a_function_right_after_its_role(local_aws):
    """create_function retries while the new role propagates (short waits that grow) and
    returns once the function is Active, ready to invoke: one call, the same on AWS."""
    target = wb.connect("local", endpoint_url=local_aws.endpoint_url, start=False)
    prefix = wb.unique_prefix()
    lam = target.client("lambda")
    role = wb.create_service_role(f"{prefix}-fn", service="lambda.amazonaws.com", policy=None,
                                  iam=target.client("iam"), prefix=prefix)
    answers = []

    def record(http_response, parsed, **_):
        answers.append(parsed.get("Error", {}).get("Code", http_response.status_code))
    lam.meta.events.register("after-call.lambda.CreateFunction", record)
    try:
        fn = wb.create_function(f"{prefix}-fn", module="presign_upload", role_arn=role["role_arn"],
                                lam=lam, prefix=prefix, environment={"UPLOAD_BUCKET": f"{prefix}-b"})
    finally:
        lam.meta.events.unregister("after-call.lambda.CreateFunction", record)
    assert answers[0] == "InvalidParameterValueException" and answers[-1] == 201
    assert lam.get_function(FunctionName=fn["function_name"])["Configuration"]["State"] == "Active"
    wb.clean_up(target, prefix)


def test_a_new_function_is_pending_and_an_update_in_progress_for_a_while(aws, name, monkeypatch):
    """After CreateFunction a function is `State: Pending` ("Lambda does not invoke a function
    during pending state. Any invocations or other API actions that operate on the function will
    fail"), then Active; after an update `LastUpdateStatus` is InProgress, then Successful, and
    another update or PublishVersion meanwhile fails
    (https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html,
    https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html#troubleshooting-invocation-ResourceConflictException).
    Both answer 409 ResourceConflictException with the messages recorded from AWS. botocore's
    waiters function_active_v2 and function_updated_v2 wait them out."""
    lam = aws("lambda")
    monkeypatch.setenv("LOCALAWS_TIME_SCALE", "0")  # the role usable at once ...
    role = aws("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    created = lam.create_function(FunctionName=name, Runtime="python3.12", Role=role["Role"]["Arn"],
                                  Handler="app.handler", Code={"ZipFile": wb.package_source({"app.py": HELLO})})
    monkeypatch.setenv("LOCALAWS_TIME_SCALE", "1")  # ... and the function's states at AWS's pace
    arn = created["FunctionArn"]
    config = lam.get_function(FunctionName=name)["Configuration"]
    assert (config["State"], config["StateReasonCode"]) == ("Pending", "Creating")
    assert config["StateReason"] == "The function is being created."
    pending = ("The operation cannot be performed at this time. The function is currently in "
               "the following state: Pending")
    for call in (lambda: lam.invoke(FunctionName=name, Payload=b"{}"),
                 lambda: lam.update_function_configuration(FunctionName=name, Timeout=5),
                 lambda: lam.publish_version(FunctionName=name)):
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
        assert refused.value.response["Error"]["Code"] == "ResourceConflictException"
        assert refused.value.response["Error"]["Message"] == pending
    fast = {"Delay": 0.2, "MaxAttempts": 100}
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=fast)
    assert lam.get_function(FunctionName=name)["Configuration"]["State"] == "Active"
    assert json.loads(lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read()) == "hello"

    updated = lam.update_function_configuration(FunctionName=name, Timeout=5)
    assert updated["LastUpdateStatus"] == "InProgress" and updated["State"] == "Active"
    assert updated["LastUpdateStatusReasonCode"] == "Creating"
    in_progress = ("The operation cannot be performed at this time. An update is in progress for "
                   f"resource: {arn}")
    for call in (lambda: lam.update_function_code(FunctionName=name, ZipFile=wb.package_source({"app.py": HELLO})),
                 lambda: lam.publish_version(FunctionName=name)):
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
        assert refused.value.response["Error"]["Code"] == "ResourceConflictException"
        assert refused.value.response["Error"]["Message"] == in_progress
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=fast)
    assert lam.get_function(FunctionName=name)["Configuration"]["LastUpdateStatus"] == "Successful"
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    lam.delete_function(FunctionName=name)


def test_a_new_api_key_works_only_after_some_seconds(aws, proxy_api, monkeypatch):
    """A new API key's link to a usage plan "takes effect within approximately 10 seconds"
    (AWS's answer on re:Post, https://repost.aws/questions/QUIiY_hoP0T4SYnFd3NMGDRw); until then
    the stage answers as for an unknown key: 403 {"message":"Forbidden"}
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html,
    INVALID_API_KEY). 1 s at the default time scale 0.1."""
    import requests

    monkeypatch.setenv("LOCALAWS_TIME_SCALE", "0.1")
    api = proxy_api(api_key_required=True)
    apigw = aws("apigateway")
    key = apigw.create_api_key(name=api.name, enabled=True)
    plan = apigw.create_usage_plan(name=api.name, apiStages=[{"apiId": api.api_id, "stage": "v1"}])
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    early = requests.put(api.url("early.txt"), data=b"x", headers={"x-api-key": key["value"]}, timeout=30)
    assert early.status_code == 403
    assert early.json() == {"message": "Forbidden"}
    assert early.headers["x-amzn-ErrorType"] == "ForbiddenException"
    time.sleep(1.2)
    later = requests.put(api.url("later.txt"), data=b"x", headers={"x-api-key": key["value"]}, timeout=30)
    assert later.status_code == 200
    assert api.keys() == ["later.txt"]


def test_the_build_path_waits_until_the_key_works(local_aws):
    """build_s3_proxy_api returns once the stage takes an upload with the new key (it probes
    with an empty object and deletes it), so the learner's first upload does not meet the
    403 of a key that has not propagated yet."""
    target = wb.connect("local", endpoint_url=local_aws.endpoint_url, start=False)
    prefix = wb.unique_prefix()
    api = wb.build_s3_proxy_api(target, prefix)
    try:
        result = wb.upload_file(api.upload_url("first.txt"), _sample(prefix),
                                headers={"x-api-key": api.api_key}, progress=False)
        assert result.status == 200
        assert wb.list_keys(api.bucket, s3=target.client("s3")) == ["first.txt"]  # no probe left
    finally:
        wb.clean_up(target, prefix)


def _sample(prefix):
    import os
    import tempfile

    path = os.path.join(tempfile.mkdtemp(), f"{prefix}.txt")
    with open(path, "wb") as handle:
        handle.write(b"first upload")
    return path


def _as_user(aws, name, policy):
    """An IAM user with an access key and ``policy`` inline; its own S3 client."""
    iam = aws("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.client("s3", endpoint_url=aws("s3").meta.endpoint_url, region_name="us-east-1",
                        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                        config=Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"}))


def _put_allowed(s3, bucket, key):
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        return True
    except ClientError as err:
        assert err.response["Error"]["Code"] == "AccessDenied", err.response
        return False


def _seconds_until(predicate, patience=20.0):
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < patience, "never changed"
        time.sleep(0.05)
    return time.monotonic() - started


def test_a_policy_change_takes_effect_only_after_some_seconds(aws, name, monkeypatch):
    """IAM is eventually consistent: "changes that you make ... take time to become visible ...
    an IAM policy change ... may not be immediately reflected"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
    Code that removes a permission and at once expects a refusal (notebook 02's lesson) gets the
    opposite on AWS. The local AWS keeps evaluating the old policies for 10 AWS seconds (1 s at
    the default scale 0.1; 0.5 s here at 0.05), for every kind of change: an inline user policy
    removed and put back, a managed policy detached from a role whose session signs."""
    monkeypatch.setenv("LOCALAWS_TIME_SCALE", "0.05")
    bucket = f"{name}-b"
    aws("s3").create_bucket(Bucket=bucket)
    put = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject",
                                                   "Resource": f"arn:aws:s3:::{bucket}/*"}]}
    s3 = _as_user(aws, name, put)
    assert _put_allowed(s3, bucket, "first")  # policies set before first use count at once
    iam = aws("iam")
    iam.delete_user_policy(UserName=name, PolicyName="p")
    assert _put_allowed(s3, bucket, "still")  # the old policy still applies ...
    waited = _seconds_until(lambda: not _put_allowed(s3, bucket, "probe"))
    assert 0.2 < waited < 5  # ... for about 0.5 s
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(put))
    assert not _put_allowed(s3, bucket, "early")  # and a new grant is not there at once either
    assert 0.2 < _seconds_until(lambda: _put_allowed(s3, bucket, "later")) < 5

    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]}))
    iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")
    creds = aws("sts").assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="learner")["Credentials"]
    session = boto3.client("s3", endpoint_url=aws("s3").meta.endpoint_url, region_name="us-east-1",
                           aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                           aws_session_token=creds["SessionToken"],
                           config=Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"}))
    assert _put_allowed(session, bucket, "role")
    iam.detach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")
    assert _put_allowed(session, bucket, "role-still")
    assert 0.2 < _seconds_until(lambda: not _put_allowed(session, bucket, "role-probe")) < 5

    monkeypatch.setenv("LOCALAWS_TIME_SCALE", "0")  # instant: the old behaviour
    iam.delete_user_policy(UserName=name, PolicyName="p")
    assert not _put_allowed(s3, bucket, "instant")


def _distribution(name, associations=None, enabled=True):
    behaviour = {"TargetOriginId": "s3", "ViewerProtocolPolicy": "https-only",
                 "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"}
    if associations:
        behaviour["LambdaFunctionAssociations"] = {"Quantity": len(associations), "Items": associations}
    return {"CallerReference": name, "Comment": "test", "Enabled": enabled,
            "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": f"{name}.s3.us-east-1.amazonaws.com",
                                                  "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
            "DefaultCacheBehavior": behaviour}


def _refusal(call):
    with pytest.raises(ClientError) as refused:
        call()
    response = refused.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


def _wait_deployed(cf, dist_id):
    cf.get_waiter("distribution_deployed").wait(Id=dist_id, WaiterConfig={"Delay": 0.1, "MaxAttempts": 300})


NOT_DISABLED = (409, "DistributionNotDisabled", "The distribution you are trying to delete has not been disabled.")


def test_a_distribution_is_in_progress_until_deployed(aws, name, monkeypatch):
    """Each change to a distribution (create, update, disable) is `Status: InProgress` until it
    has reached every edge location, then `Deployed`
    (https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_Distribution.html), within
    5 minutes on AWS (20 s here at scale 1, 2 s at the default 0.1); botocore's
    distribution_deployed waiter waits for it. A distribution can be deleted only once disabled
    *and* deployed: while the change that disabled it is InProgress, DeleteDistribution answers
    409 DistributionNotDisabled as for an enabled one
    (https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DeleteDistribution.html,
    and the answer recorded in go-to-k/cdkd#1316)."""
    monkeypatch.setenv("LOCALAWS_TIME_SCALE", "0.1")
    cf = aws("cloudfront")
    started = time.monotonic()
    created = cf.create_distribution(DistributionConfig=_distribution(name))
    dist_id = created["Distribution"]["Id"]
    assert created["Distribution"]["Status"] == "InProgress"
    assert cf.get_distribution(Id=dist_id)["Distribution"]["Status"] == "InProgress"
    listed = {d["Id"]: d["Status"] for d in cf.list_distributions()["DistributionList"]["Items"]}
    assert listed[dist_id] == "InProgress"
    _wait_deployed(cf, dist_id)
    assert time.monotonic() - started > 1.5
    current = cf.get_distribution_config(Id=dist_id)
    config = {**current["DistributionConfig"], "Enabled": False}
    disabled = cf.update_distribution(Id=dist_id, IfMatch=current["ETag"], DistributionConfig=config)
    assert disabled["Distribution"]["Status"] == "InProgress"
    assert _refusal(lambda: cf.delete_distribution(Id=dist_id, IfMatch=disabled["ETag"])) == NOT_DISABLED
    _wait_deployed(cf, dist_id)
    assert cf.get_distribution(Id=dist_id)["Distribution"]["Status"] == "Deployed"
    cf.delete_distribution(Id=dist_id, IfMatch=disabled["ETag"])


def test_the_helpers_wait_for_deployed_before_deleting(local_aws, aws, name, monkeypatch):
    """disable_and_delete_distribution waits for Deployed after disabling, and also when it finds
    the distribution disabled but still InProgress (an interrupted clean-up), which is where a
    delete at once fails on AWS."""
    monkeypatch.setenv("LOCALAWS_TIME_SCALE", "0.1")
    cf = aws("cloudfront")
    created = cf.create_distribution(DistributionConfig=_distribution(name, enabled=False))
    dist_id = created["Distribution"]["Id"]
    wb.disable_and_delete_distribution(dist_id, cf=cf)  # disabled already, but InProgress
    with pytest.raises(cf.exceptions.NoSuchDistribution):
        cf.get_distribution(Id=dist_id)


def _edge_function(aws, name):
    edge_trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                  "Principal": {"Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]}}]}
    role = aws("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(edge_trust))["Role"]["Arn"]
    from conftest import create_function_when_ready, wait_updated

    lam = aws("lambda")
    create_function_when_ready(lam, FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                               Code={"ZipFile": wb.package_source({"app.py": "def handler(e, c):\n    return e\n"})})
    first = lam.publish_version(FunctionName=name)["FunctionArn"]
    lam.update_function_configuration(FunctionName=name, Description="second")
    wait_updated(lam, name)
    second = lam.publish_version(FunctionName=name)["FunctionArn"]
    return first, second


def _replicated(arn):
    return (400, "InvalidParameterValueException",
            f"Lambda was unable to delete {arn} because it is a replicated function. Please see our "
            "documentation for Deleting Lambda@Edge Functions and Replicas.")


def test_an_edge_function_is_replicated_until_after_its_last_association(aws, name, monkeypatch):
    """"You can delete a Lambda@Edge function only when the replicas of the function have been
    deleted by CloudFront", after its last association is removed or its last distribution
    deleted, "typically within a few hours"
    (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-edge-delete-replicas.html);
    until then DeleteFunction answers 400 InvalidParameterValueException naming the version
    (message as recorded in aws-samples/cloudfront-authorization-at-edge#246). A version never
    associated can go at once. 30 s here at scale 1 (3 s at the default 0.1)."""
    monkeypatch.setenv("LOCALAWS_TIME_SCALE", "0.1")
    lam, cf = aws("lambda"), aws("cloudfront")
    first, second = _edge_function(aws, name)
    created = cf.create_distribution(DistributionConfig=_distribution(name, [
        {"LambdaFunctionARN": first, "EventType": "viewer-request", "IncludeBody": False}]))
    dist_id = created["Distribution"]["Id"]
    assert _refusal(lambda: lam.delete_function(FunctionName=name)) == _replicated(first)
    assert _refusal(lambda: lam.delete_function(FunctionName=name, Qualifier="1")) == _replicated(first)
    lam.delete_function(FunctionName=name, Qualifier="2")  # never associated
    _wait_deployed(cf, dist_id)
    current = cf.get_distribution_config(Id=dist_id)
    disabled = cf.update_distribution(Id=dist_id, IfMatch=current["ETag"],
                                      DistributionConfig={**current["DistributionConfig"], "Enabled": False})
    _wait_deployed(cf, dist_id)
    assert _refusal(lambda: lam.delete_function(FunctionName=name)) == _replicated(first)  # still in use
    cf.delete_distribution(Id=dist_id, IfMatch=disabled["ETag"])
    gone = time.monotonic()
    assert _refusal(lambda: lam.delete_function(FunctionName=name)) == _replicated(first)
    while True:
        try:
            lam.delete_function(FunctionName=name)
            break
        except ClientError as err:
            assert "replicated function" in err.response["Error"]["Message"]
            assert time.monotonic() - gone < 20
            time.sleep(0.1)
    assert time.monotonic() - gone > 2.0


def test_the_clean_up_waits_for_edge_replicas_and_says_what_to_do(local_aws, monkeypatch):
    """The clean-up deletes everything else, then tries the edge functions again with growing
    waits, reporting each wait; when its patience runs out it names the function and says to
    run it again later (on AWS: hours)."""
    monkeypatch.setenv("LOCALAWS_TIME_SCALE", "0.1")
    target = wb.connect("local", endpoint_url=local_aws.endpoint_url, start=False)
    prefix = wb.unique_prefix()
    edge = wb.create_edge_function(f"{prefix}-edge", module="edge_auth", target=target, prefix=prefix,
                                   substitutions={"__SHARED_SECRET__": "x" * 24})
    config = wb.distribution_config(prefix, bucket=f"{prefix}-uploads", region=target.region,
                                    edge_version_arn=edge["version_arn"])
    wb.create_upload_distribution(config, target=target, prefix=prefix)
    waits = []
    with pytest.raises(wb.CleanUpIncomplete) as incomplete:
        wb.clean_up(target, prefix, replica_patience=0, progress=waits.append)
    assert incomplete.value.counts["distributions"] == 1 and incomplete.value.counts["roles"] == 1
    [(kind, arn, message)] = incomplete.value.errors
    assert kind == "functions" and arn.endswith(f":function:{prefix}-edge")
    assert "still replicated" in message and "run the clean-up again later" in message
    assert waits == []
    counts = wb.clean_up(target, prefix, progress=waits.append)
    assert counts["functions"] == 1
    assert waits and all(w.startswith(f"waiting for CloudFront to remove the replicas of {prefix}-edge: ")
                         for w in waits)
    assert not any(wb.find_resources(target, prefix).values())


def test_lambda_logs_arrive_some_seconds_after_the_invocation(aws, local_aws, make_function, monkeypatch):
    """CloudWatch Logs shows a function's lines some seconds after it wrote them (edge functions'
    later still: "delivered on a best-effort basis", possibly "long after the request",
    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-logs.html):
    code that reads the logs right after an invocation finds nothing. 5 s here at scale 1
    (0.5 s at the default 0.1); tail_function_logs polls until the lines are there."""
    monkeypatch.setenv("LOCALAWS_TIME_SCALE", "0.1")
    fn = make_function("def handler(e, c):\n    print('hello from the handler')\n")
    logs = aws("logs")
    group = f"/aws/lambda/{fn['FunctionName']}"

    def messages():
        streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
        return [e["message"] for s in streams
                for e in logs.get_log_events(logGroupName=group, logStreamName=s["logStreamName"])["events"]]
    aws("lambda").invoke(FunctionName=fn["FunctionName"], Payload=b"{}")
    invoked = time.monotonic()
    assert not any("hello from the handler" in m for m in messages())  # not yet
    target = wb.connect("local", endpoint_url=local_aws.endpoint_url, start=False)
    lines = wb.tail_function_logs(fn["FunctionName"], target=target, contains="hello from the handler")
    assert lines == ["hello from the handler"]
    assert time.monotonic() - invoked > 0.3


def _allow_put(bucket, principal):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": principal, "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]})


MALFORMED = (400, "MalformedPolicy", "Invalid principal in policy")


def test_a_bucket_policy_naming_a_new_or_unknown_principal_is_malformed(aws, name, monkeypatch):
    """S3 checks a bucket policy's principals when it is put: one that does not exist gives 400
    MalformedPolicy "Invalid principal in policy"
    (https://repost.aws/knowledge-center/s3-invalid-principal-in-policy-error), and so does one
    created seconds ago, until IAM has propagated it (IAM User Guide, eventual consistency:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency),
    a new role or a new CloudFront origin access identity alike. 10 s here at scale 1 (1 s at
    the default 0.1, 2 s at this test's 0.2). helpers.put_bucket_policy retries that answer."""
    monkeypatch.setenv("LOCALAWS_TIME_SCALE", "0.2")
    s3, iam, cf = aws("s3"), aws("iam"), aws("cloudfront")
    bucket = f"{name}-b"
    s3.create_bucket(Bucket=bucket)
    put = lambda principal: s3.put_bucket_policy(Bucket=bucket, Policy=_allow_put(bucket, principal))  # noqa: E731
    assert _refusal(lambda: put({"AWS": f"arn:aws:iam::123456789012:role/{name}"})) == MALFORMED  # no such role
    assert _refusal(lambda: put({"AWS": "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E0NOSUCHID0000"})) == MALFORMED
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"]["Arn"]
    identity = cf.create_cloud_front_origin_access_identity(CloudFrontOriginAccessIdentityConfig={
        "CallerReference": name, "Comment": ""})["CloudFrontOriginAccessIdentity"]
    oai_arn = f"arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity {identity['Id']}"
    for principal in ({"AWS": role}, {"AWS": oai_arn}, {"CanonicalUser": identity["S3CanonicalUserId"]},
                      {"AWS": ["arn:aws:iam::123456789012:root", role]}):
        assert _refusal(lambda: put(principal)) == MALFORMED, principal
    with pytest.raises(ClientError):
        s3.get_bucket_policy(Bucket=bucket)  # nothing was stored
    put({"AWS": "arn:aws:iam::123456789012:root"})  # the account, services and * need no wait
    put({"Service": "cloudfront.amazonaws.com"})
    time.sleep(2.1)
    for principal in ({"AWS": role}, {"AWS": oai_arn}, {"CanonicalUser": identity["S3CanonicalUserId"]}):
        put(principal)
    other = f"{name}-o"
    iam.create_role(RoleName=other, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    started = time.monotonic()
    wb.put_bucket_policy(bucket, json.loads(_allow_put(bucket, {"AWS": f"arn:aws:iam::123456789012:role/{other}"})), s3=s3)
    assert time.monotonic() - started > 0.5  # it waited for the new role
