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
#     title: Direct S3 proxy
# ---

# %% [markdown] tags=["nav-top"]
# [← 00 Setup](00_setup.ipynb) · **01 Direct S3 proxy** · [02 Presigned URLs →](02_presigned_urls.ipynb)

# %% [markdown]
# # 01 · Upload through API Gateway as a direct S3 proxy
#
# ## Overview
# The simplest way to let end users upload files through *your* API: a REST API in Amazon API
# Gateway receives `PUT /upload/{object}` and passes the request body straight to S3's
# `PutObject`, acting as an IAM role that may do nothing but that. No code runs anywhere: API
# Gateway itself calls S3.
#
# ```mermaid
# flowchart LR
#     C[Client] -- "PUT /upload/cat.jpg<br/>x-api-key" --> G[API Gateway<br/>REST API, stage v1]
#     G -- "PutObject bucket/cat.jpg<br/>as the integration role" --> S[(S3 bucket<br/>private)]
# ```
#
# **Why:** one HTTPS endpoint you control (API keys, usage plans, your own authorizers later),
# with no server and no Lambda function to maintain.
#
# **Limit:** API Gateway REST APIs accept at most **10 MB** per request, a hard quota that
# cannot be raised. Larger files need option 2 (presigned URLs) or option 3 (CloudFront).
#
# **Cost on real AWS** (us-east-1 list prices as stated by AWS in 2026-11; check the pricing pages):
# REST API calls $3.50 per million, S3 PUT requests $0.005 per 1,000, S3 Standard storage
# $0.023 per GB-month. Running this notebook once costs well under one cent.
#
# ## Prerequisites
# Nothing for the default `target = "local"`: the workbook's local AWS runs every call on this
# machine (`make lab` started it; the setup cell below starts it if needed). For a real account
# set `target = "aws"` and `region`, with credentials allowed to manage S3, IAM and API Gateway.

# %% [markdown]
# ## Parameters
# Change these here, or pass them with papermill (`-p upload_path my.jpg`).

# %% tags=["parameters"]
target = "local"        # "local": the workbook's local AWS; "aws": your account
endpoint_url = None     # local only: None means $WORKBOOK_ENDPOINT_URL or http://127.0.0.1:4566
region = "us-east-1"
name_prefix = None      # None: a fresh prefix like s3wb-k3v9q2 for everything created here
upload_path = None      # a file to upload; None shows a file picker (papermill sets a path)
show_curl = True        # also print the curl command that makes the same upload

# %% [markdown]
# ## Setup
# `connect` decides where every boto3 call goes, and `unique_prefix` names (and tags) all that
# this notebook creates, so that the clean-up at the end removes exactly that.
#
# If a later cell stops with `LocalAWSError: the local AWS ... is not answering`, the local AWS
# was stopped or restarted and everything it held is gone: start it again (`make lab`, or this
# cell starts it) and run the notebook again from the top.

# %%
import helpers as wb

aws = wb.connect(target, region=region, endpoint_url=endpoint_url)
prefix = wb.unique_prefix(name_prefix)
s3, iam, apigw = aws.client("s3"), aws.client("iam"), aws.client("apigateway")
print(f"target: {aws.name}, region: {aws.region}, prefix: {prefix}")

# %% [markdown]
# ## Step 1 · A private bucket for the uploads
# Block Public Access stays on: uploaded files are not readable from the internet. Objects are
# encrypted at rest with S3-managed keys (SSE-S3).

# %%
bucket = wb.create_upload_bucket(f"{prefix}-uploads", s3=s3, prefix=prefix)["bucket"]
bucket

# %% [markdown]
# ## Step 2 · A role API Gateway may assume, allowed only `s3:PutObject`
# Two policies make up a role. The *trust policy* says who may assume it: here only the API
# Gateway service. The *permissions policy* says what it may do: put objects into this bucket,
# nothing else (no reads, no deletes, no other bucket).

# %%
policy = wb.put_object_policy(bucket)
role = wb.create_service_role(f"{prefix}-apigw-s3", service="apigateway.amazonaws.com",
                              policy=policy, iam=iam, prefix=prefix)
print(role["role_arn"])
policy

# %% [markdown]
# ## Step 3 · A REST API that treats every body as binary
# `binaryMediaTypes=["*/*"]` matters: without a binary media type matching the request's
# `Content-Type`, API Gateway handles the body as UTF-8 text, and any byte that is not valid
# UTF-8 (most of a JPEG) is replaced. You will see that happen in *Try it* below.

# %%
api = wb.create_rest_api(f"{prefix}-s3-proxy", apigw=apigw, prefix=prefix)
api_id = api["api_id"]
apigw.get_rest_api(restApiId=api_id)["binaryMediaTypes"]

# %% [markdown]
# ## Step 4 · Resources `/upload` and `/upload/{object}`
# Curly braces make `{object}` a path parameter: whatever the client puts there becomes the
# object's key.

# %%
upload_id = wb.add_resource(api_id, api["root_id"], "upload", apigw=apigw)
object_id = wb.add_resource(api_id, upload_id, "{object}", apigw=apigw)
[r["path"] for r in apigw.get_resources(restApiId=api_id)["items"]]

# %% [markdown]
# ## Step 5 · The `PUT` method, with an API key required
# The method declares the request parameters it will pass on: the `object` path parameter and
# the `Content-Type` header. A parameter that is not declared here cannot be mapped later.

# %%
wb.add_method(api_id, object_id, apigw=apigw, api_key_required=True)

# %% [markdown]
# ## Step 6 · The integration: S3 `PutObject` by path override
# Type `AWS` means API Gateway calls an AWS service itself, signed as the role from step 2. The
# URI `arn:aws:apigateway:{region}:s3:path/{bucket}/{key}` names S3's REST path; `{key}` is
# filled from `method.request.path.object`.

# %%
wb.add_s3_integration(api_id, object_id, apigw=apigw, bucket=bucket,
                      role_arn=role["role_arn"], region=aws.region)

# %% [markdown]
# ## Step 7 · Responses
# A non-proxy integration needs *integration responses* (which S3 status becomes which client
# status) and *method responses* (what the method may return). The one without a
# `selectionPattern` is the default: with only a default 200, S3's refusals would reach the
# client as `200` with an XML error body. Forget them entirely and every call gets a 500.

# %%
wb.add_responses(api_id, object_id, apigw=apigw)

# %% [markdown]
# ## Step 8 · Deploy to a stage
# A deployment is a snapshot: changes made after it take effect only when you deploy again.

# %%
stage = wb.deploy_stage(api_id, "v1", apigw=apigw, target=aws)
invoke_url = stage["invoke_url"]
print(invoke_url)

# %% [markdown]
# ## Step 9 · An API key in a usage plan
# The method requires a key, and a key works only through a usage plan that includes this API
# stage. Clients send it in the `x-api-key` header. (We never print the key itself.)
#
# A new key takes some seconds to reach API Gateway (until then: `403 Forbidden`), and so does
# the role from step 2 (until API Gateway can assume it: `500`). `wait_until_uploads_work`
# uploads an empty probe object until one goes through, then deletes it.

# %%
key = wb.create_api_key(f"{prefix}-key", apigw=apigw, api_id=api_id, stage="v1", prefix=prefix)
headers = {"x-api-key": key["value"], "Content-Type": "application/octet-stream"}
wb.wait_until_uploads_work(invoke_url, api_key=key["value"], bucket=bucket, s3=s3)
print(f"API key ready: {len(key['value'])} characters, in usage plan for stage v1")

# %% [markdown]
# ## Choose a file
# Pick a file below (up to 10 MB: the API's limit), then run the next cells. Running without a
# pick uploads a generated 2 MiB sample instead; papermill passes `upload_path`.

# %% tags=["nbval-ignore-output"]
picker = wb.show_picker(upload_path, "Choose a file (max 10 MB)")
picker

# %%
import os, tempfile

sample = wb.make_sample_file(os.path.join(tempfile.gettempdir(), "s3wb-sample-2mib.bin"),
                             2 * 1024 * 1024, seed=1)
path = wb.choose_file(upload_path, picker, fallback=sample)
key_name = os.path.basename(path)
print(f"uploading {key_name}: {os.path.getsize(path):,} bytes")

# %% [markdown]
# ## Upload
# `upload_file` streams the file from disk as the body of `PUT {invoke_url}/upload/{key}`, with
# a progress bar. With `show_curl`, the next cell also prints the same request as a curl
# command (run it in the file's folder, with `API_KEY` set: the key itself is never printed).

# %% tags=["nbval-ignore-output"]
result = wb.upload_file(f"{invoke_url}/upload/{key_name}", path, headers=headers)

# %%
print(result.status, f"{result.bytes_sent:,} bytes sent")
if show_curl:
    print(wb.curl_command(f"{invoke_url}/upload/{key_name}", key_name, headers=headers))

# %% [markdown]
# ## Verify
# Read the object back from S3 and compare SHA-256 digests: byte for byte the same file.

# %%
stored = wb.object_sha256(bucket, key_name, s3=s3)
sent = wb.sha256_file(path)
print("sent:  ", sent)
print("stored:", stored)
print("identical:", stored == sent)

# %% [markdown]
# ## Try it · limits and refusals
# Each cell below makes a request that AWS refuses, prints the status and error, and checks
# that nothing was written to the bucket.
#
# **A 12 MB file** is over the 10 MB payload limit: API Gateway answers `413` before any
# integration runs.

# %%
big = wb.make_sample_file(os.path.join(tempfile.gettempdir(), "s3wb-12mb.bin"), 12_000_000)
try:
    wb.upload_file(f"{invoke_url}/upload/too-big.bin", big, headers=headers, progress=False)
except wb.UploadRefused as refused:
    print(refused.status, refused.message)
print("too-big.bin in bucket:", "too-big.bin" in wb.list_keys(bucket, s3=s3))

# %% [markdown]
# **No API key:** the method requires one, so API Gateway answers `403 Forbidden`.

# %%
try:
    wb.upload_file(f"{invoke_url}/upload/no-key.bin", path, progress=False)
except wb.UploadRefused as refused:
    print(refused.status, refused.code, refused.message)
print("no-key.bin in bucket:", "no-key.bin" in wb.list_keys(bucket, s3=s3))

# %% [markdown]
# **Without `*/*`:** remove the binary media types, redeploy, and upload the same file. The
# upload "succeeds", but the stored bytes differ: the body was handled as text. Then restore
# `*/*` and redeploy.

# %%
wb.set_binary_media_types(api_id, (), apigw=apigw)
wb.deploy_stage(api_id, "v1", apigw=apigw, target=aws)
wb.upload_file(f"{invoke_url}/upload/as-text.bin", path, headers=headers, progress=False)
mangled = wb.object_sha256(bucket, "as-text.bin", s3=s3)
print("identical without */*:", mangled == sent)
print("restored:", wb.set_binary_media_types(api_id, ("*/*",), apigw=apigw))
stage = wb.deploy_stage(api_id, "v1", apigw=apigw, target=aws)

# %% [markdown]
# ### Threat model, briefly
# Anyone holding the API key can write any key in the bucket (and overwrite objects): keep keys
# per client, rotate them, and prefer a real authorizer (Cognito, Lambda) in production. The role
# can only `PutObject`, so a leaked key cannot read or delete. Uploads are capped at 10 MB by API
# Gateway itself; consider a usage-plan quota against abuse.

# %% [markdown]
# ## Clean up
# Delete everything tagged with this notebook's prefix: usage plan and key, API, role, and the
# bucket with its objects.

# %%
deleted = wb.clean_up(aws, prefix)
print(deleted)
print("left behind:", {kind: ids for kind, ids in wb.find_resources(aws, prefix).items() if ids})

# %% [markdown]
# ## Next steps
# 10 MB is the ceiling here. [02 Presigned URLs](02_presigned_urls.ipynb) lifts it to 5 GB:
# the API hands out a short-lived URL and the client sends the file straight to S3.

# %% [markdown] tags=["nav-bottom"]
# **Next:** [02 Presigned URLs](02_presigned_urls.ipynb)
#
# [← 00 Setup](00_setup.ipynb) · **01 Direct S3 proxy** · [02 Presigned URLs →](02_presigned_urls.ipynb)
