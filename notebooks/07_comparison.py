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
#     title: Comparison
# ---

# %% [markdown] tags=["nav-top"]
# [← 06 Authenticating uploaders](06_authenticating_uploaders.ipynb) · **07 Comparison** · [08 Clean up →](08_clean_up.ipynb)

# %% [markdown]
# # 07 · The options side by side: limits, speed, cost
#
# ## Overview
# Notebooks 01 to 04 built each option step by step. Here each is built in one call and all of
# them get **the same files**, so you can see:
#
# - the **limits** each hits, live (option 1 refuses anything over 10 MB);
# - **latency and throughput**, measured and plotted;
# - what one upload **costs** on real AWS, from stated list prices;
# - **when to choose which**.
#
# | option | path of the bytes | largest upload |
# |---|---|---|
# | 1 · S3 proxy (01) | client → API Gateway → S3 | 10 MB |
# | 2 · presigned URL (02) | client → S3 (API Gateway + Lambda only sign) | 5 GB |
# | 2+ · multipart (03) | client → S3 in parts (the API signs each part) | 5 TiB |
# | 3 · CloudFront (04) | client → CloudFront (+ Lambda@Edge) → S3 | 5 GB |
#
# **Cost of running this notebook on real AWS:** well under one cent in requests (us-east-1
# list prices as of 2026-11), plus a CloudFront distribution that costs nothing while idle but
# takes minutes to deploy and to delete.
#
# **What the timings mean:** on the local AWS everything runs on this machine, so the numbers
# compare the *work* each path does (extra hops, signing, parts), not the internet. On real AWS
# they include your connection and the distance to the region or edge location.
#
# ## Prerequisites
# Notebooks 01 to 04 explain what is built here. Nothing else for `target = "local"`.

# %% [markdown]
# ## Parameters

# %% tags=["parameters"]
target = "local"        # "local": the workbook's local AWS; "aws": your account
endpoint_url = None     # local only: None means $WORKBOOK_ENDPOINT_URL or http://127.0.0.1:4566
region = "us-east-1"
name_prefix = None      # None: a fresh prefix like s3wb-k3v9q2
sizes_mib = [1, 8, 12]  # the files every option gets
repeats = 2             # uploads per option and size; the fastest counts
threads = 4             # multipart: parts in flight

# %% [markdown]
# ## Setup

# %%
import os, secrets, tempfile, time
import helpers as wb

aws = wb.connect(target, region=region, endpoint_url=endpoint_url)
prefix = wb.unique_prefix(name_prefix)
s3 = aws.client("s3")
print(f"target: {aws.name}, region: {aws.region}, prefix: {prefix}")

# %% [markdown]
# ## Step 1 · Build every option
# The `build_*` helpers make the same calls as notebooks 01 to 04, in order, each under its
# own prefix (so each gets its own bucket) and all tagged for clean-up. The multipart API uses
# 5 MiB parts, S3's minimum, so that these small files still travel in several parts.

# %%
prefixes = {"1 · S3 proxy": f"{prefix}-px", "2 · presigned URL": f"{prefix}-ps",
            "2+ · multipart": f"{prefix}-mp", "3 · CloudFront": f"{prefix}-cf"}
secret = secrets.token_urlsafe(24)  # for the edge function; never printed
proxy = wb.build_s3_proxy_api(aws, prefixes["1 · S3 proxy"])
presign = wb.build_presign_api(aws, prefixes["2 · presigned URL"])
multipart = wb.build_multipart_api(aws, prefixes["2+ · multipart"], part_size=5 * 1024 * 1024)
cdn = wb.build_cloudfront_upload(aws, prefixes["3 · CloudFront"], secret=secret)
print("CloudFront:", wb.wait_until_deployed(cdn.distribution.distribution_id, cf=aws.client("cloudfront")))
buckets = {"1 · S3 proxy": proxy.bucket, "2 · presigned URL": presign.bucket,
           "2+ · multipart": multipart.bucket, "3 · CloudFront": cdn.bucket}
buckets


# %% [markdown]
# ## Step 2 · One upload function per option
# Each returns the key the object got. The clock runs over the whole exchange a client would
# make: for option 2 the request for a URL *and* the upload; for multipart the start, the
# part URLs, the parts and the completion.

# %%
def via_proxy(path, name):
    wb.upload_file(proxy.upload_url(name), path, progress=False,
                   headers={"x-api-key": proxy.api_key, "Content-Type": "application/octet-stream"})
    return name

def via_presigned(path, name):
    grant = wb.request_upload_url(presign.grant_url(name), content_type="application/octet-stream")
    wb.upload_presigned(grant, path, progress=False)
    return grant["key"]

def via_multipart(path, name):
    return wb.multipart_upload(multipart.invoke_url, path, threads=threads, progress=False)["key"]

def via_cloudfront(path, name):
    wb.upload_file(f"{cdn.url}/{name}", path, headers={"Authorization": secret}, progress=False)
    return name

uploaders = {"1 · S3 proxy": via_proxy, "2 · presigned URL": via_presigned,
             "2+ · multipart": via_multipart, "3 · CloudFront": via_cloudfront}

# %% [markdown]
# ## Step 3 · The same files through every option
# Pseudo-random bytes (like a photo or a video: not text, not compressible).

# %%
files = {size: wb.make_sample_file(os.path.join(tempfile.gettempdir(), f"s3wb-compare-{size}mib.bin"),
                                   size * 1024 * 1024, seed=size) for size in sizes_mib}
results = []   # one row per option and size: outcome, key, best time
for option, upload in uploaders.items():
    for size, path in files.items():
        row = {"option": option, "size_mib": size, "outcome": "ok", "key": None, "seconds": None}
        for attempt in range(repeats):
            started = time.perf_counter()
            try:
                row["key"] = upload(path, f"file-{size}mib-{attempt}.bin")
            except wb.UploadRefused as refused:
                row["outcome"] = f"{refused.status} {refused.message}"[:60]
                break
            elapsed = time.perf_counter() - started
            row["seconds"] = min(elapsed, row["seconds"] or elapsed)
        results.append(row)
print(f"{'option':<18}" + "".join(f"{size:>7} MiB" for size in sizes_mib))
for option in uploaders:
    outcomes = [r["outcome"] for r in results if r["option"] == option]
    print(f"{option:<18}" + "".join(f"{o if o == 'ok' else o.split()[0]:>11}" for o in outcomes))

# %% [markdown]
# ## Try it · the limits, live
# Option 1 refused the file over 10 MB, with API Gateway's own answer; nothing reached S3.
# Options 2, 3 and multipart took it. Their limits are far beyond what a notebook should send
# (5 GB in one PUT; 5 TiB and 10,000 parts for multipart), but multipart has a lower limit
# that is easy to hit: **every part but the last must be at least 5 MiB**.

# %%
for row in results:
    if row["outcome"] != "ok":
        print(f"{row['option']}, {row['size_mib']} MiB: {row['outcome']}")

# %% [markdown]
# Multipart's minimum part size, tried directly with S3: two parts of 1 MiB are each accepted,
# but S3 refuses to complete the upload with `EntityTooSmall`.

# %%
key = "uploads/too-small-parts.bin"
started = s3.create_multipart_upload(Bucket=multipart.bucket, Key=key)
parts = []
for number in (1, 2):
    etag = s3.upload_part(Bucket=multipart.bucket, Key=key, UploadId=started["UploadId"],
                          PartNumber=number, Body=os.urandom(1024 * 1024))["ETag"]
    parts.append({"PartNumber": number, "ETag": etag})
try:
    s3.complete_multipart_upload(Bucket=multipart.bucket, Key=key, UploadId=started["UploadId"],
                                 MultipartUpload={"Parts": parts})
except s3.exceptions.ClientError as err:
    print(err.response["Error"]["Code"], "-", err.response["Error"]["Message"])
_ = s3.abort_multipart_upload(Bucket=multipart.bucket, Key=key, UploadId=started["UploadId"])

# %% [markdown]
# ## Verify
# Every upload that succeeded is in its option's bucket, byte for byte.

# %%
checked = [wb.object_sha256(buckets[r["option"]], r["key"], s3=s3) == wb.sha256_file(files[r["size_mib"]])
           for r in results if r["outcome"] == "ok"]
print(f"{len(checked)} uploads checked, all identical: {all(checked)}")

# %% [markdown]
# ## Latency and throughput
# The fastest of `repeats` runs per option and size. (These numbers change from run to run and
# machine to machine; the test suite does not compare them.)

# %% tags=["nbval-ignore-output"]
print(f"{'option':<18}{'MiB':>5}{'seconds':>10}{'MB/s':>9}")
for r in results:
    if r["seconds"] is not None:
        print(f"{r['option']:<18}{r['size_mib']:>5}{r['seconds']:>10.3f}"
              f"{r['size_mib'] * 1.048576 / r['seconds']:>9.1f}")

# %% tags=["nbval-ignore-output"]
import matplotlib.pyplot as plt

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for option in uploaders:
    rows = [r for r in results if r["option"] == option and r["seconds"] is not None]
    sizes = [r["size_mib"] for r in rows]
    left.plot(sizes, [r["seconds"] for r in rows], marker="o", label=option)
    right.plot(sizes, [r["size_mib"] * 1.048576 / r["seconds"] for r in rows], marker="o", label=option)
left.set(title="Time per upload", xlabel="file size (MiB)", ylabel="seconds")
right.set(title="Throughput", xlabel="file size (MiB)", ylabel="MB/s")
left.legend()
fig.suptitle(f"{'local AWS' if aws.is_local else 'AWS, ' + aws.region}: fastest of {repeats} runs")
plt.show()

# %% [markdown]
# What to look for: option 1 and option 3 are one request, so for small files they are the
# quickest; option 2 pays one extra round trip to ask for the URL (on real AWS, tens of
# milliseconds; more on a Lambda cold start). Multipart pays a round trip to start, one per
# batch of part URLs and one to complete, and wins back time on large files by sending parts
# in parallel: on a real network, that is where it pulls ahead.

# %% [markdown]
# ## Cost per upload on real AWS
# Request charges only, at **us-east-1 list prices as stated by AWS as of 2026-11** (no free
# tier; storage and data transfer *into* S3 or API Gateway are the same for every option, and
# free for transfer in). Prices change: check the AWS pricing pages before you decide.

# %%
for name, (price, unit, page) in wb.PRICES.items():
    print(f"${price:.10f}".rstrip("0") + f"  {unit}  ({page})")
print("prices as of", wb.PRICES_AS_OF)

# %% [markdown]
# Dollars per **million** uploads of each size (one upload is a millionth of that). Multipart
# with 8 MiB parts; functions assumed to run 100 ms (edge: 50 ms) at 128 MB.

# %%
options = {"1 · S3 proxy": "proxy", "2 · presigned URL": "presigned",
           "2+ · multipart": "multipart", "3 · CloudFront": "cloudfront"}
sizes = {"1 MiB": 2**20, "8 MiB": 8 * 2**20, "100 MiB": 100 * 2**20, "1 GiB": 2**30, "10 GiB": 10 * 2**30}
print(f"{'option':<18}" + "".join(f"{label:>12}" for label in sizes))
for label, option in options.items():
    cells = []
    for size in sizes.values():
        total = wb.upload_cost(option, size)["total"]
        cells.append("too big" if total is None else f"${total * 1e6:,.0f}")
    print(f"{label:<18}" + "".join(f"{cell:>12}" for cell in cells))

# %% [markdown]
# Per upload these are fractions of a cent: about $0.000009 for options 1 and 2. What grows
# with size is **CloudFront's transfer to the origin** ($0.02 per GB in the US and Europe): a
# 1 GiB upload through option 3 costs about two cents, through option 2 still under a
# thousandth of one. Multipart adds a request per part, and is the only way past 5 GB.
#
# ## When to choose which
# - **Option 1, API Gateway as an S3 proxy:** small files (under 10 MB), when you want one
#   endpoint with API keys and usage plans and no code at all. Simple, but the file passes
#   through API Gateway, and the limit is hard.
# - **Option 2, presigned URLs:** the default for most applications. Up to 5 GB, the bytes go
#   straight to S3, and your function decides who may upload what (key, content type, expiry).
#   Clients make two requests.
# - **Multipart with presigned part URLs:** large files (hundreds of MB and up, required over
#   5 GB), unreliable networks (resume), and speed (parallel parts). More client code; abort
#   or let a lifecycle rule clean unfinished uploads.
# - **Option 3, CloudFront with Lambda@Edge:** uploaders spread around the world (bytes enter
#   at the nearest edge), or when uploads must share a domain and checks with your CDN. It
#   costs more per GB, edge functions have strict limits (no environment variables, 5 s), and
#   every change takes minutes to deploy.
# - **From a web page** (notebook 05): every option works from a browser once CORS lets the
#   page's origin in, and each needs its own settings. Option 1 needs the API's `OPTIONS`
#   method only (the bytes go through API Gateway); option 2 and multipart also need a bucket
#   CORS rule (multipart one that exposes `ETag`, or the page cannot complete); option 3 needs
#   CloudFront to forward the CORS headers to S3 and an edge function that lets preflights
#   through. A presigned POST form needs no preflight at all.
#
# **Authenticating the uploader** (notebook 06), per option:
# - **Option 1:** an API key names an application, not a person. For users, put a Cognito user
#   pool authorizer (or a Lambda authorizer) on the `PUT` method; keep the key for usage plans.
# - **Option 2 and multipart:** a Cognito user pool authorizer on the signing API, and the
#   function builds keys from the verified `sub` (`uploads/{sub}/...`), so users cannot write
#   over each other. A Lambda authorizer when the decision needs your own data; mind its cache
#   (revocations take effect only after the TTL).
# - **Option 3:** there is no authorizer at the edge: the viewer-request function verifies the
#   pool's RS256 JWT itself (signature with the JWKS, `iss`, `aud`, `token_use`, `exp`), with the
#   pool id written into its code. It holds only public keys, unlike a shared secret.
#
# ### Threat model, briefly
# All four write into private buckets with identities that may only put objects. What differs
# is who decides: in option 1 anyone with the API key names any key; in options 2 and
# multipart your function chooses the key and signs a short-lived grant; in option 3 the edge
# function checks every request before it reaches S3. None of them limits the size of a
# single PUT below S3's own limit except option 1 (10 MB) and a presigned POST policy (03).

# %% [markdown]
# ## Clean up
# Each option's resources, prefix by prefix. One option's failure must not leave the others'
# resources running (an enabled distribution among them), so each is tried, and what stayed is
# printed: run the cell (or notebook 08) again later. On AWS this takes a while: API Gateway
# allows one DeleteRestApi every 30 seconds per account, and the helpers wait for it.

# %%
for option_prefix in prefixes.values():
    try:
        wb.clean_up(aws, option_prefix)
    except wb.CleanUpIncomplete as incomplete:
        print(f"{option_prefix}: not everything could be deleted yet:\n{incomplete}")
left = {p: {k: v for k, v in wb.find_resources(aws, p).items() if v} for p in prefixes.values()}
print("left behind:", {p: found for p, found in left.items() if found})

# %% [markdown]
# ## Next steps
# [08 Clean up](08_clean_up.ipynb) finds anything the workbook left behind, in the local AWS or
# in your account, and deletes it in order.

# %% [markdown] tags=["nav-bottom"]
# **Next:** [08 Clean up](08_clean_up.ipynb)
#
# [← 06 Authenticating uploaders](06_authenticating_uploaders.ipynb) · **07 Comparison** · [08 Clean up →](08_clean_up.ipynb)
