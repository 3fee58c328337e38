"""Notebook 05's page in a real browser: JupyterLab runs the notebook (Debian's chromium driven
by Playwright, as tests/test_browser.py), and a second tab uses the page it serves.

The notebook runs up to "Use the page" (every CORS setting made); the second tab opens the page
the notebook printed, picks a generated file and uploads it through each of the four routes
(presigned PUT, presigned POST, multipart with parts in parallel, PUT through CloudFront); each
object's SHA-256 is checked with boto3 and a screenshot of the page is kept after each upload.
Then each mistake the notebook shows is made again with boto3 and the page fails as a browser
does, storing nothing: no bucket CORS rule, ETag not exposed (multipart cannot complete and is
aborted), the API's answers for another origin, CloudFront without the CORS-S3Origin policy.
Finally the notebook's clean-up cells run and nothing is left.

Judged as on AWS: S3 User Guide "Using cross-origin resource sharing (CORS)"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html); API Gateway "Enabling CORS
for a REST API resource" (https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-cors.html);
CloudFront "Use managed origin request policies"
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-origin-request-policies.html).
Screenshots go to ``$WORKBOOK_ARTIFACTS`` or ``tests/artifacts/``, in ``browser/``.
"""
import hashlib
import os
import pathlib
import re
import time
import uuid

import pytest
import requests

import helpers as wb
from test_browser import (ARTIFACTS, TOKEN, browser, chromium, lab,  # noqa: F401 (fixtures)
                          bucket_objects, notebook_copy, notebook_cells, output_text, select, menu,
                          wait_ran)

NOTEBOOK = "05_web_page.ipynb"
SIZE = 11 * 1024 * 1024 + 13  # three 5 MiB parts; over the presigned POST's 10 MiB limit
POST_SIZE = 3 * 1024 * 1024 + 5  # under it
# route -> the back end (bucket) it stores into
ROUTES = {"presigned": "ps", "post": "mp", "multipart": "mp", "cloudfront": "cf"}


def incomplete_uploads(aws, prefix):
    s3 = aws("s3")
    return [u["Key"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith(prefix)
            for u in s3.list_multipart_uploads(Bucket=b["Name"]).get("Uploads", [])]


def upload(tab, route, path):
    """Pick ``path`` and press the route's button; returns the new row of the results table."""
    rows = tab.locator("#results tr")
    before = rows.count()
    tab.set_input_files("#file", str(path))
    tab.click(f"#route-{route}")
    tab.wait_for_function("(n) => document.querySelectorAll('#results tr').length > n", arg=before,
                          timeout=120_000)
    row = rows.nth(before)
    cells = [row.locator("td").nth(i).inner_text() for i in range(5)]
    return {"state": row.get_attribute("data-state"), "key": cells[2], "bytes": int(cells[3]), "sha256": cells[4]}


def test_the_page_uploads_through_each_route_and_fails_as_the_notebook_says(browser, lab, local_aws, aws,  # noqa: F811
                                                                          tmp_path):
    prefix = f"br05-{uuid.uuid4().hex[:6]}"
    nb = notebook_copy(NOTEBOOK, lab["root"], endpoint_url=local_aws.endpoint_url, prefix=prefix)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    served = next(i for i in code if "wb.serve_page(" in nb.cells[i].source)
    use = next(i for i in code if "def readable(" in nb.cells[i].source)
    big = pathlib.Path(wb.make_sample_file(tmp_path / "holiday-video.bin", SIZE, seed=51))
    small = pathlib.Path(wb.make_sample_file(tmp_path / "scan.pdf", POST_SIZE, seed=52))
    os.makedirs(ARTIFACTS, exist_ok=True)
    shots = os.path.join(ARTIFACTS, "05_web_page-{}.png")
    for stale in os.listdir(ARTIFACTS):
        if stale.startswith("05_web_page-"):
            os.remove(os.path.join(ARTIFACTS, stale))
    lab_tab = browser.new_page()
    page_tab = None
    times, started = {}, time.monotonic()
    try:
        lab_tab.goto(f"{lab['base']}/lab/tree/{NOTEBOOK}?token={TOKEN}&reset")
        notebook_cells(lab_tab, len(nb.cells))
        select(lab_tab, use)
        menu(lab_tab, "Run", "Run All Above Selected Cell")
        wait_ran(lab_tab, [i for i in code if i < use], "cells up to Use the page")
        times["notebook ran"] = time.monotonic() - started
        url = re.search(r"the page: (http://127\.0\.0\.1:\d+/)", output_text(lab_tab, served)).group(1)

        # The second tab: the page, another origin than the API, S3 and CloudFront.
        page_tab = browser.new_page()
        console = []
        page_tab.on("console", lambda message: console.append(message.text))
        page_tab.goto(url)
        page_tab.wait_for_selector('#status[data-state="ready"]')
        assert page_tab.inner_text("#origin") == url.rstrip("/")
        digests = {big.name: wb.sha256_file(big), small.name: wb.sha256_file(small)}
        s3 = aws("s3")
        for route in ROUTES:
            path = small if route == "post" else big
            row = upload(page_tab, route, path)
            assert row["state"] == "done", (route, row)
            assert row["sha256"] == digests[path.name] and row["bytes"] == path.stat().st_size
            stored = [(b, k) for (b, k) in bucket_objects(aws, prefix)
                      if k == row["key"] and b == f"{prefix}-{ROUTES[route]}-uploads"]
            assert len(stored) == 1, (route, row, bucket_objects(aws, prefix))
            body = s3.get_object(Bucket=stored[0][0], Key=stored[0][1])["Body"].read()
            assert hashlib.sha256(body).hexdigest() == digests[path.name], route
            page_tab.screenshot(path=shots.format(route), full_page=True)
            times[route] = time.monotonic() - started
        # The presigned POST's policy limits the size: the page shows S3's refusal.
        too_big = upload(page_tab, "post", big)
        assert too_big["state"] == "failed" and "400 EntityTooLarge" in too_big["key"]
        assert incomplete_uploads(aws, prefix) == []

        # The mistakes, made again with boto3; the page fails and nothing is stored.
        stacks = {p: f"{prefix}-{p}" for p in ("ps", "mp", "cf")}
        buckets = {p: f"{name}-uploads" for p, name in stacks.items()}
        lam, cf = aws("lambda"), aws("cloudfront")
        before = set(bucket_objects(aws, prefix))
        refused = pathlib.Path(wb.make_sample_file(tmp_path / "refused.bin", 6 * 1024 * 1024 + 1, seed=53))

        s3.delete_bucket_cors(Bucket=buckets["ps"])                                  # no CORS rule
        row = upload(page_tab, "presigned", refused)
        assert row["state"] == "failed" and "the browser refused the presigned PUT" in row["key"]
        # What the developer sees in the console: Chromium's own words for a refused preflight.
        blocked = [t for t in console if "has been blocked by CORS policy" in t]
        assert any("Response to preflight request doesn't pass access control check" in t for t in blocked), console

        rules = s3.get_bucket_cors(Bucket=buckets["mp"])["CORSRules"]
        s3.put_bucket_cors(Bucket=buckets["mp"], CORSConfiguration={"CORSRules": [        # ETag not exposed
            {k: v for k, v in rules[0].items() if k != "ExposeHeaders"}]})
        row = upload(page_tab, "multipart", refused)
        assert row["state"] == "failed" and "its ETag is not readable" in row["key"], row
        assert incomplete_uploads(aws, prefix) == []  # the page aborted the upload

        function = f"{stacks['mp']}-multipart"                                       # another origin
        wb.allow_origin_in_function(function, "https://app.example.com", lam=lam)
        row = upload(page_tab, "post", small)
        assert row["state"] == "failed" and "the browser refused POST" in row["key"], row

        dist_id = next(d["Id"] for d in cf.list_distributions()["DistributionList"]["Items"]
                       if d["Comment"].endswith(stacks["cf"]))
        wb.forward_cors_headers(dist_id, cf=cf, policy_id="")                        # no CORS-S3Origin
        row = upload(page_tab, "cloudfront", refused)
        assert row["state"] == "failed" and "the browser refused the PUT through CloudFront" in row["key"]

        assert set(bucket_objects(aws, prefix)) == before, "a refused upload stored something"
        page_tab.screenshot(path=shots.format("refusals"), full_page=True)
        times["refusals"] = time.monotonic() - started

        # The notebook's own check of the same routes, then its clean-up.
        page_tab.close()
        page_tab = None
        select(lab_tab, use)
        menu(lab_tab, "Run", "Run Selected Cell and All Below")
        wait_ran(lab_tab, [i for i in code if i >= use], "the rest of the notebook")
        assert "left behind: {}" in output_text(lab_tab, code[-1])
        target = wb.connect("local", endpoint_url=local_aws.endpoint_url, start=False)
        for name in stacks.values():
            assert not any(wb.find_resources(target, name).values())
        with pytest.raises(requests.ConnectionError):
            requests.get(url, timeout=2)  # the page's server stopped
    except BaseException:
        for tab, label in ((lab_tab, "lab"), (page_tab, "page")):
            if tab is not None:
                try:
                    tab.screenshot(path=shots.format(f"{label}-failed"), full_page=True)
                except Exception as error:  # keep the test's own failure
                    print(f"no failure screenshot: {error}")
        raise
    finally:
        times["done"] = time.monotonic() - started
        print(f"{NOTEBOOK} (s): " + ", ".join(f"{k} {v:.1f}" for k, v in times.items()))
        if page_tab is not None:
            page_tab.close()
        lab_tab.close()
        for session in requests.get(f"{lab['base']}/api/sessions", params={"token": TOKEN}).json():
            requests.delete(f"{lab['base']}/api/sessions/{session['id']}", params={"token": TOKEN})
