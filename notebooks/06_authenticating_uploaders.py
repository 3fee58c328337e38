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
#     title: Authenticating uploaders
# ---

# %% [markdown] tags=["nav-top"]
# [← 05 Uploading from a web page](05_web_page.ipynb) · **06 Authenticating uploaders** · [07 Comparison →](07_comparison.ipynb)

# %% [markdown]
# # 06 · Authenticating uploaders: Cognito, authorizers and JWTs at the edge
#
# ## Overview
# Each option so far ended with "add some form of authentication". An API key (notebook 01)
# identifies an *application*, not a person; a shared secret at the edge (notebook 04) is one
# password for everyone. A real application signs its **users** in and checks who they are on
# every request. Here:
#
# 1. an **Amazon Cognito user pool** (the user directory) and an app client; a learner signs up
#    and signs in, and gets an **ID token** and an **access token** (JWTs signed with RS256);
# 2. option 2's presign API behind a **Cognito user pool authorizer**: API Gateway verifies the
#    token and passes its claims to the function, which signs keys under that user's own prefix
#    `uploads/{sub}/...`, so one user cannot overwrite another's files;
# 3. the same API behind a **Lambda authorizer** (`TOKEN`): your function decides, returns an IAM
#    policy and a context, and API Gateway caches the answer;
# 4. option 3's **edge function checking the same token** with the pool's public keys (JWKS),
#    in front of S3 through CloudFront as in notebook 04.
#
# ```mermaid
# sequenceDiagram
#     participant U as User (browser)
#     participant C as Cognito user pool
#     participant G as API Gateway (authorizer)
#     participant L as Lambda (presign)
#     participant S as S3
#     U->>C: InitiateAuth (user name, password)
#     C-->>U: ID token, access token (RS256 JWTs)
#     U->>G: GET /upload/cat.jpg, Authorization: ID token
#     G->>G: verify signature (pool's JWKS), iss, exp
#     G->>L: event with requestContext.authorizer.claims
#     L-->>U: presigned PUT for uploads/{sub}/cat.jpg
#     U->>S: PUT the file
# ```
#
# **Cost on real AWS** (us-east-1 list prices as stated by AWS in 2026-11): Cognito user pools
# are free for the first 10,000 monthly active users (Lite tier); authorizers cost nothing beyond
# the API call and, for a Lambda authorizer, the function's invocations (fewer with caching).
# Step 6's distribution and edge function cost what notebook 04's do.
#
# ## Prerequisites
# Notebooks 02 (the presign API) and 04 (CloudFront). For `target = "aws"`: permissions to manage
# Cognito user pools, S3, IAM, Lambda, API Gateway and CloudFront in `region` (and Lambda in
# us-east-1, where edge functions live).

# %% [markdown]
# ## Parameters

# %% tags=["parameters"]
target = "local"        # "local": the workbook's local AWS; "aws": your account
endpoint_url = None     # local only: None means $WORKBOOK_ENDPOINT_URL or http://127.0.0.1:4566
region = "us-east-1"
name_prefix = None      # None: a fresh prefix like s3wb-k3v9q2
upload_path = None      # a file to upload; None shows a file picker (papermill sets a path)
show_curl = True        # also print the curl command that makes the same upload
authorizer_ttl_seconds = 10  # how long API Gateway caches a Lambda authorizer's answer

# %% [markdown]
# ## Setup

# %%
import helpers as wb

aws = wb.connect(target, region=region, endpoint_url=endpoint_url)
prefix = wb.unique_prefix(name_prefix)
s3, iam, lam = aws.client("s3"), aws.client("iam"), aws.client("lambda")
apigw, idp = aws.client("apigateway"), aws.client("cognito-idp")
account = aws.client("sts").get_caller_identity()["Account"]
print(f"target: {aws.name}, region: {aws.region}, prefix: {prefix}")

# %% [markdown]
# ## Step 1 · A user pool and an app client
# The pool holds the users and signs their tokens with its own RSA key pair. The app client is
# what your web page or app signs in through; it has no client secret, because code running in a
# browser cannot keep one. Passwords: at least 12 characters with upper and lower case and digits.

# %%
pool = wb.create_user_pool(f"{prefix}-users", idp=idp, prefix=prefix)
client_id = wb.create_app_client(pool["pool_id"], idp=idp)
pool_id = pool["pool_id"]
print("pool name:", pool["name"], "| id starts with the region:", pool_id.startswith(aws.region + "_"))

# %% [markdown]
# ## Step 2 · Sign a learner up and in
# `SignUp` is what the app calls (no AWS credentials needed); a real pool then emails a code,
# which we skip by confirming the user as an administrator. `InitiateAuth` with
# `USER_PASSWORD_AUTH` returns three tokens. (Production apps prefer SRP, which never sends the
# password itself; the tokens are the same.)

# %%
password = wb.new_password()
learner_sub = wb.sign_up_user(pool_id, client_id, "learner", password, idp=idp)
tokens = wb.sign_in(client_id, "learner", password, idp=idp)
print(sorted(tokens))
id_token = tokens["IdToken"]

# %% [markdown]
# ## Step 3 · What is in a token
# A JWT is three base64url parts: a header, the claims, and a signature over both. Anyone can
# *read* it (decoding is not verifying). The header's `kid` names the pool key that signed it;
# `iss` is the pool, `aud` the app client, `token_use` says ID or access token, `exp` when it
# stops being valid (one hour here), `sub` the user's permanent id.

# %%
import time

header, claims = wb.decode_token(id_token)
print("header:", {k: header[k] for k in ("alg",)}, "| kid present:", bool(header.get("kid")))
print("iss is this pool:", claims["iss"] == wb.issuer(pool_id, aws.region))
print("aud is the app client:", claims["aud"] == client_id, "| token_use:", claims["token_use"])
print("sub is the learner:", claims["sub"] == learner_sub, "| user name:", claims["cognito:username"])
print("valid for about", round((claims["exp"] - time.time()) / 60), "minutes")
_, access_claims = wb.decode_token(tokens["AccessToken"])
print("access token: token_use", access_claims["token_use"], "| scope:", access_claims.get("scope"))

# %% [markdown]
# The public keys are published at the pool's JWKS URL; the `kid` picks one.

# %%
import requests

jwks = requests.get(wb.jwks_url(pool_id, target=aws), timeout=10).json()
print([(k["kty"], k["alg"], k["kid"] == header["kid"]) for k in jwks["keys"]])

# %% [markdown]
# ## Step 4 · Option 2 behind a Cognito user pool authorizer
# A bucket, and the presign function of notebook 02 changed in one place: the key. It reads the
# caller's `sub` from `requestContext.authorizer.claims`, which API Gateway fills in only after it
# has verified the token, and signs `uploads/{sub}/{name}`.

# %%
from IPython.display import Markdown

bucket = wb.create_upload_bucket(f"{prefix}-uploads", s3=s3, prefix=prefix)["bucket"]
fn = wb.create_user_presign_function(prefix, bucket=bucket, target=aws)
Markdown("```python\n" + wb.function_source("presign_user_upload") + "\n```")

# %% [markdown]
# The API: `GET /upload/{object}` with the authorizer in front. The authorizer takes the token
# from the `Authorization` header and accepts tokens of the pools it names (`providerARNs`).

# %%
api = wb.create_rest_api(f"{prefix}-users", apigw=apigw, prefix=prefix, binary_media_types=())
api_id = api["api_id"]
upload_id = wb.add_resource(api_id, api["root_id"], "upload", apigw=apigw)
object_id = wb.add_resource(api_id, upload_id, "{object}", apigw=apigw)
cognito_authorizer = wb.create_cognito_authorizer(api_id, pool["pool_arn"], apigw=apigw)
wb.add_authorized_method(api_id, object_id, apigw=apigw, kind="COGNITO_USER_POOLS",
                         authorizer_id=cognito_authorizer)
wb.add_lambda_proxy(api_id, object_id, apigw=apigw, function_arn=fn["function_arn"], region=aws.region)
wb.allow_api_gateway(fn["function_name"], api_id=api_id, region=aws.region, account=account,
                     lam=lam, method="GET", path="upload/*")
invoke_url = wb.deploy_stage(api_id, "v1", apigw=apigw, target=aws)["invoke_url"]
print(invoke_url)

# %% [markdown]
# ## Choose a file

# %% tags=["nbval-ignore-output"]
picker = wb.show_picker(upload_path, "Choose a file")
picker

# %%
import mimetypes, os, tempfile

sample = wb.make_sample_file(os.path.join(tempfile.gettempdir(), "s3wb-sample-2mib.bin"),
                             2 * 1024 * 1024, seed=6)
path = wb.choose_file(upload_path, picker, fallback=sample)
name = os.path.basename(path)
content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
print(f"{name}: {os.path.getsize(path):,} bytes, {content_type}")

# %% [markdown]
# ## Upload as the learner
# The ID token goes in the `Authorization` header, as it is (no `Bearer`).

# %% tags=["nbval-ignore-output"]
grant = wb.request_upload_url(f"{invoke_url}/upload/{name}", content_type=content_type,
                              headers={"Authorization": id_token})
result = wb.upload_presigned(grant, path)

# %%
print("key is under the learner's own prefix:", grant["key"] == f"uploads/{learner_sub}/{name}")
print(result.status, f"{result.bytes_sent:,} bytes sent")
if show_curl:
    print(wb.curl_command(grant["url"], name, headers=grant["headers"]))

# %% [markdown]
# ## Verify

# %%
stored = wb.object_sha256(bucket, grant["key"], s3=s3)
print("identical:", stored == wb.sha256_file(path))

# %% [markdown]
# ## Try it · what the authorizer refuses
# Each refusal comes from API Gateway itself: the function is never called.
# **No token**, **not a JWT**, **a tampered token** (the claims changed, the signature no longer
# matches), **a token of another pool** (signed by another key, another `iss`): all `401`.

# %%
import base64, json

def ask(token):
    headers = {} if token is None else {"Authorization": token}
    try:
        wb.request_upload_url(f"{invoke_url}/upload/{name}", content_type=content_type, headers=headers)
        return "200 granted"
    except wb.UploadRefused as refused:
        return f"{refused.status} {refused.message}"

head, body, signature = id_token.split(".")
forged_claims = {**claims, "sub": "someone-else"}
forged = base64.urlsafe_b64encode(json.dumps(forged_claims).encode()).decode().rstrip("=")
tampered = f"{head}.{forged}.{signature}"

other_pool = wb.create_user_pool(f"{prefix}-others", idp=idp, prefix=prefix)
other_client = wb.create_app_client(other_pool["pool_id"], idp=idp)
wb.sign_up_user(other_pool["pool_id"], other_client, "stranger", password, idp=idp)
foreign = wb.sign_in(other_client, "stranger", password, idp=idp)["IdToken"]

for label, token in [("no token", None), ("not a JWT", "hello"), ("tampered", tampered),
                     ("another pool's token", foreign), ("the learner's token", id_token)]:
    print(f"{label:22} -> {ask(token)}")

# %% [markdown]
# **An expired token** is refused the same way (`401`). Tokens live at least five minutes, so
# rather than wait we ask the check the edge function uses (below) what it makes of this token
# an hour and a minute from now.

# %%
check = wb.local_token_check(pool_id, client_id, target=aws)  # edge_cognito.py, run here
print("now:", check.verify(id_token)["sub"] == learner_sub)
try:
    check.verify(id_token, now=claims["exp"] + 60)
except ValueError as why:
    print("in 61 minutes:", why)

# %% [markdown]
# **Writing outside one's prefix:** the key comes from the verified `sub`, not from the request,
# so a name like `../<someone>/x` is refused, and a URL signed for the learner's key cannot write
# another key (`403 SignatureDoesNotMatch` from S3).

# %%
try:
    wb.request_upload_url(f"{invoke_url}/upload/..%2Fother%2Fx.bin", content_type=content_type,
                          headers={"Authorization": id_token})
except wb.UploadRefused as refused:
    print(refused.status, refused.message)
other_url = grant["url"].replace(f"uploads/{learner_sub}/", "uploads/someone-else/")
try:
    wb.upload_presigned({**grant, "url": other_url}, path, progress=False)
except wb.UploadRefused as refused:
    print(refused.status, refused.code)

# %% [markdown]
# ## Step 5 · A Lambda authorizer instead
# When the decision needs your own logic (a blocklist, a tenant, a database), a **Lambda
# authorizer** decides. A `TOKEN` authorizer gets one header's value and the method's ARN and
# answers with a principal, an IAM policy and a context. This one checks the same Cognito token
# (with the edge function's code, packaged beside it) and denies users on a blocklist. Its
# answer is cached for `authorizer_ttl_seconds`, keyed on the token.

# %%
Markdown("```python\n" + wb.function_source("token_authorizer") + "\n```")

# %%
authorizer_fn = wb.create_token_authorizer_function(prefix, pool_id=pool_id, client_id=client_id,
                                                    target=aws, blocked_users=("stranger",))
token_authorizer = wb.create_lambda_authorizer(
    api_id, authorizer_fn["function_arn"], apigw=apigw, lam=lam, region=aws.region,
    account=account, kind="TOKEN", ttl_seconds=authorizer_ttl_seconds,
    validation=r"^Bearer [-0-9A-Za-z_]+\.[-0-9A-Za-z_]+\.[-0-9A-Za-z_]+$")
lambda_id = wb.add_resource(api_id, api["root_id"], "lambda-upload", apigw=apigw)
lambda_object_id = wb.add_resource(api_id, lambda_id, "{object}", apigw=apigw)
wb.add_authorized_method(api_id, lambda_object_id, apigw=apigw, kind="CUSTOM",
                         authorizer_id=token_authorizer)
wb.add_lambda_proxy(api_id, lambda_object_id, apigw=apigw, function_arn=fn["function_arn"],
                    region=aws.region)
wb.allow_api_gateway(fn["function_name"], api_id=api_id, region=aws.region, account=account,
                     lam=lam, method="GET", path="lambda-upload/*")
invoke_url = wb.deploy_stage(api_id, "v1", apigw=apigw, target=aws)["invoke_url"]

# %% [markdown]
# The learner is allowed; the key is again under their `sub` (here the function reads the
# authorizer's `principalId`). The stranger of the other pool is refused by the token check
# (`401`); a blocked user of *this* pool would get `403` with AWS's explicit-deny message.

# %%
def ask_lambda(token, object_name=name):
    try:
        answer = wb.request_upload_url(f"{invoke_url}/lambda-upload/{object_name}",
                                       content_type=content_type,
                                       headers={"Authorization": f"Bearer {token}"})
        return "200 key under own prefix: " + str(answer["key"].startswith(f"uploads/{learner_sub}/"))
    except wb.UploadRefused as refused:
        return f"{refused.status} {refused.message}"

print("learner :", ask_lambda(id_token))
print("stranger:", ask_lambda(foreign))

# %%
blocked_password = wb.new_password()
wb.sign_up_user(pool_id, client_id, "stranger", blocked_password, idp=idp)
blocked = wb.sign_in(client_id, "stranger", blocked_password, idp=idp)["IdToken"]
print("blocked :", ask_lambda(blocked))

# %% [markdown]
# **Caching and revocation.** Within the TTL API Gateway does not call the authorizer again for
# the same token. Block the learner now (a new version of the function's code) and ask again at
# once: still allowed, from the cache. After the TTL the authorizer runs again and denies. A
# token you revoke, or a user you disable, keeps access for up to the TTL: short TTLs limit that
# window, 0 turns caching off (one authorizer call per request). The policy must also cover
# *every* method the token may call (here every `GET` of the stage), because a cached policy is
# applied to the next request's method too.

# %%
fresh = wb.sign_in(client_id, "learner", password, idp=idp)["IdToken"]  # a new token: a new cache entry
cached_at = time.monotonic()
print("before blocking          :", ask_lambda(fresh))
wb.block_users(authorizer_fn["function_name"], ("stranger", "learner"), pool_id=pool_id,
               client_id=client_id, target=aws)
print("blocked, within the TTL  :", ask_lambda(fresh))
time.sleep(max(0.0, authorizer_ttl_seconds + 1 - (time.monotonic() - cached_at)))
print("blocked, after the TTL   :", ask_lambda(fresh))

# %% [markdown]
# A **`REQUEST` authorizer** gets the whole request (headers, query string, path, stage
# variables, context) instead of one header, and its cache key is every identity source. Here the
# identity sources are the `Authorization` header and the `contentType` query parameter: a
# request without either is refused with `401` before the function is called.

# %%
request_authorizer = wb.create_lambda_authorizer(
    api_id, authorizer_fn["function_arn"], apigw=apigw, lam=lam, region=aws.region,
    account=account, kind="REQUEST", name="requests", ttl_seconds=0,
    identity_source="method.request.header.Authorization, method.request.querystring.contentType")
request_id = wb.add_resource(api_id, api["root_id"], "request-upload", apigw=apigw)
request_object_id = wb.add_resource(api_id, request_id, "{object}", apigw=apigw)
wb.add_authorized_method(api_id, request_object_id, apigw=apigw, kind="CUSTOM",
                         authorizer_id=request_authorizer)
wb.add_lambda_proxy(api_id, request_object_id, apigw=apigw, function_arn=fn["function_arn"],
                    region=aws.region)
wb.allow_api_gateway(fn["function_name"], api_id=api_id, region=aws.region, account=account,
                     lam=lam, method="GET", path="request-upload/*")
wb.block_users(authorizer_fn["function_name"], ("stranger",), pool_id=pool_id,
               client_id=client_id, target=aws)
invoke_url = wb.deploy_stage(api_id, "v1", apigw=apigw, target=aws)["invoke_url"]

for label, query in [("with contentType   ", {"contentType": content_type}), ("without contentType", {})]:
    response = requests.get(f"{invoke_url}/request-upload/{name}", params=query,
                            headers={"Authorization": f"Bearer {id_token}"}, timeout=30)
    print(label, "->", response.status_code, response.json().get("key", "").startswith(f"uploads/{learner_sub}/")
          if response.ok else response.text)

# %% tags=["nbval-ignore-output"]
for line in wb.recent_log_lines(authorizer_fn["function_name"], logs=aws.client("logs"), limit=12):
    print(line)

# %% [markdown]
# ## Step 6 · Option 3: the same token checked at the edge
# A Lambda@Edge function has no environment variables, so the pool id, Region, app client and
# JWKS URL are written into its code. It fetches the JWKS once per execution environment,
# verifies RS256 with plain integer arithmetic (no compiled library to package for Lambda's
# Linux), and lets a user write only under `/uploads/{sub}/`.

# %%
Markdown("```python\n" + wb.function_source("edge_cognito") + "\n```")

# %% [markdown]
# Put it in front of this notebook's bucket as notebook 04 does, in one call: an origin access
# control, a bucket policy letting only this distribution put objects, and the function on
# viewer requests.

# %%
site = wb.build_cloudfront_upload(aws, prefix, module="edge_cognito", bucket=bucket,
                                  substitutions=wb.cognito_substitutions(pool_id, client_id, target=aws))
print("status:", wb.wait_until_deployed(site.distribution.distribution_id, cf=aws.client("cloudfront")))

# %% [markdown]
# Upload through CloudFront with the ID token (`Authorization: Bearer <token>`) to a key under
# the learner's own prefix, and check the object in the bucket.

# %%
def at_edge(key, token):
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    try:
        return wb.upload_file(f"{site.url}/{key}", path, headers=headers, progress=False).status
    except wb.UploadRefused as refused:
        return f"{refused.status} {refused.message}"

own = f"uploads/{learner_sub}/via-cloudfront/{name}"
print("learner, own prefix   :", at_edge(own, id_token))
print("identical through CloudFront:", wb.object_sha256(bucket, own, s3=s3) == wb.sha256_file(path))

# %% [markdown]
# The refusals come from the function itself: the request never reaches S3.

# %%
print("learner, other prefix :", at_edge(f"uploads/someone-else/{name}", id_token))
print("no token              :", at_edge(own, None))
print("tampered              :", at_edge(own, tampered))
print("another pool's token  :", at_edge(own, foreign))
print("under someone-else/   :", [k for k in wb.list_keys(bucket, s3=s3) if "someone-else" in k])

# %% [markdown]
# The function's log says why it refused each one (edge logs arrive late: this polls), and
# never holds the token.

# %%
for line in wb.tail_function_logs(site.function_name, target=aws, edge=True, contains="refused",
                                  expect=4):
    print(line)

# %% [markdown]
# ### Threat model, briefly
# Tokens are bearer credentials: whoever holds one is the user until `exp`, so keep them out of
# logs and URLs, and keep their lifetime short (refresh tokens get new ones). The authorizers
# verify signature, issuer and expiry; the *function* decides what a verified user may do (here:
# only their own prefix). A Lambda authorizer's cache trades calls for revocation delay. At the
# edge, pin the algorithm (RS256), the issuer and the app client; the function holds only public
# keys, so leaking its code reveals nothing. Cognito's own rate limits and advanced security
# features (compromised-credential checks, MFA) are outside this notebook.

# %% [markdown]
# ## Clean up
# The clean-up finds everything by name and tag: the user pools with their users, the API and
# functions, the distribution (disabled, then deleted), the origin access control and the bucket,
# and last the edge function, once CloudFront has removed its replicas (seconds here, hours on
# AWS: then run it again later, see notebook 04).

# %%
try:
    deleted = wb.clean_up(aws, prefix)
except wb.CleanUpIncomplete as incomplete:  # on AWS: the edge function, for a few hours
    deleted = incomplete.counts
    print(incomplete)
print({kind: n for kind, n in deleted.items() if n})
print("left behind:", {kind: ids for kind, ids in wb.find_resources(aws, prefix).items() if ids})

# %% [markdown] tags=["nav-bottom"]
# **Next:** [07 Comparison](07_comparison.ipynb)
#
# [← 05 Uploading from a web page](05_web_page.ipynb) · **06 Authenticating uploaders** · [07 Comparison →](07_comparison.ipynb)
