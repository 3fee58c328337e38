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
#     title: CloudFront + Lambda@Edge
# ---

# %% [markdown] tags=["nav-top"]
# [← 03 Multipart uploads](03_multipart_uploads.ipynb) · **04 CloudFront + Lambda@Edge** · [05 Uploading from a web page →](05_web_page.ipynb)

# %% [markdown]
# # 04 · Upload through CloudFront, with Lambda@Edge checking callers
#
# ## Overview
# Instead of API Gateway, a **CloudFront distribution** fronts the bucket. Viewers `PUT` files
# to the distribution; a **viewer-request Lambda@Edge function** decides who may; CloudFront
# then writes to S3 as an **origin identity** that the bucket policy allows to put objects and
# nothing else, so uploads go in and nothing can be read back out through CloudFront.
#
# ```mermaid
# flowchart LR
#     V[Viewer] -- "PUT /report.pdf<br/>Authorization" --> E[CloudFront edge]
#     E -- viewer-request --> F[Lambda@Edge<br/>us-east-1, version N]
#     F -- "request (allowed)<br/>or 401" --> E
#     E -- "PutObject, signed by CloudFront (OAC)" --> S[(S3 bucket<br/>policy: PutObject only)]
# ```
#
# **Why:** uploads enter at the edge location nearest the viewer, up to 5 GB per PUT (S3's
# limit), with no API Gateway 10 MB limit, and your own check before anything reaches S3.
#
# **Lambda@Edge rules learners trip over** (CloudFront refuses the association otherwise): the
# function lives in **us-east-1**; you associate a **numbered version**, never `$LATEST`;
# **no environment variables**; viewer triggers get at most **5 s and 128 MB**; its role must
# trust both `lambda.amazonaws.com` and `edgelambda.amazonaws.com`. On AWS, deleting the
# function waits until CloudFront has removed its replicas: hours after the distribution.
#
# **Cost on real AWS** (as stated by AWS in 2026-11): Lambda@Edge $0.60 per million requests
# plus $0.00005001 per GB-second; CloudFront requests from $0.01 per 10,000 HTTPS requests, and
# data transfer in to CloudFront is free; S3 PUT $0.005 per 1,000. A distribution costs nothing
# while idle, but takes minutes to deploy and to delete.

# %% [markdown]
# ## Parameters

# %% tags=["parameters"]
target = "local"        # "local": the workbook's local AWS; "aws": your account
endpoint_url = None     # local only: None means $WORKBOOK_ENDPOINT_URL or http://127.0.0.1:4566
region = "us-east-1"    # the bucket's region (the edge function is always in us-east-1)
name_prefix = None      # None: a fresh prefix like s3wb-k3v9q2
upload_path = None      # a file to upload; None shows a file picker (papermill sets a path)
show_curl = True        # also print the curl command that makes the same upload

# %% [markdown]
# ## Setup
# If a later cell stops with `LocalAWSError: the local AWS ... is not answering`, the local AWS
# was stopped or restarted and everything it held is gone: start it again (`make lab`, or this
# cell starts it) and run the notebook again from the top.

# %%
import secrets
import helpers as wb

aws = wb.connect(target, region=region, endpoint_url=endpoint_url)
prefix = wb.unique_prefix(name_prefix)
s3, cf = aws.client("s3"), aws.client("cloudfront")
edge_lam = aws.client("lambda", region="us-east-1")
# The shared secret callers must send. Generated here, never printed.
secret = secrets.token_urlsafe(24)
print(f"target: {aws.name}, region: {aws.region}, prefix: {prefix}")

# %% [markdown]
# ## Step 1 · A private bucket

# %%
bucket = wb.create_upload_bucket(f"{prefix}-uploads", s3=s3, prefix=prefix)["bucket"]
bucket

# %% [markdown]
# ## Step 2 · An origin access control
# With an **origin access control (OAC)**, CloudFront signs every request it forwards to S3
# (SigV4) as the service `cloudfront.amazonaws.com`. It is AWS's advice for new distributions;
# the older *origin access identity* (OAI) is shown at the end, with the extra header it needs
# for uploads. The bucket policy comes in step 4: it names the distribution, which does not
# exist yet.

# %%
oac_id = wb.create_origin_access_control(prefix, cf=cf)
cf.get_origin_access_control(Id=oac_id)["OriginAccessControl"]["OriginAccessControlConfig"]["SigningBehavior"]

# %% [markdown]
# ## Step 3 · The edge function
# Read it first. It reads the header the way CloudFront shapes it (a *list* of
# `{key, value}` entries), compares in constant time, answers 401 with `WWW-Authenticate`, and
# logs decisions without ever logging the secret. Lambda@Edge has no environment variables, so
# the secret is written into the code when it is packaged: whoever can read the function can
# read the secret. The JWT variant below avoids holding a long-lived password.

# %%
from IPython.display import Markdown
Markdown("```python\n" + wb.function_source("edge_auth") + "\n```")

# %% [markdown]
# `create_edge_function` creates the role (trusted by both Lambda services), the function in
# us-east-1 with viewer limits (5 s, 128 MB), and publishes version 1, the ARN CloudFront needs.

# %%
edge = wb.create_edge_function(f"{prefix}-edge", module="edge_auth", target=aws, prefix=prefix,
                               substitutions={"__SHARED_SECRET__": secret})
print(edge["version_arn"].split(":function:")[1])

# %% [markdown]
# CloudFront checks the association's rules. Associating `$LATEST` is the classic mistake:

# %%
latest = edge["function_arn"] + ":$LATEST"
try:
    cf.create_distribution(DistributionConfig=wb.distribution_config(
        prefix, bucket=bucket, region=aws.region, oac_id=oac_id, edge_version_arn=latest))
except cf.exceptions.ClientError as err:
    print(err.response["Error"]["Code"])
    print(err.response["Error"]["Message"].split(" ARN:")[0])

# %% [markdown]
# ## Step 4 · The distribution, and the bucket policy that trusts it
# S3 origin through the OAC, **all methods allowed** (the default allows only GET and HEAD:
# PUT would get 403), caching disabled, HTTPS only, and the function on viewer requests. Each
# change to a distribution is `InProgress` until it has reached every edge location (minutes on
# AWS), then `Deployed`; `wait_until_deployed` polls for that, as botocore's
# `distribution_deployed` waiter does, with shorter pauses.

# %%
config = wb.distribution_config(prefix, bucket=bucket, region=aws.region, oac_id=oac_id,
                                edge_version_arn=edge["version_arn"])
dist = wb.create_upload_distribution(config, target=aws, prefix=prefix)
print("status:", wb.wait_until_deployed(dist.distribution_id, cf=cf))
print(dist.url.replace(dist.distribution_id, "DISTRIBUTION_ID"))

# %% [markdown]
# The bucket policy allows `s3:PutObject`, nothing else, to the CloudFront service, and only
# for requests from **this** distribution (`AWS:SourceArn`): another distribution, even in the
# same account, gets 403. (The article this workbook follows changes the console's default
# `s3:GetObject` to `s3:PutObject` for exactly this reason.)

# %%
policy = wb.oac_put_only_policy(bucket, dist.arn)
wb.put_bucket_policy(bucket, policy, s3=s3)
statement = policy["Statement"][0]
print(statement["Principal"], statement["Action"])
print(statement["Condition"]["StringEquals"]["AWS:SourceArn"].replace(dist.distribution_id, "DISTRIBUTION_ID"))

# %% [markdown]
# ## Choose a file
# Without a pick, a generated 3 MiB sample is uploaded.

# %% tags=["nbval-ignore-output"]
picker = wb.show_picker(upload_path, "Choose a file")
picker

# %%
import os, tempfile

sample = wb.make_sample_file(os.path.join(tempfile.gettempdir(), "s3wb-sample-3mib.bin"),
                             3 * 1024 * 1024, seed=7)
path = wb.choose_file(upload_path, picker, fallback=sample)
name = os.path.basename(path)
print(f"{name}: {os.path.getsize(path):,} bytes")


# %% [markdown]
# ## Upload: without the header, with a wrong one, with the right one

# %%
def try_upload(key, authorization=None, progress=False):
    headers = {"Authorization": authorization} if authorization else {}
    try:
        result = wb.upload_file(f"{dist.url}/{key}", path, headers=headers, progress=progress)
        return result.status
    except wb.UploadRefused as refused:
        return f"{refused.status} {refused.message}"

print("no header:   ", try_upload(name))
print("wrong secret:", try_upload(name, "not-the-secret"))
print("in bucket:   ", wb.list_keys(bucket, s3=s3))

# %% tags=["nbval-ignore-output"]
status = try_upload(name, secret, progress=True)

# %%
print("right secret:", status)
print("identical:", wb.object_sha256(bucket, name, s3=s3) == wb.sha256_file(path))
if show_curl:  # the secret stays a shell variable: AUTHORIZATION
    command = wb.curl_command(f"{dist.url}/{name}", name, headers={"Authorization": secret})
    print(command.replace(dist.distribution_id, "DISTRIBUTION_ID"))

# %% [markdown]
# ## Reading back through CloudFront is refused
# The grant is put-only. A GET reaches S3 signed by CloudFront and S3 answers 403, even with the
# secret.

# %%
import requests

answer = requests.get(f"{dist.url}/{name}", headers={"Authorization": secret})
print(answer.status_code, "AccessDenied" in answer.text)

# %% [markdown]
# ## The function's logs
# Lambda@Edge logs to `/aws/lambda/us-east-1.<function>` in the region nearest the viewer (the
# `us-east-1.` prefix stays whatever the region), and late: CloudFront delivers edge logs on a
# best-effort basis, seconds to minutes after the request. `tail_function_logs(..., edge=True)`
# reads that group in every region, like `aws logs tail`, and polls until the lines it expects
# are there. Two refusals, no secret:

# %%
for line in wb.tail_function_logs(edge["function_name"], target=aws, edge=True, contains="refused",
                                  expect=2):
    print(line.replace("127.0.0.1", "CLIENT_IP"))

# %% [markdown]
# ## Try it · a tempting bug
# Headers arrive as `{"authorization": [{"key": "Authorization", "value": "..."}]}`. Code that
# compares `headers["authorization"]` to a string compares a *list* to a string: never equal.
# If the function then forwards the request anyway (here in both branches), **any**
# Authorization header gets in. Deploy that version, watch it happen, then fix it by
# redeploying the correct one.

# %%
buggy = '''
def handler(event, context):
    request = event["Records"][0]["cf"]["request"]
    headers = request["headers"]
    if "authorization" not in headers:
        return {"status": "401", "body": "Unauthorized"}
    if headers["authorization"] == "my-secret-key":   # a list is never equal to a string
        return request
    return request                                     # ...and everyone else gets in too
'''
import textwrap
# package_source zips the file readable by others (0644), as Lambda needs: zipfile's own
# writestr("edge_auth.py", ...) would give 0600, and on AWS the function could not import it.
package = wb.package_source({"edge_auth.py": textwrap.dedent(buggy)})
edge_lam.update_function_code(FunctionName=edge["function_name"], ZipFile=package)
edge_lam.get_waiter("function_updated_v2").wait(FunctionName=edge["function_name"])
buggy_arn = wb.publish_version(edge["function_name"], lam=edge_lam)

def use_version(arn):
    def change(config):
        config["DefaultCacheBehavior"]["LambdaFunctionAssociations"]["Items"][0]["LambdaFunctionARN"] = arn
    wb.update_distribution(dist.distribution_id, change, cf=cf)
    wb.wait_until_deployed(dist.distribution_id, cf=cf)

use_version(buggy_arn)
print("buggy, any header:", try_upload("intruder.bin", "anything at all"))
use_version(edge["version_arn"])
print("fixed, any header:", try_upload("intruder2.bin", "anything at all"))

# %% [markdown]
# ## The JWT variant
# A token says who the caller is, what they may do and until when, signed with a key. The
# function verifies the signature, the expiry and the scope, with PyJWT packaged into the zip,
# and an allow-list of algorithms (never let the token pick: `none` must fail). Here HS256 with
# a key this notebook creates; in production prefer RS256, so the function holds only a public
# key.

# %%
Markdown("```python\n" + wb.function_source("edge_jwt") + "\n```")

# %%
import time, jwt

jwt_key = secrets.token_urlsafe(32)
jwt_edge = wb.create_edge_function(f"{prefix}-jwt", module="edge_jwt", target=aws, prefix=prefix,
                                   substitutions={"__JWT_KEY__": jwt_key}, packages=("jwt",))
use_version(jwt_edge["version_arn"])

def bearer(**claims):
    claims = {"sub": "learner", "scope": "upload", "exp": int(time.time()) + 300, **claims}
    return "Bearer " + jwt.encode(claims, jwt_key, algorithm="HS256")

print("valid token:  ", try_upload("jwt.bin", bearer()))
print("expired token:", try_upload("jwt-old.bin", bearer(exp=int(time.time()) - 60)))
print("no scope:     ", try_upload("jwt-read.bin", bearer(scope="read")))
unsigned = jwt.encode({"sub": "x", "scope": "upload", "exp": int(time.time()) + 60}, None, algorithm="none")
print("alg none:     ", try_upload("jwt-none.bin", "Bearer " + unsigned))
print("in bucket:", sorted(k for k in wb.list_keys(bucket, s3=s3) if k.startswith("jwt")))

# %% [markdown]
# ## The legacy variant: an origin access identity (OAI)
# Before OACs, an **origin access identity** was the principal S3 saw, and the article this
# workbook follows uses one. It still works for reads, but for uploads it has a catch: CloudFront
# signs the request to S3 with SigV4 (buckets created since June 2020 accept nothing else) yet
# cannot hash the body for that signature. So **the viewer** must send the body's SHA-256 in an
# `x-amz-content-sha256` header, or S3 answers `400 InvalidRequest`; and POST is not supported at
# all. Switch the distribution's origin to an OAI and see. (A new OAI takes a few seconds to
# reach S3: until then a bucket policy naming it is `MalformedPolicy` "Invalid principal in
# policy", which `put_bucket_policy` waits out.)

# %%
oai = wb.create_origin_access_identity(prefix, cf=cf)
wb.put_bucket_policy(bucket, wb.oai_put_only_policy(bucket, oai["oai_id"]), s3=s3)

def use_oai(config):
    origin = config["Origins"]["Items"][0]
    origin["OriginAccessControlId"] = ""
    origin["S3OriginConfig"]["OriginAccessIdentity"] = f"origin-access-identity/cloudfront/{oai['oai_id']}"
wb.update_distribution(dist.distribution_id, use_oai, cf=cf)
print("status:", wb.wait_until_deployed(dist.distribution_id, cf=cf))

def try_oai_upload(key, headers):
    try:
        return wb.upload_file(f"{dist.url}/{key}", path, headers=headers, progress=False).status
    except wb.UploadRefused as refused:
        return f"{refused.status} {refused.code}: {refused.message}"

# (the JWT function from the section above still guards the distribution)
print("without the hash:", try_oai_upload("oai.bin", {"Authorization": bearer()}))
print("with the hash:   ", try_oai_upload("oai.bin", {"Authorization": bearer(), **wb.oai_upload_headers(path)}))

# %% [markdown]
# ### Threat model, briefly
# The origin identity can only put objects: a bug in the function or a leaked secret cannot
# expose stored files through CloudFront. Anyone with the secret (or a valid token) can write
# any key, and overwrite: put the caller's identity in the key, or have the function rewrite
# the URI to a server-chosen path. The shared secret lives in the function's code (no
# environment variables at the edge), so treat code access as secret access and rotate by
# publishing a new version; tokens expire by themselves. The function compares in constant
# time and never logs credentials. PUT bodies are not limited below S3's 5 GB here.

# %% [markdown]
# ## Clean up
# The order matters: the distribution must be disabled, deployed (`InProgress` until then:
# deleting it earlier is refused), then deleted; only then can the origin identity and the
# functions go. An edge function can be deleted only once CloudFront has removed its replicas,
# some time after its last distribution is gone (typically within a few hours on AWS, seconds
# on the local AWS): Lambda refuses with "... because it is a replicated function".
# `clean_up` deletes everything else first, then tries the edge functions again with growing
# waits for two minutes, saying so, and finally names any that stayed. Run it again later
# then, or [08 Clean up](08_clean_up.ipynb), or `wb.delete_edge_function(name, target=aws,
# patience=...)`.

# %%
try:
    deleted = wb.clean_up(aws, prefix)
except wb.CleanUpIncomplete as incomplete:  # on AWS: the edge functions, for a few hours
    deleted = incomplete.counts
    print(incomplete)
print({kind: n for kind, n in deleted.items() if n})
print("left behind:", {kind: ids for kind, ids in wb.find_resources(aws, prefix).items() if ids})

# %% [markdown]
# ## Next steps
# Compare the three options on the same files, and clean up everything the workbook made, in
# the comparison and clean-up notebooks.

# %% [markdown] tags=["nav-bottom"]
# **Next:** [05 Uploading from a web page](05_web_page.ipynb)
#
# [← 03 Multipart uploads](03_multipart_uploads.ipynb) · **04 CloudFront + Lambda@Edge** · [05 Uploading from a web page →](05_web_page.ipynb)
