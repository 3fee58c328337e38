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
#     title: Uploading from a web page
# ---

# %% [markdown] tags=["nav-top"]
# [← 04 CloudFront + Lambda@Edge](04_cloudfront_lambda_edge.ipynb) · **05 Uploading from a web page** · [06 Authenticating uploaders →](06_authenticating_uploaders.ipynb)

# %% [markdown]
# # 05 · Uploading from a web page: CORS for every option
#
# ## Overview
# Notebooks 01 to 04 uploaded from Python. In production the caller is almost always a **web
# page**, and a browser adds a rule of its own, the **same-origin policy**: a page's script may
# read answers only from its own *origin* (scheme, host and port, here `http://127.0.0.1:8xxx`).
# The API, S3 and CloudFront are other origins. They can let the page in with **CORS**
# (cross-origin resource sharing) headers, and for any request that is not "simple" (a `PUT`,
# a header such as `Authorization` or `x-amz-checksum-sha256`, a JSON body) the browser first
# asks them with a **preflight**: an `OPTIONS` request that carries no body and no credentials,
# only the page's `Origin` and what the real request will use. No "yes", no request.
#
# ```mermaid
# sequenceDiagram
#     participant P as Page (origin http://127.0.0.1:8xxx)
#     participant B as Browser
#     participant S as S3 / API / CloudFront
#     P->>B: xhr.open("PUT", url), Content-Type: image/png
#     B->>S: OPTIONS url<br/>Origin: http://127.0.0.1:8xxx<br/>Access-Control-Request-Method: PUT<br/>Access-Control-Request-Headers: content-type
#     S-->>B: 200 Access-Control-Allow-Origin: http://127.0.0.1:8xxx<br/>Access-Control-Allow-Methods: PUT<br/>Access-Control-Allow-Headers: content-type
#     B->>S: PUT url (the file)
#     S-->>B: 200 ETag, Access-Control-Allow-Origin, Access-Control-Expose-Headers: ETag
#     B-->>P: status 200, ETag readable
#     Note over B,S: a refused preflight: the PUT is never sent, the page sees status 0<br/>and the reason is only in the browser's console
# ```
#
# Who answers which question, for the four ways the page uploads:
#
# | route | what the page sends | preflight answered by | setting (helper) |
# |---|---|---|---|
# | option 2, presigned PUT (02) | `GET /upload/x` to the API (simple: no preflight), then `PUT` to S3 with the signed `Content-Type` | S3 | the function adds `Access-Control-Allow-Origin` (`allow_origin_in_function`); a bucket CORS rule for `PUT` + `content-type` (`put_upload_cors`) |
# | presigned POST (03) | `POST` JSON to the API, then a form `POST` to S3 (simple) | the API's `OPTIONS` method | a MOCK `OPTIONS` method (`add_cors_preflight`); a bucket rule for `POST` so the page may read S3's answer |
# | multipart (03) | `POST` JSON to the API, `PUT` parts with `x-amz-checksum-sha256`, read each part's `ETag` | the API, then S3 | the same, and a bucket rule for `PUT` + `x-amz-checksum-sha256` that **exposes `ETag`** |
# | option 3, CloudFront (04) | `PUT` with `Authorization` and `Content-Type` | the edge function lets `OPTIONS` through, S3 answers | the origin request policy CORS-S3Origin (`forward_cors_headers`); a bucket rule for `PUT` + `authorization`, `content-type` |
#
# Every setting names the page's origin only, and only the methods and headers it sends.
#
# **Cost on real AWS:** CORS settings are free. Each preflight is one more request, billed like
# the others (an API Gateway call, an S3 request, a CloudFront request); `MaxAgeSeconds` lets
# the browser reuse an answer for that long. The back ends are notebooks 02 to 04's: about
# $10 per million uploads before storage and transfer, plus CloudFront's per-request price.
#
# ## Prerequisites
# Notebooks 02 to 04 explain the back ends built here. A browser, to use the page; the cells
# below check the same things without one (papermill runs them that way).

# %% [markdown]
# ## Parameters

# %% tags=["parameters"]
target = "local"        # "local": the workbook's local AWS; "aws": your account
endpoint_url = None     # local only: None means $WORKBOOK_ENDPOINT_URL or http://127.0.0.1:4566
region = "us-east-1"
name_prefix = None      # None: a fresh prefix like s3wb-k3v9q2
page_port = 0           # the page's port on 127.0.0.1 (0: any free port)

# %% [markdown]
# ## Setup

# %%
import base64
import hashlib
import os
import secrets
import tempfile

import requests

import helpers as wb

aws = wb.connect(target, region=region, endpoint_url=endpoint_url)
prefix = wb.unique_prefix(name_prefix)
s3, apigw, lam, cf = aws.client("s3"), aws.client("apigateway"), aws.client("lambda"), aws.client("cloudfront")
print(f"target: {aws.name}, region: {aws.region}, prefix: {prefix}")

# %% [markdown]
# ## Step 1 · The back ends
# The `build_*` helpers make notebooks 02, 03 and 04's calls in order, each under its own
# prefix (its own bucket), all tagged for clean-up. Nothing here allows a web page yet.

# %%
prefixes = {"presign": f"{prefix}-ps", "multipart": f"{prefix}-mp", "cloudfront": f"{prefix}-cf"}
secret = secrets.token_urlsafe(24)  # the edge function's shared secret; never printed
presign = wb.build_presign_api(aws, prefixes["presign"])
multipart = wb.build_multipart_api(aws, prefixes["multipart"], part_size=5 * 1024 * 1024)
cdn = wb.build_cloudfront_upload(aws, prefixes["cloudfront"], secret=secret)
print("CloudFront:", wb.wait_until_deployed(cdn.distribution.distribution_id, cf=cf))

# %% [markdown]
# ## Step 2 · Serve the page
# The page is two plain files in `page/` beside this notebook (`index.html`, `upload.js`: read
# them, there is no build step). A small HTTP server on 127.0.0.1 serves them, with
# `config.json`: where each route sends its requests. Its origin is what every CORS setting
# below names.

# %%
page = wb.serve_page({"presignApi": presign.invoke_url, "multipartApi": multipart.invoke_url,
                      "cloudfront": {"url": cdn.url, "authorization": secret}}, port=page_port)
origin = page.origin
print("the page:", page.url)

# %% [markdown]
# To follow the rest in a browser, open that address in another tab now and pick a file: each
# button fails until its settings are made below, then works. The cells check the same with
# the preflight a browser would send: `wb.preflight(url, origin=..., method=..., headers=...)`
# sends `OPTIONS` with `Origin` and `Access-Control-Request-*` and judges the answer as the
# browser does.

# %% [markdown]
# ## Option 2 · Presigned PUT
# Ask the API for a URL from the page's origin. This `GET` is a simple request, so there is no
# preflight, but the page may read the answer only if it says `Access-Control-Allow-Origin`:

# %%
grant_url = f"{presign.invoke_url}/upload/photo.png?contentType=image/png"
answer = requests.get(grant_url, headers={"Origin": origin}, timeout=30)
print(answer.status_code, "page may read it:", bool(wb.readable_headers(answer, origin)))

# %% [markdown]
# With a Lambda proxy integration the function's answer *is* the response: API Gateway adds no
# CORS header of its own, so the function must. `allow_origin_in_function` sets its
# `ALLOWED_ORIGIN` (read `helpers/functions/presign_upload.py`: one origin, never `*`).

# %%
wb.allow_origin_in_function(presign.function_name, origin, lam=lam)
answer = requests.get(grant_url, headers={"Origin": origin}, timeout=30)
grant = answer.json()
print(answer.status_code, "page may read it:", bool(wb.readable_headers(answer, origin)))

# %% [markdown]
# Now the upload itself, a `PUT` with the signed `Content-Type` to S3. **No CORS rule** on the
# bucket: S3 refuses the preflight, and Chrome's console says *"Response to preflight request
# doesn't pass access control check"*.

# %%
print(wb.preflight(grant["url"], origin=origin, method="PUT", headers=["content-type"]))

# %% [markdown]
# **A rule without the header:** `Content-Type` is signed into the URL, so the page must send
# it, and `image/png` is not one of the values a browser may send without asking.

# %%
wb.put_upload_cors(presign.bucket, origin=origin, methods=("PUT",), headers=(), expose=(), s3=s3)
print(wb.preflight(grant["url"], origin=origin, method="PUT", headers=["content-type"]))

# %% [markdown]
# **The cure:** the page's origin, `PUT`, and `content-type`. And a page of **another origin**
# is still refused:

# %%
rules = wb.put_upload_cors(presign.bucket, origin=origin, methods=("PUT",), headers=("content-type",),
                           expose=(), s3=s3)
print(wb.preflight(grant["url"], origin=origin, method="PUT", headers=["content-type"]))
print(wb.preflight(grant["url"], origin="https://evil.example", method="PUT", headers=["content-type"]))
rules

# %% [markdown]
# ## The upload API (presigned POST and multipart)
# The page posts JSON (`Content-Type: application/json` is not simple), so the browser sends a
# preflight to the API first. `/uploads` has only `POST`: the preflight meets no route, and API
# Gateway answers its `403 Missing Authentication Token`:

# %%
start_url = f"{multipart.invoke_url}/uploads"
parts_url = f"{multipart.invoke_url}/uploads/some-upload-id/parts"
print(wb.preflight(start_url, origin=origin, method="POST", headers=["content-type"]))

# %% [markdown]
# `/uploads/{proxy+}` has `ANY`, which includes `OPTIONS`: the preflight reaches the function,
# which knows no such route.

# %%
print(wb.preflight(parts_url, origin=origin, method="POST", headers=["content-type"]))

# %% [markdown]
# **The cure:** an `OPTIONS` method with a **MOCK integration** on both resources, what the
# console's "Enable CORS" creates. API Gateway answers it itself with static header values (the
# method response declares each header; the integration response sets it to a quoted literal),
# and an `OPTIONS` method takes precedence over `ANY`. The function adds the header to the
# other answers. A stage is a snapshot: deploy again.

# %%
resources = {r["path"]: r["id"] for r in apigw.get_resources(restApiId=multipart.api_id)["items"]}
wb.add_cors_preflight(multipart.api_id, resources["/uploads"], origin=origin, methods=("POST",),
                      apigw=apigw)
values = wb.add_cors_preflight(multipart.api_id, resources["/uploads/{proxy+}"], origin=origin,
                               methods=("POST", "DELETE"), apigw=apigw)
wb.allow_origin_in_function(multipart.function_name, origin, lam=lam)
_ = wb.deploy_stage(multipart.api_id, "v1", apigw=apigw, target=aws)
print(wb.preflight(start_url, origin=origin, method="POST", headers=["content-type"]))
print(wb.preflight(parts_url, origin=origin, method="POST", headers=["content-type"]))
values

# %% [markdown]
# The values are static: API Gateway does not compare them with the `Origin`. Another page gets
# the same answer, and its browser refuses it:

# %%
print(wb.preflight(start_url, origin="https://evil.example", method="POST", headers=["content-type"]))

# %% [markdown]
# ### Presigned POST
# A form `POST` to S3 is a simple request: no preflight, so S3 stores the file even without
# CORS, but the page cannot read the answer (did it work? which key?). A rule for `POST` lets it.
# Here, before any rule, from the page's origin:

# %%
form = wb.request_post_form(multipart.invoke_url, "form.bin")
sample = wb.make_sample_file(os.path.join(tempfile.gettempdir(), "s3wb-page-sample.bin"), 256 * 1024 + 7, seed=5)
with open(sample, "rb") as handle:
    answer = requests.post(form["url"], data=form["fields"], headers={"Origin": origin}, timeout=60,
                           files={"file": ("form.bin", handle, "application/octet-stream")})
print(answer.status_code, "page may read it:", bool(wb.readable_headers(answer, origin)))
print("in bucket:", form["fields"]["key"] in wb.list_keys(multipart.bucket, s3=s3))

# %% [markdown]
# ### Multipart: the part uploads need `ExposeHeaders: ETag`
# Each part is a `PUT` with its signed `x-amz-checksum-sha256`; completing the upload needs every
# part's `ETag`, read from the part's answer. A rule that allows the page but **does not expose
# `ETag`**: the part is stored, but its `ETag` is invisible to the page, so it can never complete.

# %%
wb.put_upload_cors(multipart.bucket, origin=origin, methods=("PUT", "POST"),
                   headers=("x-amz-checksum-sha256",), expose=(), s3=s3)
state = wb.start_multipart(multipart.invoke_url, sample)  # one part: the file is under 5 MiB
with open(sample, "rb") as handle:
    checksum = base64.b64encode(hashlib.sha256(handle.read()).digest()).decode()
signed = requests.post(f"{multipart.invoke_url}/uploads/{state.upload_id}/parts", timeout=30, json={
    "key": state.key, "parts": [{"partNumber": 1, "checksumSHA256": checksum}]}).json()
part = signed["parts"][0]
print(wb.preflight(part["url"], origin=origin, method="PUT", headers=list(part["headers"])))
with open(sample, "rb") as handle:
    answer = requests.put(part["url"], data=handle, headers={**part["headers"], "Origin": origin}, timeout=60)
print(answer.status_code, "ETag readable by the page:", "etag" in wb.readable_headers(answer, origin))

# %% [markdown]
# **The cure:** expose `ETag`. The same rule's `POST` lets the page read the form's answer too.

# %%
rules = wb.put_upload_cors(multipart.bucket, origin=origin, methods=("PUT", "POST"),
                           headers=("x-amz-checksum-sha256",), expose=("ETag",), s3=s3)
with open(sample, "rb") as handle:
    answer = requests.put(part["url"], data=handle, headers={**part["headers"], "Origin": origin}, timeout=60)
print(answer.status_code, "ETag readable by the page:", "etag" in wb.readable_headers(answer, origin))
wb.abort_multipart(multipart.invoke_url, state)
form = wb.request_post_form(multipart.invoke_url, "form.bin")
with open(sample, "rb") as handle:
    answer = requests.post(form["url"], data=form["fields"], headers={"Origin": origin}, timeout=60,
                           files={"file": ("form.bin", handle, "application/octet-stream")})
print("presigned POST:", answer.status_code, "page may read it:", bool(wb.readable_headers(answer, origin)))
rules

# %% [markdown]
# ## Option 3 · PUT through CloudFront
# The page sends `Authorization` (the edge function's credential) and `Content-Type`, so the
# browser asks CloudFront first. The viewer-request function of notebook 04 used to refuse the
# preflight (it carries no credential, ever); `helpers/functions/edge_auth.py` now lets
# `OPTIONS` through. It reaches S3, but CloudFront passes S3 none of the CORS request headers
# unless a policy says so: S3 sees an `OPTIONS` without `Origin`.

# %%
wb.put_upload_cors(cdn.bucket, origin=origin, methods=("PUT",), headers=("authorization", "content-type"),
                   expose=(), s3=s3)
cdn_url = f"{cdn.url}/uploads/photo.png"
print(wb.preflight(cdn_url, origin=origin, method="PUT", headers=["authorization", "content-type"]))

# %% [markdown]
# **The cure:** the managed origin request policy **CORS-S3Origin** (id
# `88a5eaf4-2fd4-4709-b370-b4c650ea3fcf`) forwards `Origin`, `Access-Control-Request-Method` and
# `Access-Control-Request-Headers`; S3 then answers from the bucket's rule. (A *response headers
# policy* can add CORS headers too, but it does not change the status: S3's `400` would still
# fail the preflight.) On AWS the change takes minutes to deploy.

# %%
wb.forward_cors_headers(cdn.distribution.distribution_id, cf=cf)
print("CloudFront:", wb.wait_until_deployed(cdn.distribution.distribution_id, cf=cf))
print(wb.preflight(cdn_url, origin=origin, method="PUT", headers=["authorization", "content-type"]))
print(wb.preflight(cdn_url, origin="https://evil.example", method="PUT", headers=["authorization", "content-type"]))

# %% [markdown]
# The check itself is unchanged: the real `PUT` still needs the secret.

# %%
with open(sample, "rb") as handle:
    answer = requests.put(cdn_url, data=handle, headers={"Origin": origin, "Content-Type": "image/png",
                                                           "Authorization": "a guess"}, timeout=60)
print(answer.status_code, answer.text)

# %% [markdown]
# ## Use the page
# Every route is allowed now. In a browser: open the page (the address printed in Step 2), pick
# a file, press each button. The progress bar follows the bytes (`XMLHttpRequest` reports
# upload progress; `fetch` does not); the table lists each object's key and the SHA-256 of what
# was sent. A file over 10 MiB shows the presigned POST's size limit (`400 EntityTooLarge`).
# Stop here if you want to try it: the next cells delete everything.
#
# Without a browser, the same requests from Python, with the page's `Origin` (each answer must
# let the page read it):

# %%
def readable(response):
    return bool(wb.readable_headers(response, origin))


grant = requests.get(f"{presign.invoke_url}/upload/page.bin?contentType=application/octet-stream",
                     headers={"Origin": origin}, timeout=30).json()
with open(sample, "rb") as handle:
    put = requests.put(grant["url"], data=handle, headers={**grant["headers"], "Origin": origin}, timeout=60)
with open(sample, "rb") as handle:
    through_cdn = requests.put(f"{cdn.url}/uploads/page.bin", data=handle, timeout=60, headers={
        "Origin": origin, "Content-Type": "application/octet-stream", "Authorization": secret})
print("option 2:", put.status_code, readable(put), "| option 3:", through_cdn.status_code, readable(through_cdn))
sent = wb.sha256_file(sample)
print("identical:", wb.object_sha256(presign.bucket, grant["key"], s3=s3) == sent,
      wb.object_sha256(cdn.bucket, "uploads/page.bin", s3=s3) == sent)

# %% [markdown]
# ### Threat model, briefly
# CORS protects *users*, not your bucket: it stops another site's page from using a visitor's
# browser against your API, but `curl` ignores it. What keeps uploads in check is still the
# presigned URL, the API's checks and the edge function. So: name your page's origin, never
# `*` on anything that hands out URLs; allow only the methods and headers the page sends; expose
# only what it reads (`ETag`); and keep `MaxAgeSeconds` modest, since browsers reuse an answer
# that long after you change the rule.

# %% [markdown]
# ## Clean up
# Stop the page, then delete each back end (the CORS rules, `OPTIONS` methods and policy
# attachment go with their bucket, API and distribution; CORS-S3Origin is AWS's own policy).

# %%
page.stop()
for option_prefix in prefixes.values():
    wb.clean_up(aws, option_prefix)
print("left behind:", {p: {k: v for k, v in wb.find_resources(aws, p).items() if v}
                       for p in prefixes.values() if any(wb.find_resources(aws, p).values())})

# %% [markdown]
# ## Next steps
# Anyone who can reach these APIs may still upload: notebook 06 lets only signed-in users ask
# for URLs. [07 Comparison](07_comparison.ipynb) puts the options side by side, and says when
# to choose which.

# %% [markdown] tags=["nav-bottom"]
# **Next:** [06 Authenticating uploaders](06_authenticating_uploaders.ipynb)
#
# [← 04 CloudFront + Lambda@Edge](04_cloudfront_lambda_edge.ipynb) · **05 Uploading from a web page** · [06 Authenticating uploaders →](06_authenticating_uploaders.ipynb)
