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
#     title: Multipart uploads
# ---

# %% [markdown] tags=["nav-top"]
# [← 02 Presigned URLs](02_presigned_urls.ipynb) · **03 Multipart uploads** · [04 CloudFront + Lambda@Edge →](04_cloudfront_lambda_edge.ipynb)

# %% [markdown]
# # 03 · Beyond 5 GB: multipart uploads with presigned part URLs
#
# ## Overview
# One PUT carries at most 5 GB. **Multipart upload** splits a file into parts that are sent
# separately (in parallel, retried one by one, resumable) and joined by S3 at the end, for
# objects up to **5 TiB**. As in notebook 02 the file never passes through your API: a small
# upload API (API Gateway + one Lambda function) starts the upload, hands out a presigned URL
# per part, and completes or aborts it.
#
# ```mermaid
# sequenceDiagram
#     participant C as Client
#     participant A as Upload API (API Gateway + Lambda)
#     participant S as S3
#     C->>A: POST /uploads {filename, size}
#     A->>S: CreateMultipartUpload (SHA-256)
#     A-->>C: uploadId, key, partSize
#     loop each part, in parallel
#         C->>A: POST /uploads/{id}/parts {partNumber, sha256}
#         A-->>C: presigned URL (checksum signed in)
#         C->>S: PUT part
#     end
#     C->>A: POST /uploads/{id}/complete {ETags, checksums}
#     A->>S: CompleteMultipartUpload
# ```
#
# **S3's rules** (the server applies them when it chooses the part size): parts of 5 MiB to
# 5 GiB, except the last, which may be smaller; at most 10,000 parts; objects up to 5 TiB. A
# 5 TiB file therefore needs parts of at least 525 MiB. This demo uses the smallest parts S3
# allows, 5 MiB, so that a 21 MiB file makes 5 parts.
#
# **Integrity:** the client computes each part's SHA-256 and the server signs it into the part's
# URL: S3 refuses a part whose bytes do not match (`BadDigest`), and the finished object carries
# a composite checksum the client can recompute.
#
# **Unfinished uploads cost money:** their parts are stored and billed until completed or
# aborted. The bucket gets a lifecycle rule that aborts uploads left for a day.
#
# **Cost on real AWS** (us-east-1 list prices as stated by AWS in 2026-11): each part is one S3
# PUT request ($0.005 per 1,000) and one API call ($3.50 per million) plus Lambda time; a 10 GiB
# file in 100 MiB parts costs about $0.002 in requests.

# %% [markdown]
# ## Parameters

# %% tags=["parameters"]
target = "local"        # "local": the workbook's local AWS; "aws": your account
endpoint_url = None     # local only: None means $WORKBOOK_ENDPOINT_URL or http://127.0.0.1:4566
region = "us-east-1"
name_prefix = None      # None: a fresh prefix like s3wb-k3v9q2
upload_path = None      # a file to upload; None shows a file picker (papermill sets a path)
show_curl = True        # also print the curl command that makes the same upload
threads = 4             # parts in flight at once: memory used is about threads x part size

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
apigw = aws.client("apigateway")
account = aws.client("sts").get_caller_identity()["Account"]
print(f"target: {aws.name}, region: {aws.region}, prefix: {prefix}")

# %% [markdown]
# ## Step 1 · A private bucket that cleans up forgotten uploads

# %%
bucket = wb.create_upload_bucket(f"{prefix}-uploads", s3=s3, prefix=prefix)["bucket"]
wb.abort_incomplete_uploads_rule(bucket, s3=s3, days=1)

# %% [markdown]
# ## Step 2 · The function's role
# Starting, completing and signing parts all need `s3:PutObject`; aborting needs
# `s3:AbortMultipartUpload`, resuming `s3:ListMultipartUploadParts`. Nothing else, and only
# under `uploads/`.

# %%
policy = wb.multipart_role_policy(bucket)
role = wb.create_service_role(f"{prefix}-multipart", service="lambda.amazonaws.com",
                              policy=policy, iam=iam, prefix=prefix,
                              managed_policies=(wb.BASIC_EXECUTION_POLICY,))
policy

# %% [markdown]
# ## Step 3 · The upload API's handler
# One function serves every route. It chooses the key (`uploads/<uuid>/<filename>`: clients
# never name keys) and the part size, and only acts on keys it handed out.

# %%
from IPython.display import Markdown
Markdown("```python\n" + wb.function_source("multipart_upload") + "\n```")

# %% [markdown]
# ## Step 4 · Create the function
# `PART_SIZE_BYTES` is the smallest part size the server will choose: 5 MiB here for the demo.

# %%
fn = wb.create_function(f"{prefix}-multipart", module="multipart_upload", role_arn=role["role_arn"],
                        lam=lam, prefix=prefix, timeout=30,
                        environment={"UPLOAD_BUCKET": bucket, "PART_SIZE_BYTES": str(5 * 1024 * 1024),
                                     "MAX_POST_BYTES": str(1024 * 1024)})
fn["function_name"]

# %% [markdown]
# ## Step 5 · The API: `POST /uploads` and `ANY /uploads/{proxy+}`
# A greedy `{proxy+}` resource sends every path below `/uploads/` to the same function, which
# routes by method and path itself.

# %%
api = wb.create_rest_api(f"{prefix}-multipart", apigw=apigw, prefix=prefix, binary_media_types=())
api_id = api["api_id"]
uploads_id = wb.add_resource(api_id, api["root_id"], "uploads", apigw=apigw)
proxy_id = wb.add_resource(api_id, uploads_id, "{proxy+}", apigw=apigw)
wb.add_method(api_id, uploads_id, apigw=apigw, http_method="POST", path_parameters=(), headers=())
wb.add_method(api_id, proxy_id, apigw=apigw, http_method="ANY", path_parameters=("proxy",), headers=())
for resource_id, method in ((uploads_id, "POST"), (proxy_id, "ANY")):
    wb.add_lambda_proxy(api_id, resource_id, apigw=apigw, function_arn=fn["function_arn"],
                        region=aws.region, http_method=method)
wb.allow_api_gateway(fn["function_name"], api_id=api_id, region=aws.region, account=account,
                     lam=lam, method="*", path="uploads*")
invoke_url = wb.deploy_stage(api_id, "v1", apigw=apigw, target=aws)["invoke_url"]
print(invoke_url)

# %% [markdown]
# ## Choose a file
# Without a pick, a generated 21 MiB sample is used (5 parts of at most 5 MiB).

# %% tags=["nbval-ignore-output"]
picker = wb.show_picker(upload_path, "Choose a file")
picker

# %%
import os, tempfile

sample = wb.make_sample_file(os.path.join(tempfile.gettempdir(), "s3wb-sample-21mib.bin"),
                             21 * 1024 * 1024 + 123, seed=3)
path = wb.choose_file(upload_path, picker, fallback=sample)
print(f"{os.path.basename(path)}: {os.path.getsize(path):,} bytes")

# %% [markdown]
# ## Start the upload
# The server answers with the upload id, the key it chose, and the part size. (`show_curl`
# prints the same request as a curl command.)

# %%
state = wb.start_multipart(invoke_url, path)
print(f"parts: {state.part_count} of {state.part_size:,} bytes (the last one smaller)")
print("key:", state.key.split("/")[0] + "/<uuid>/" + state.key.split("/")[-1])
if show_curl:
    print(wb.curl_command(f"{invoke_url}/uploads", method="POST", json_body={
        "filename": os.path.basename(path), "size": state.size, "contentType": "application/octet-stream"}))

# %% [markdown]
# ## Upload two parts, then "lose the connection"
# `limit=2` stops after two parts, as a dropped connection or a closed laptop would. Each part
# is one `PUT` of its bytes to its own presigned URL, with the checksum that was signed into it.
# As curl: cut the part out of the file (`head -c` / `tail -c`), ask the API for the URL
# (`POST /uploads/{id}/parts`), and send it.

# %%
sent = wb.upload_parts(invoke_url, state, threads=threads, limit=2, progress=False)
print("sent before the interruption:", sent)
if show_curl:
    import shlex
    print(f"head -c {state.part_size} {shlex.quote(os.path.basename(path))} > part-1.bin")
    print(wb.curl_command("$PART_URL", "part-1.bin", headers={"x-amz-checksum-sha256": state.checksums[1]}))

# %% [markdown]
# ## Resume
# A resuming client may know nothing but the upload id and key (kept as JSON, say). It asks S3
# which parts it already holds (`ListParts`, through the API) and sends only the rest, in
# parallel, with one progress bar for the whole file.

# %%
saved = {k: v for k, v in state.as_dict().items() if k not in ("etags", "checksums")}
resumed = wb.MultipartState(**saved)
print("S3 already has parts:", sorted(wb.uploaded_parts(invoke_url, resumed)))

# %% tags=["nbval-ignore-output"]
sent = wb.upload_parts(invoke_url, resumed, threads=threads)

# %%
print("sent after resuming:", sorted(sent))

# %% [markdown]
# ## Complete and verify
# S3 joins the parts in order. Its ETag for a multipart object is not an MD5 of the file (it
# ends in `-<parts>`); the composite SHA-256 checksum is what proves integrity end to end: the
# client recomputes it from the parts it hashed.

# %%
done = wb.complete_multipart(invoke_url, resumed)
print("ETag:", done["etag"])
print("checksum from S3:        ", done["checksumSHA256"])
print("checksum computed locally:", wb.composite_sha256(resumed))
print("identical file:", wb.object_sha256(bucket, done["key"], s3=s3) == wb.sha256_file(path))

# %% [markdown]
# ## Abort
# Giving up must not leave parts behind. Start another upload, send one part, abort: S3 drops
# the parts and the upload disappears from the list.

# %%
spare = wb.start_multipart(invoke_url, path)
wb.upload_parts(invoke_url, spare, limit=1, progress=False)
def in_progress():
    return [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]
print("in progress before abort:", spare.upload_id in in_progress())
wb.abort_multipart(invoke_url, spare)
print("in progress after abort: ", spare.upload_id in in_progress())

# %% [markdown]
# ## Try it · what S3 refuses
# **A part whose bytes changed after its checksum was signed:** S3 compares the body with the
# signed `x-amz-checksum-sha256` and answers `400 BadDigest`; nothing is stored.

# %%
import base64, hashlib, requests

probe = wb.start_multipart(invoke_url, path)
good = b"the bytes the client hashed" * 1000
claimed = base64.b64encode(hashlib.sha256(good).digest()).decode()
part = requests.post(f"{invoke_url}/uploads/{probe.upload_id}/parts",
                     json={"key": probe.key, "parts": [{"partNumber": 1, "checksumSHA256": claimed}]}
                     ).json()["parts"][0]
answer = requests.put(part["url"], data=b"X" + good[1:], headers=part["headers"])
print(answer.status_code, "BadDigest" in answer.text)
print("parts stored:", sorted(wb.uploaded_parts(invoke_url, probe)))
wb.abort_multipart(invoke_url, probe)

# %% [markdown]
# **A size limit enforced by S3 itself:** a presigned POST (the browser-form upload) carries a
# signed policy. This one allows 1 byte to 1 MiB under a prefix the server chose; S3 refuses a
# bigger file with `400 EntityTooLarge`, whatever the client claims.

# %%
small = wb.make_sample_file(os.path.join(tempfile.gettempdir(), "s3wb-note.txt"), 1000, seed=4)
print("1,000 bytes:", wb.post_file(wb.request_post_form(invoke_url, "note.txt"), small))
try:
    wb.post_file(wb.request_post_form(invoke_url, "too-big.bin"), path)
except wb.UploadRefused as refused:
    print(f"{os.path.getsize(path):,} bytes:", refused.status, refused.code)
print("too-big.bin stored:", any(k.endswith("/too-big.bin") for k in wb.list_keys(bucket, s3=s3)))

# %% [markdown]
# ### Threat model, briefly
# The API decides keys and part sizes, so clients cannot overwrite each other's objects or
# write outside `uploads/`; add an authorizer so that only your users can start uploads. Part
# URLs are bearer tokens for one part of one upload until they expire. A size declared at
# start is only advice: the presigned POST policy is how S3 itself enforces a limit (for
# multipart, check the completed object's size and delete it if too large). Unfinished uploads
# are aborted by the lifecycle rule, so abandoned parts do not accumulate costs.

# %% [markdown]
# ## Clean up

# %%
deleted = wb.clean_up(aws, prefix)
print(deleted)
print("left behind:", {kind: ids for kind, ids in wb.find_resources(aws, prefix).items() if ids})

# %% [markdown]
# ## Next steps
# [Option 3](04_cloudfront_lambda_edge.ipynb) puts CloudFront in front of S3, with a Lambda@Edge function checking callers.

# %% [markdown] tags=["nav-bottom"]
# **Next:** [04 CloudFront + Lambda@Edge](04_cloudfront_lambda_edge.ipynb)
#
# [← 02 Presigned URLs](02_presigned_urls.ipynb) · **03 Multipart uploads** · [04 CloudFront + Lambda@Edge →](04_cloudfront_lambda_edge.ipynb)
