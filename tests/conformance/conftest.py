"""Fixtures of the conformance suite (see conformance_kit.py for what the suite is)."""
import json

import pytest

from conformance_kit import APIGW_TRUST, BASIC_EXECUTION, LAMBDA_TRUST, unique, zipped


@pytest.fixture(scope="module")
def create_function(aws):
    """create_function(source, handler="app.handler", timeout=3) -> the CreateFunction answer."""
    def create(source, handler="app.handler", timeout=3, filename="app.py"):
        name = unique("conffn")
        iam = aws("iam")
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"]["Arn"]
        iam.attach_role_policy(RoleName=name, PolicyArn=BASIC_EXECUTION)
        return aws("lambda").create_function(
            FunctionName=name, Runtime="python3.12", Role=role, Handler=handler, Timeout=timeout,
            Code={"ZipFile": zipped(source, filename)})
    return create


@pytest.fixture(scope="module")
def invoke_role(aws):
    """A role API Gateway may assume, allowed `action` on everything."""
    def create(action):
        name = unique("confrole")
        iam = aws("iam")
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(APIGW_TRUST))["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}))
        return arn
    return create
