import json
import uuid

import boto3
import pytest
from botocore.config import Config

ACCOUNT = "123456789012"
REGION = "us-east-1"


@pytest.fixture(scope="session")
def endpoint(local_aws):
    return local_aws.endpoint_url


@pytest.fixture(scope="session")
def aws(endpoint):
    """Plain boto3 clients against the local AWS (tests of the local AWS avoid helpers)."""
    def client(service, region=REGION):
        return boto3.client(
            service, endpoint_url=endpoint, region_name=region,
            aws_access_key_id="test", aws_secret_access_key="test",
            # Patient retries, as code against AWS needs them: API Gateway answers control-plane
            # calls over its per-account quotas (one DeleteRestApi every 30 s, ...) with 429.
            config=Config(retries={"mode": "standard", "max_attempts": 10},
                          request_checksum_calculation="when_required",
                          response_checksum_validation="when_required",
                          s3={"addressing_style": "path"}),
        )
    return client


class SignedAsRoot:
    """Signs a ``requests`` call in its Authorization header as boto3 signs S3 calls (botocore's
    S3SigV4Auth, the root's test/test): the local AWS verifies header signatures as S3 does. The
    payload hash is the body's SHA-256 unless the call sets ``x-amz-content-sha256`` itself."""

    def __init__(self, access_key="test", secret="test", service="s3"):
        self.access_key, self.secret, self.service = access_key, secret, service

    def __call__(self, r):
        import hashlib

        from botocore.auth import S3SigV4Auth, SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        body = r.body.encode() if isinstance(r.body, str) else (r.body or b"")
        headers = dict(r.headers)
        if self.service == "s3":  # S3 wants the payload hash as a header
            headers.setdefault("x-amz-content-sha256", hashlib.sha256(body).hexdigest())
        signed = AWSRequest(method=r.method, url=r.url, data=body, headers=headers)
        signer = S3SigV4Auth if self.service == "s3" else SigV4Auth
        signer(Credentials(self.access_key, self.secret), self.service, "us-east-1").add_auth(signed)
        r.headers.update(dict(signed.headers.items()))
        return r


@pytest.fixture
def name():
    return "t" + uuid.uuid4().hex[:10]


APIGW_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}


def put_policy(bucket, action="s3:PutObject"):
    return {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": f"arn:aws:s3:::{bucket}/*"}]}


class ProxyApi:
    """Option 1 built with raw boto3 calls, step by step, so tests can vary each step."""

    def __init__(self, aws, endpoint, name, *, binary=("*/*",), trust=APIGW_TRUST, policy=None,
                 responses=(("200", None),), method_responses=None, api_key_required=False,
                 deploy=True, mapping=None, declared=None):
        self.aws, self.name = aws, name
        self.s3, self.iam, self.apigw = aws("s3"), aws("iam"), aws("apigateway")
        self.bucket = f"{name}-bucket"
        self.s3.create_bucket(Bucket=self.bucket)
        self.role_arn = self.iam.create_role(RoleName=f"{name}-role",
                                             AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        self.iam.put_role_policy(RoleName=f"{name}-role", PolicyName="p",
                                 PolicyDocument=json.dumps(policy or put_policy(self.bucket)))
        kwargs = {"binaryMediaTypes": list(binary)} if binary else {}
        api = self.apigw.create_rest_api(name=name, **kwargs)
        self.api_id = api["id"]
        upload = self.apigw.create_resource(restApiId=self.api_id, parentId=api["rootResourceId"],
                                            pathPart="upload")
        self.resource_id = self.apigw.create_resource(restApiId=self.api_id, parentId=upload["id"],
                                                      pathPart="{object}")["id"]
        self.apigw.put_method(restApiId=self.api_id, resourceId=self.resource_id, httpMethod="PUT",
                              authorizationType="NONE", apiKeyRequired=api_key_required,
                              requestParameters=declared or {"method.request.path.object": True})
        self.apigw.put_integration(
            restApiId=self.api_id, resourceId=self.resource_id, httpMethod="PUT", type="AWS",
            integrationHttpMethod="PUT", uri=f"arn:aws:apigateway:{REGION}:s3:path/{self.bucket}/{{key}}",
            credentials=self.role_arn,
            requestParameters=mapping or {"integration.request.path.key": "method.request.path.object"})
        for status in (method_responses if method_responses is not None else [s for s, _ in responses]):
            self.apigw.put_method_response(restApiId=self.api_id, resourceId=self.resource_id,
                                           httpMethod="PUT", statusCode=status)
        for status, pattern in responses:
            extra = {"selectionPattern": pattern} if pattern else {}
            self.apigw.put_integration_response(restApiId=self.api_id, resourceId=self.resource_id,
                                                httpMethod="PUT", statusCode=status, **extra)
        self.base = f"{endpoint}/_aws/execute-api/{self.api_id}/v1"
        if deploy:
            self.deploy()

    def deploy(self, stage="v1"):
        return self.apigw.create_deployment(restApiId=self.api_id, stageName=stage)["id"]

    def url(self, key):
        return f"{self.base}/upload/{key}"

    def keys(self):
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])]

    def get(self, key):
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()


@pytest.fixture
def proxy_api(aws, endpoint, name):
    """Factory: proxy_api(**options) builds option 1 with raw boto3 and returns a ProxyApi."""
    counter = iter(range(100))

    def build(**options):
        return ProxyApi(aws, endpoint, f"{name}{next(counter)}", **options)
    return build


LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}


BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def zip_code(files):
    """A deployment package from {path: source}, every file readable by others (0644) as Lambda
    needs (a plain ZipFile.writestr(path, ...) gives 0600, which Lambda cannot import)."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, source in files.items():
            info = zipfile.ZipInfo(path)
            info.external_attr = 0o644 << 16
            archive.writestr(info, source)
    return buffer.getvalue()


def create_function_when_ready(lam, **params):
    """CreateFunction as code against AWS must make it, then wait until the function can run.

    A role created moments ago is not assumable by Lambda yet (IAM is eventually consistent):
    CreateFunction answers InvalidParameterValueException "The role defined for the function
    cannot be assumed by Lambda." and is retried after short waits that grow (bounded). A new
    function is then Pending until Lambda has set it up; invoking it before it is Active is a
    ResourceConflictException, so this waits with botocore's function_active_v2 waiter (polling
    faster than its 1 s default: the local AWS's delays are compressed).
    """
    import time

    from botocore.exceptions import ClientError

    delay, deadline = 0.1, time.monotonic() + 30
    while True:
        try:
            created = lam.create_function(**params)
            break
        except ClientError as err:
            if ("cannot be assumed" not in err.response["Error"]["Message"]
                    or time.monotonic() > deadline):
                raise
        time.sleep(delay)
        delay = min(delay * 2, 2.0)
    lam.get_waiter("function_active_v2").wait(FunctionName=created["FunctionArn"],
                                               WaiterConfig={"Delay": 0.1, "MaxAttempts": 600})
    return created


def when_key_works(send, patience=30.0):
    """``send()`` (an HTTP request with a new API key) again until API Gateway stops answering
    403: a key's new link to a usage plan takes some seconds to take effect, as code against AWS
    must allow for (helpers.wait_until_uploads_work does it for the workbook). Returns the first
    other response (or the last 403 after ``patience`` seconds)."""
    import time

    delay, deadline = 0.1, time.monotonic() + patience
    while True:
        response = send()
        if response.status_code != 403 or time.monotonic() > deadline:
            return response
        time.sleep(delay)
        delay = min(delay * 2, 2.0)


def wait_updated(lam, function_name):
    """Wait until the function's last update is done (LastUpdateStatus Successful): until then
    AWS still runs the previous code and refuses other updates and PublishVersion."""
    lam.get_waiter("function_updated_v2").wait(FunctionName=function_name,
                                                WaiterConfig={"Delay": 0.1, "MaxAttempts": 600})


@pytest.fixture
def make_function(aws, name):
    """Factory: make_function(source, handler="app.handler", **create_function kwargs) -> config."""
    counter = iter(range(100))

    def make(source, handler="app.handler", policy=None, **kwargs):
        fname = f"{name}{next(counter)}"
        iam = aws("iam")
        role = iam.create_role(RoleName=fname, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"]["Arn"]
        if policy:
            iam.put_role_policy(RoleName=fname, PolicyName="p", PolicyDocument=json.dumps(policy))
        if kwargs.pop("logs", True):
            iam.attach_role_policy(RoleName=fname, PolicyArn=BASIC_EXECUTION)
        if isinstance(source, bytes):  # a ready deployment package
            package = source
        else:
            package = zip_code(source if isinstance(source, dict) else {"app.py": source})
        return create_function_when_ready(
            aws("lambda"), FunctionName=fname, Runtime=kwargs.pop("Runtime", "python3.12"),
            Role=role, Handler=handler, Code={"ZipFile": package}, **kwargs)
    return make


def put_bucket_policy_when_ready(s3, bucket, policy, patience=30.0):
    """PutBucketPolicy as code against AWS must make it when the policy names a principal created
    moments ago (a role, a user, an origin access identity): S3 answers MalformedPolicy "Invalid
    principal in policy" until IAM has propagated it, so that answer is retried."""
    import time

    from botocore.exceptions import ClientError

    deadline = time.monotonic() + patience
    while True:
        try:
            return s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
        except ClientError as err:
            if (err.response["Error"]["Code"] != "MalformedPolicy" or time.monotonic() > deadline):
                raise
        time.sleep(0.1)
