# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     notebook_metadata_filter: workbook
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
#   workbook:
#     title: Presigned URLs
# ---

# %% [markdown] tags=["nav-top"]
# [← 01 Direct S3 proxy](01_api_gateway_s3_proxy.ipynb) · **02 Presigned URLs** · [03 Multipart uploads →](03_multipart_uploads.ipynb)

# %% [markdown]
# # 02 · Presigned upload URLs from API Gateway + Lambda
#
# ## Overview
# Notebook 01 stopped at 10 MB, API Gateway's payload limit. Here the file never passes through
# API Gateway: the client asks *your API* for permission, and a Lambda function answers with a
# **presigned URL**, a short-lived S3 address signed with the function's own credentials. The
# client then `PUT`s the file straight to S3.
#
# ```mermaid
# sequenceDiagram
#     participant C as Client
#     participant G as API Gateway
#     participant L as Lambda (presign)
#     participant S as S3 bucket
#     C->>G: GET /upload/cat.jpg?contentType=image/jpeg
#     G->>L: proxy event
#     L-->>G: {url, headers, expiresIn}
#     G-->>C: 200 JSON
#     C->>S: PUT url (Content-Type: image/jpeg, the file)
#     S-->>C: 200
# ```
#
# **Why:** uploads up to **5 GB** in one PUT (S3's single-request limit; beyond that, multipart
# upload, notebook 03), no file bytes through Lambda or API Gateway, and the API still decides
# who may upload what: the function chooses the key and the content type it signs.
#
# **What to watch:** a presigned URL is a bearer token until it expires. The signature covers
# the method, bucket, key, expiry and the signed headers (here `Content-Type`): send anything
# else and S3 answers `403 SignatureDoesNotMatch`.
#
# **Cost on real AWS** (us-east-1 list prices as stated by AWS in 2026-11): REST API calls $3.50
# per million, Lambda $0.20 per million requests plus $0.0000166667 per GB-second, S3 PUT $0.005
# per 1,000. A million uploads cost about $10 before storage and data transfer.
#
# ## Prerequisites
# Nothing for `target = "local"`. For `target = "aws"`: permissions to manage S3, IAM, Lambda
# and API Gateway in `region`.

# %% [markdown]
# ## Parameters

# %% tags=["parameters"]
target = "local"        # "local": the workbook's local AWS; "aws": your account
endpoint_url = None     # local only: None means $WORKBOOK_ENDPOINT_URL or http://127.0.0.1:4566
region = "us-east-1"
name_prefix = None      # None: a fresh prefix like s3wb-k3v9q2
upload_path = None      # a file to upload; None shows a file picker (papermill sets a path)
show_curl = True        # also print the curl command that makes the same upload
url_expires_seconds = 300

# %% [markdown]
# ## Setup
# If a later cell stops with `LocalAWSError: the local AWS ... is not answering`, the local AWS
# was stopped or restarted and everything it held is gone: start it again (`make lab`, or this
# cell starts it) and run the notebook again from the top.

# %%
import helpers as wb

aws = wb.connect(target, region=region, endpoint_url=endpoint_url)
prefix = wb.unique_prefix(name_prefix)
s3, iam, lam = aws.client("s3"), aws.client("iam"), aws.client("lambda")
apigw, logs = aws.client("apigateway"), aws.client("logs")
account = aws.client("sts").get_caller_identity()["Account"]
print(f"target: {aws.name}, region: {aws.region}, prefix: {prefix}")

# %% [markdown]
# ## Step 1 · A private bucket
# Same as in notebook 01: Block Public Access on, encrypted at rest.

# %%
bucket = wb.create_upload_bucket(f"{prefix}-uploads", s3=s3, prefix=prefix)["bucket"]
bucket

# %% [markdown]
# ## Step 2 · The function's role
# Presigning is not an S3 action of its own: a URL carries the signer's authority. So the
# function's role needs exactly what the *upload* needs, `s3:PutObject`, here only under
# `uploads/`. The AWS managed policy `AWSLambdaBasicExecutionRole` lets it write its logs;
# without it, the function runs but its logs are lost.

# %%
policy = wb.presign_role_policy(bucket)
role = wb.create_service_role(f"{prefix}-presign", service="lambda.amazonaws.com",
                              policy=policy, iam=iam, prefix=prefix,
                              managed_policies=(wb.BASIC_EXECUTION_POLICY,))
policy

# %% [markdown]
# ## Step 3 · The handler
# Read it before deploying it. It checks the object name (no `..`, no leading `/`, no control
# characters, at most 1,024 bytes with the prefix), checks the content type, and signs a PUT
# for exactly that key and type. `ExpiresIn` is an integer number of seconds.

# %%
from IPython.display import Markdown
Markdown("```python\n" + wb.function_source("presign_upload") + "\n```")

# %% [markdown]
# ## Step 4 · Create the function
# The code ships as a zip. The bucket and expiry arrive as environment variables, so the same
# code serves any bucket. On the local AWS the function really runs, in its own process, with
# temporary credentials for its role, as on AWS.

# %%
fn = wb.create_function(f"{prefix}-presign", module="presign_upload", role_arn=role["role_arn"],
                        lam=lam, prefix=prefix,
                        environment={"UPLOAD_BUCKET": bucket,
                                     "URL_EXPIRES_SECONDS": str(url_expires_seconds)})
fn["function_name"]

# %% [markdown]
# Invoke it once directly with a hand-made event, the way API Gateway will call it:

# %%
import json

test_event = {"pathParameters": {"object": "hello.txt"},
              "queryStringParameters": {"contentType": "text/plain"}}
answer = lam.invoke(FunctionName=fn["function_name"], Payload=json.dumps(test_event))
reply = json.loads(answer["Payload"].read())
print(reply["statusCode"], {k: v for k, v in json.loads(reply["body"]).items() if k != "url"})

# %% [markdown]
# ## Step 5 · The API: `GET /upload/{object}` with a Lambda proxy integration
# With `AWS_PROXY` the whole HTTP request becomes the function's event and the function's
# `{statusCode, headers, body}` becomes the response: no integration or method responses to
# configure. API Gateway always calls Lambda with `POST`, whatever the method's own verb.

# %%
api = wb.create_rest_api(f"{prefix}-presign", apigw=apigw, prefix=prefix, binary_media_types=())
api_id = api["api_id"]
upload_id = wb.add_resource(api_id, api["root_id"], "upload", apigw=apigw)
object_id = wb.add_resource(api_id, upload_id, "{object}", apigw=apigw)
wb.add_method(api_id, object_id, apigw=apigw, http_method="GET", headers=())
wb.add_lambda_proxy(api_id, object_id, apigw=apigw, function_arn=fn["function_arn"], region=aws.region)

# %% [markdown]
# ## Step 6 · Let API Gateway invoke the function
# The console adds this permission for you; with boto3 it is your job, and forgetting it is
# the classic cause of `500 Internal server error` from a Lambda proxy API. The statement is
# scoped to this API's `GET /upload/*` by its execute-api ARN.

# %%
wb.allow_api_gateway(fn["function_name"], api_id=api_id, region=aws.region, account=account,
                     lam=lam, method="GET", path="upload/*")

# %% [markdown]
# ## Step 7 · Deploy

# %%
stage = wb.deploy_stage(api_id, "v1", apigw=apigw, target=aws)
invoke_url = stage["invoke_url"]
print(invoke_url)

# %% [markdown]
# ## Choose a file
# Any size the browser can send to this notebook (the Lab started by `make lab` takes up to
# 256 MiB; for bigger files pass `upload_path`). Without a pick, a generated 12 MiB sample is
# uploaded: more than option 1 could take.

# %% tags=["nbval-ignore-output"]
picker = wb.show_picker(upload_path, "Choose a file")
picker

# %%
import mimetypes, os, tempfile

sample = wb.make_sample_file(os.path.join(tempfile.gettempdir(), "s3wb-sample-12mib.bin"),
                             12 * 1024 * 1024, seed=2)
path = wb.choose_file(upload_path, picker, fallback=sample)
name = os.path.basename(path)
content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
print(f"{name}: {os.path.getsize(path):,} bytes, {content_type}")

# %% [markdown]
# ## Ask the API for an upload URL
# The answer says where to send the file, with which method and headers, and for how long the
# URL is valid. (We print the URL without its query string: the signature and the session token
# in it are as good as a password until the URL expires.)

# %%
grant = wb.request_upload_url(f"{invoke_url}/upload/{name}", content_type=content_type)
print(grant["method"], grant["url"].split("?")[0])
print("headers:", grant["headers"], "| expires in", grant["expiresIn"], "s | key:", grant["key"])

# %% [markdown]
# ## Upload straight to S3
# `upload_presigned` streams the file from disk (never whole in memory) with exactly the signed
# headers. With `show_curl`, the next cell prints the same upload as a curl command; set
# `UPLOAD_URL` to the `url` of the API's answer first, e.g.
# `UPLOAD_URL=$(curl -s "$INVOKE_URL/upload/cat.jpg?contentType=image/jpeg" | jq -r .url)`.

# %% tags=["nbval-ignore-output"]
result = wb.upload_presigned(grant, path)

# %%
print(result.status, f"{result.bytes_sent:,} bytes sent")
if show_curl:
    print(wb.curl_command(grant["url"], name, headers=grant["headers"]))

# %% [markdown]
# ## Verify

# %%
stored = wb.object_sha256(bucket, grant["key"], s3=s3)
sent = wb.sha256_file(path)
print("identical:", stored == sent)
print("stored content type:", s3.head_object(Bucket=bucket, Key=grant["key"])["ContentType"])

# %% [markdown]
# ## The function's logs
# What the handler printed, with Lambda's `START`/`END`/`REPORT` lines. `Init Duration` appears
# on a cold start only: the next calls reuse the warm execution environment.

# %% tags=["nbval-ignore-output"]
for line in wb.tail_function_logs(fn["function_name"], target=aws, contains="RequestId", expect=3, limit=8):
    print(line)

# %% [markdown]
# ## Try it · what S3 refuses
# **Another Content-Type than the one signed:** the most common presigned-upload bug. S3
# recomputes the signature with the header it received and it no longer matches.

# %%
grant = wb.request_upload_url(f"{invoke_url}/upload/typed.bin", content_type="image/png")
try:
    wb.upload_presigned(grant, path, progress=False, headers={"Content-Type": "image/jpeg"})
except wb.UploadRefused as refused:
    print(refused.status, refused.code)
print("in bucket:", grant["key"] in wb.list_keys(bucket, s3=s3))

# %% [markdown]
# **An expired URL:** sign for one second (a setting of the function), wait, then try.

# %%
import time

env = {"UPLOAD_BUCKET": bucket, "URL_EXPIRES_SECONDS": "1"}
lam.update_function_configuration(FunctionName=fn["function_name"], Environment={"Variables": env})
lam.get_waiter("function_updated_v2").wait(FunctionName=fn["function_name"])
grant = wb.request_upload_url(f"{invoke_url}/upload/late.bin", content_type=content_type)
time.sleep(2)
try:
    wb.upload_presigned(grant, path, progress=False)
except wb.UploadRefused as refused:
    print(refused.status, refused.code, refused.message)
print("in bucket:", grant["key"] in wb.list_keys(bucket, s3=s3))
env["URL_EXPIRES_SECONDS"] = str(url_expires_seconds)  # back to the usual expiry
_ = lam.update_function_configuration(FunctionName=fn["function_name"], Environment={"Variables": env})
lam.get_waiter("function_updated_v2").wait(FunctionName=fn["function_name"])

# %% [markdown]
# **A signer without `s3:PutObject`:** remove the role's policy. The function still hands out
# URLs (signing is local arithmetic, nothing checks permissions), but S3 refuses them. Not at
# once, though: IAM is *eventually consistent*, and for some seconds after a change S3 still
# applies the old policy (IAM User Guide, "Changes that I make are not always immediately
# visible"). So the upload is tried until the refusal shows, each early success undone.
# Then put the policy back.

# %%
iam.delete_role_policy(RoleName=role["role_name"], PolicyName="least-privilege")

def upload_with_a_new_url():
    grant = wb.request_upload_url(f"{invoke_url}/upload/unsigned.bin", content_type=content_type)
    wb.upload_presigned(grant, path, progress=False)
    s3.delete_object(Bucket=bucket, Key=grant["key"])  # IAM had not caught up yet: undo, try again

refused = wb.until_refused(upload_with_a_new_url, message="not authorized to perform")
print(refused.status, refused.code)
print(refused.message.replace(account, "ACCOUNT"))
print("in bucket:", "uploads/unsigned.bin" in wb.list_keys(bucket, s3=s3))
_ = iam.put_role_policy(RoleName=role["role_name"], PolicyName="least-privilege",
                        PolicyDocument=json.dumps(policy))

# %% [markdown]
# **A name the function refuses:** `..` would let a caller climb out of `uploads/`.

# %%
try:
    wb.request_upload_url(f"{invoke_url}/upload/..%2Fescape.txt", content_type="text/plain")
except wb.UploadRefused as refused:
    print(refused.status, refused.message)

# %% [markdown]
# ### Threat model, briefly
# Anyone who can call `GET /upload/...` gets a URL: add an authorizer or API key in production.
# A URL is a bearer token for one key and one content type until it expires: keep expiries
# short and never log full URLs. The role can only put objects under `uploads/`, so a stolen URL
# or a bug in the function cannot read, list or delete. The object name is checked by the
# function; to stop overwrites, have the server choose the key (for example a UUID) instead of
# the client. Size is not limited by a presigned PUT: notebook 03's presigned POST policy can.

# %% [markdown]
# ## Clean up

# %%
deleted = wb.clean_up(aws, prefix)
print(deleted)
print("left behind:", {kind: ids for kind, ids in wb.find_resources(aws, prefix).items() if ids})

# %% [markdown]
# ## Next steps
# 5 GB is the ceiling of a single PUT. Multipart upload with presigned part URLs goes to 5 TB,
# in parallel and resumable ([notebook 03](03_multipart_uploads.ipynb)).

# %% [markdown] tags=["nav-bottom"]
# **Next:** [03 Multipart uploads](03_multipart_uploads.ipynb)
#
# [← 01 Direct S3 proxy](01_api_gateway_s3_proxy.ipynb) · **02 Presigned URLs** · [03 Multipart uploads →](03_multipart_uploads.ipynb)
