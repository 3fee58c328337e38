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
#     title: Clean up
# ---

# %% [markdown] tags=["nav-top"]
# [← 07 Comparison](07_comparison.ipynb) · **08 Clean up**

# %% [markdown]
# # 08 · Clean up everything the workbook created
#
# ## Overview
# Each notebook deletes what it made in its last cell. But a notebook stopped halfway, a
# kernel restarted, or a cell skipped leaves resources behind, and on real AWS some of them cost
# money while they exist (stored objects, parts of unfinished multipart uploads). This notebook
# finds **everything the workbook created**, by its tag `workbook=s3-upload-workbook`, in the
# local AWS or in your account and region; lists it (a dry run); then deletes it in an order AWS
# accepts:
#
# ```mermaid
# flowchart LR
#     D[CloudFront distributions<br/>disabled, deployed, deleted] --> K[usage plans, API keys]
#     K --> A[REST APIs] --> F[Lambda functions<br/>edge functions included] --> L[their log groups]
#     L --> O[origin identities] --> R[IAM roles<br/>policies first]
#     R --> B[buckets<br/>uploads aborted, emptied, deleted]
# ```
#
# Why this order: a distribution that uses an edge function, an origin identity or a bucket
# must go first (and must be disabled and deployed before it can be deleted); a role can be
# deleted only without policies; a bucket only when empty, and the parts of unfinished
# multipart uploads are not objects: they must be aborted.
#
# Nothing without the workbook's tag is touched. Origin identities take no tags: they are
# recognised by their comment (`s3-upload-workbook <prefix>`). The CORS settings of notebook 05
# go with what they belong to: a bucket's CORS rules with the bucket, an API's `OPTIONS`
# methods with the API, a distribution's origin request policy attachment with the
# distribution (CORS-S3Origin itself is AWS's managed policy: nothing to delete).
#
# **Threat model, briefly:** the tags decide what is deleted, and anyone allowed to tag
# resources in the account could tag something `workbook=s3-upload-workbook`. On a shared
# account, look at the dry-run list first, or clean up one run with `prefix`.
#
# **Cost:** none; deleting stops charges. Lambda@Edge functions can be deleted only once
# CloudFront has removed their replicas, some time after their distribution is gone (typically
# within a few hours on AWS, seconds on the local AWS): the clean-up tries them again after
# everything else, with growing waits for two minutes, then reports those not deleted yet;
# run this notebook again later.
#
# ## Prerequisites
# None. Run it at any time, as often as you like.

# %% [markdown]
# ## Parameters
# `prefix = None` cleans up every prefix (all the workbook made); a prefix like `s3wb-k3v9q2`
# only that notebook run. `dry_run = True` lists and deletes nothing.

# %% tags=["parameters"]
target = "local"        # "local": the workbook's local AWS; "aws": your account
endpoint_url = None     # local only: None means $WORKBOOK_ENDPOINT_URL or http://127.0.0.1:4566
region = "us-east-1"    # the region to clean (edge functions are looked for in us-east-1 too)
name_prefix = None      # unused here: this notebook creates nothing
prefix = None           # None: everything tagged by the workbook; or one run's prefix
dry_run = False         # True: only list what would be deleted

# %% [markdown]
# ## Setup

# %%
import helpers as wb

aws = wb.connect(target, region=region, endpoint_url=endpoint_url)
print(f"target: {aws.name}, region: {aws.region}, prefix: {prefix or 'all of the workbook'}")

# %% [markdown]
# ## Step 1 · Find (the dry run)
# `find_resources` lists distributions, usage plans, API keys, REST APIs, functions (in this
# region and us-east-1), their log groups, origin identities and controls, roles and buckets
# carrying the workbook's tags (and the prefix, if given). It changes nothing.

# %% tags=["nbval-ignore-output"]
found = wb.find_resources(aws, prefix)
for kind, ids in found.items():
    if ids:
        print(f"{kind} ({len(ids)}):")
        for ident in ids:
            print("   ", ident)
print("total:", sum(len(ids) for ids in found.values()))

# %% [markdown]
# Buckets can hold more than they show: object versions, and the parts of multipart uploads
# never completed (billed like objects, invisible in a listing of keys).

# %% tags=["nbval-ignore-output"]
s3 = aws.client("s3")
for bucket in found["buckets"]:
    print(bucket, wb.bucket_contents(bucket, s3=s3))

# %% [markdown]
# ## Step 2 · Delete, in order
# `delete_resources` deletes what Step 1 listed, and nothing else. A failure does not stop it:
# it goes on with the rest and then raises `CleanUpIncomplete`, naming what stayed and why.

# %% tags=["nbval-ignore-output"]
if dry_run:
    print("dry run: nothing deleted")
else:
    try:
        deleted = wb.delete_resources(aws, found)
    except wb.CleanUpIncomplete as incomplete:
        deleted = incomplete.counts
        print(incomplete)
    print("deleted:", {kind: n for kind, n in deleted.items() if n})

# %% [markdown]
# ## Verify
# Search again. After a real run nothing tagged by the workbook is left (after a dry run,
# everything still is).

# %%
left = {kind: ids for kind, ids in wb.find_resources(aws, prefix).items() if ids}
print("left behind:", left)

# %% [markdown]
# ## Next steps
# That is the workbook. To run it on your own account, set `target = "aws"` in
# [00 Setup](00_setup.ipynb) first: it checks your credentials and permissions. The README
# lists the IAM policy the workbook needs, and how to use the AWS CLI against the local AWS.

# %% [markdown] tags=["nav-bottom"]
# **The end of the workbook.** Back to the start: [00 Setup](00_setup.ipynb)
#
# [← 07 Comparison](07_comparison.ipynb) · **08 Clean up**
