"""The local AWS as a program: `python -m localaws`, reuse, loopback only, reset."""
import json
import os
import socket
import subprocess
import sys
import time

import boto3
import pytest
import requests

import localaws as local
from localaws import LocalAWSError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(*args, timeout=60):
    return subprocess.Popen([sys.executable, "-m", "localaws", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_cli_starts_prints_its_endpoint_and_a_second_start_reuses_it():
    port = free_port()
    first = run_cli("--port", str(port))
    try:
        line = first.stdout.readline()
        assert f"http://127.0.0.1:{port}" in line
        assert local.probe(f"http://127.0.0.1:{port}")["service"] == local.SERVICE_NAME
        second = run_cli("--port", str(port))
        out, _ = second.communicate(timeout=60)
        assert second.returncode == 0
        assert "already running" in out
        assert first.poll() is None
    finally:
        first.terminate()
        first.wait(timeout=10)


def test_cli_refuses_a_non_loopback_address():
    proc = run_cli("--host", "0.0.0.0", "--port", str(free_port()))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "loopback" in err


def test_cli_reports_a_port_taken_by_another_program():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        proc = run_cli("--port", str(busy.getsockname()[1]))
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "--port" in err


def test_start_from_python_refuses_non_loopback():
    with pytest.raises(LocalAWSError):
        local.start(host="0.0.0.0", port=0)


def test_ensure_running_starts_a_background_process_then_reuses_it():
    endpoint = f"http://127.0.0.1:{free_port()}"
    started = local.ensure_running(endpoint)
    try:
        assert started["started"] is True
        again = local.ensure_running(endpoint)
        assert again["started"] is False
    finally:
        os.kill(started["pid"], 15)


def test_a_raw_boto3_client_works_against_the_server(endpoint):
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")
    s3.create_bucket(Bucket="raw-boto3-bucket")
    s3.put_object(Bucket="raw-boto3-bucket", Key="k", Body=b"v")
    assert s3.get_object(Bucket="raw-boto3-bucket", Key="k")["Body"].read() == b"v"


def test_moto_reset_also_clears_deployment_snapshots():
    server = local.start(port=0)
    try:
        kw = dict(endpoint_url=server.endpoint_url, region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
        apigw = boto3.client("apigateway", **kw)
        api = apigw.create_rest_api(name="r")
        apigw.put_method(restApiId=api["id"], resourceId=api["rootResourceId"], httpMethod="GET",
                         authorizationType="NONE")
        apigw.put_integration(restApiId=api["id"], resourceId=api["rootResourceId"], httpMethod="GET",
                              type="MOCK")
        apigw.create_deployment(restApiId=api["id"], stageName="v1")
        from localaws.store import stores
        assert stores.apigateway._deployments
        assert requests.post(server.endpoint_url + "/moto-api/reset").status_code == 200
        assert not stores.apigateway._deployments
        assert apigw.get_rest_apis()["items"] == []
    finally:
        server.stop()


def test_aws_managed_policies_come_back_after_a_reset_with_their_own_attachments():
    """AWS managed policies exist in every account, and a policy's AttachmentCount counts that
    account's attachments (IAM User Guide, "AWS managed policies",
    https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html#aws-managed-policies).
    The local AWS parses AWS's list of them once per process; each account (and each reset) still
    gets policy objects of its own, so an attachment made before a reset is not counted after it."""
    arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    server = local.start(port=0)
    try:
        iam = boto3.client("iam", endpoint_url=server.endpoint_url, region_name="us-east-1",
                           aws_access_key_id="test", aws_secret_access_key="test")
        # (this process's other tests may have attached it too: moto's state is per process)
        attached = iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"]
        iam.create_role(RoleName="s3wb-managed-policy-role", AssumeRolePolicyDocument=trust)
        iam.attach_role_policy(RoleName="s3wb-managed-policy-role", PolicyArn=arn)
        assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == attached + 1
        assert requests.post(server.endpoint_url + "/moto-api/reset").status_code == 200
        policy = iam.get_policy(PolicyArn=arn)["Policy"]
        assert policy["AttachmentCount"] == 0
        document = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
        statements = document["PolicyVersion"]["Document"]["Statement"]
        assert "logs:PutLogEvents" in json.dumps(statements)
    finally:
        server.stop()


def test_internal_faults_answer_in_aws_shape_without_a_stack_trace(endpoint, monkeypatch):
    from localaws.apigateway import dataplane

    def broken(*args, **kwargs):
        raise RuntimeError("boom")
    monkeypatch.setattr(dataplane.ApiGatewayDataPlane, "_handle", broken)
    response = requests.put(endpoint + "/_aws/execute-api/abc/v1/x", data=b"1")
    assert response.status_code == 500
    assert response.json() == {"message": "Internal server error"}
    assert "Traceback" not in response.text and "boom" not in response.text
