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
#     title: Setup
# ---

# %% [markdown] tags=["nav-top"]
# **00 Setup** · [01 Direct S3 proxy →](01_api_gateway_s3_proxy.ipynb)

# %% [markdown]
# # 00 · Setup: check your environment, meet the local AWS, see the map
#
# ## Overview
# This workbook teaches three ways to let your users upload files to Amazon S3 through an API
# you control, and a fourth technique for files beyond 5 GB. Every step runs for real: on the
# **local AWS** that ships with the workbook (the default, offline, free), or unchanged on **your
# own AWS account** (`target = "aws"`).
#
# This notebook checks that everything is in place before you start:
#
# 1. the Python environment (versions the workbook was tested with);
# 2. where AWS calls go: it starts (or finds) the local AWS, or, with `target = "aws"`, checks
#    your credentials, region and the permissions the workbook needs;
# 3. a first bucket created, tagged and deleted again, the way every notebook works;
# 4. the map of the workbook, with a diagram of each option.
#
# **Cost:** the local AWS costs nothing. On real AWS, running every notebook once costs well
# under **$0.05** at us-east-1 list prices as of 2026-11 (requests are a fraction of a cent; the
# uploads are a few tens of MB, and storage is deleted at the end of each notebook). A
# CloudFront distribution costs nothing while idle, but takes minutes to create and to delete.
# Check the AWS pricing pages for current figures.
#
# ## Prerequisites
# Python 3.11 with the workbook installed (`make lab` does it). Nothing else for
# `target = "local"`. For `target = "aws"`: credentials in boto3's usual places (`aws
# configure`, `AWS_PROFILE`, environment variables) for a principal with the IAM policy in the
# README's *Real AWS* section.

# %% [markdown]
# ## Parameters
# The same four settings open every notebook. `target = "aws"` is the only change real-AWS mode
# needs.

# %% tags=["parameters"]
target = "local"        # "local": the workbook's local AWS; "aws": your account
endpoint_url = None     # local only: None means $WORKBOOK_ENDPOINT_URL or http://127.0.0.1:4566
region = "us-east-1"
name_prefix = None      # None: a fresh prefix like s3wb-k3v9q2 for the test bucket below

# %% [markdown]
# ## Step 1 · The Python environment
# `check_environment` compares what is installed with the versions the workbook pins in
# `pyproject.toml`. A mismatch usually means the notebook runs in another kernel than the
# workbook's `.venv`: choose *Python 3 (ipykernel)* from `make lab`.

# %% tags=["nbval-ignore-output"]
import helpers as wb

env = wb.check_environment()
print(f"Python {env['python']}: {'ok' if env['python_ok'] else 'needs 3.11 or later'}")
for package in env["packages"]:
    print(f"  {package['package']:<11} {package['installed'] or 'missing':<10} "
          f"required {package['required']:<14} {'ok' if package['ok'] else 'MISMATCH'}")

# %%
print("environment ok:", env["ok"])

# %% [markdown]
# ## Step 2 · Where AWS calls go
# `connect` returns the *target* every later call uses. For `"local"` it finds the local AWS on
# its port, or starts it in the background; for `"aws"` it checks that boto3 finds
# credentials and a region, and starts nothing.

# %%
aws = wb.connect(target, region=region, endpoint_url=endpoint_url)
print(f"target: {aws.name}, region: {aws.region}, endpoint: {aws.endpoint_url or 'AWS'}")

# %% [markdown]
# **Who am I?** `sts:GetCallerIdentity` needs no permission and answers for any valid
# credentials. On the local AWS, the `test` credentials are the root of account `123456789012`,
# allowed everything; the outputs stored in this notebook come from the workbook's tests, which
# run it as an IAM user holding only the workbook's policy (`wb.create_workbook_user`, its keys
# in `$WORKBOOK_ACCESS_KEY_ID` and `$WORKBOOK_SECRET_ACCESS_KEY`), as you would on AWS.

# %%
me = wb.caller_identity(aws)
print(f"account: {me['account']}\nprincipal: {me['arn']}")

# %% [markdown]
# ## Step 3 · Permissions
# `check_permissions` asks IAM's policy simulator (`iam:SimulatePrincipalPolicy`)
# whether your principal may make each call the workbook makes, on resources named like the
# workbook's (`s3wb-...`). It reports data, and it is tolerant: if you may not run the
# simulator itself, it says so and the notebooks will show AWS's `AccessDenied` where it
# happens. Service control policies and permission boundaries are not simulated.

# %%
permissions = wb.check_permissions(aws)
print("simulated:", permissions["checked"], "|", permissions["reason"] or "ok")
print(f"allowed: {len(permissions['allowed'])} of {len(wb.workbook_actions())} actions")
print("denied:", permissions["denied"] or "none")

# %% [markdown]
# ## Step 4 · A first bucket, tagged
# Every notebook names what it creates with a unique prefix and tags it
# `workbook=s3-upload-workbook` plus `workbook-prefix=<prefix>`. Clean-up finds resources by
# these tags, so it deletes exactly what the notebook made. Here the smallest round trip:

# %%
prefix = wb.unique_prefix(name_prefix)
s3 = aws.client("s3")
bucket = wb.create_upload_bucket(f"{prefix}-setup-check", s3=s3, prefix=prefix)["bucket"]
tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
print(bucket, tags)

# %% [markdown]
# ## Verify
# Clean-up will find the bucket by its tags (and, like every bucket the workbook makes, it is
# private: Block Public Access on).

# %%
print("found by tag:", wb.find_resources(aws, prefix)["buckets"])
print("public access blocked:",
      all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values()))

# %% [markdown]
# ## Try it · a setting the helpers refuse
# Mistakes in settings are caught before any AWS call, with a message that names the valid
# values. A prefix becomes part of bucket names, so it must be lower-case:

# %%
for wrong in (lambda: wb.connect("azure"), lambda: wb.unique_prefix("My_Prefix")):
    try:
        wrong()
    except wb.ConfigurationError as err:
        print("ConfigurationError:", err)

# %% [markdown]
# ## Clean up

# %%
print({kind: n for kind, n in wb.clean_up(aws, prefix).items() if n})
print("left behind:", {kind: ids for kind, ids in wb.find_resources(aws, prefix).items() if ids})

# %% [markdown]
# ## The map of the workbook
# Run the notebooks in order; each one also runs alone, top to bottom, and deletes what it
# created in its last cell.
#
# | notebook | what you build and learn | largest upload |
# |---|---|---|
# | [00 Setup](00_setup.ipynb) | this check, and the map | |
# | [01 Direct S3 proxy](01_api_gateway_s3_proxy.ipynb) | API Gateway passes the body straight to S3 as an IAM role; API keys; binary media types | 10 MB |
# | [02 Presigned URLs](02_presigned_urls.ipynb) | API Gateway + Lambda hand out short-lived presigned URLs; the client sends the file to S3 | 5 GB |
# | [03 Multipart uploads](03_multipart_uploads.ipynb) | parts in parallel with presigned part URLs and checksums; resume, abort; presigned POST size limits | 5 TiB |
# | [04 CloudFront + Lambda@Edge](04_cloudfront_lambda_edge.ipynb) | CloudFront in front of S3, a put-only origin identity, a viewer-request function checking callers | 5 GB |
# | [05 Uploading from a web page](05_web_page.ipynb) | a page (plain HTML and JavaScript, served from the notebook) uploads through options 2 and 3, presigned POST and multipart; the same-origin policy, preflights, and the CORS settings of S3, API Gateway and CloudFront that answer them | as its option |
# | [06 Authenticating uploaders](06_authenticating_uploaders.ipynb) | users instead of keys: a Cognito user pool, Cognito and Lambda authorizers on option 2, the pool's JWTs checked at option 3's edge | |
# | [07 Comparison](07_comparison.ipynb) | the options on the same files: limits, latency, throughput, cost, when to choose which | |
# | [08 Clean up](08_clean_up.ipynb) | find everything the workbook created (by tag), list it, delete it in order | |
#
# **Option 1 · API Gateway as a direct S3 proxy** (notebook 01). No code runs: API Gateway calls
# S3 itself.
#
# ```mermaid
# flowchart LR
#     C[Client] -- "PUT /upload/cat.jpg + x-api-key" --> G[API Gateway REST API]
#     G -- "PutObject as the integration role" --> S[(S3 bucket)]
# ```
#
# **Option 2 · Presigned URLs from API Gateway + Lambda** (notebook 02). The API grants; the
# file goes straight to S3.
#
# ```mermaid
# sequenceDiagram
#     participant C as Client
#     participant G as API Gateway + Lambda
#     participant S as S3 bucket
#     C->>G: GET /upload/cat.jpg?contentType=image/jpeg
#     G-->>C: presigned PUT URL (expires in minutes)
#     C->>S: PUT the file to the URL
# ```
#
# **Multipart uploads with presigned part URLs** (notebook 03). Option 2, in parts.
#
# ```mermaid
# sequenceDiagram
#     participant C as Client
#     participant A as Upload API (API Gateway + Lambda)
#     participant S as S3
#     C->>A: POST /uploads (start)
#     A-->>C: upload id, key, part size
#     C->>A: POST /uploads/{id}/parts (checksums)
#     A-->>C: one presigned URL per part
#     C->>S: PUT parts in parallel
#     C->>A: POST /uploads/{id}/complete
#     A->>S: CompleteMultipartUpload
# ```
#
# **Option 3 · CloudFront with Lambda@Edge** (notebook 04). Uploads enter at the edge; a
# function checks callers; CloudFront writes to S3 as a put-only identity.
#
# ```mermaid
# flowchart LR
#     V[Viewer] -- "PUT /report.pdf + Authorization" --> E[CloudFront]
#     E -- viewer-request --> F[Lambda@Edge]
#     F -- "allow or 401" --> E
#     E -- "PutObject as the OAI / OAC" --> S[(S3 bucket)]
# ```

# %% [markdown]
# ## Next steps
# Start with [01 Direct S3 proxy](01_api_gateway_s3_proxy.ipynb): the simplest option, and the
# building blocks (bucket, role, REST API, stage) the others reuse.

# %% [markdown] tags=["nav-bottom"]
# **Next:** [01 Direct S3 proxy](01_api_gateway_s3_proxy.ipynb)
#
# **00 Setup** · [01 Direct S3 proxy →](01_api_gateway_s3_proxy.ipynb)
