"""A real browser uploading straight to the local S3 from a page of another origin, as a web app
does with presigned URLs: Debian's chromium driven by Playwright (as tests/test_browser.py; never
`playwright install`).

The page is served by a small http.server on 127.0.0.1 (its own port, so another origin than
the local AWS); it uploads with fetch() to a presigned PUT URL, a presigned POST and presigned
UploadPart URLs, and reports the status, the ETag it can read, and the SHA-256 of what it sent.
Judged as on AWS (S3 User Guide "Using cross-origin resource sharing (CORS)",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html, and "Troubleshooting CORS",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors-troubleshooting.html):
- without a CORS configuration the browser's preflight is refused: PUT and part uploads never
  leave the page and nothing is stored. A form POST is a "simple" request (no preflight): the
  browser sends it and S3 stores the object, but the page may not read the answer;
- with a rule for the page's origin the uploads work; the ETag (which the page needs to complete
  a multipart upload) is readable only when the rule's ExposeHeaders lists it;
- with a rule for another origin it is as without CORS.
"""
import hashlib
import http.server
import os
import threading

import pytest

from .clientfiles import bucket, make_s3  # noqa: F401 (fixtures)

CHROMIUM = os.environ.get("WORKBOOK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--no-default-browser-check",
    "--metrics-recording-only", "--password-store=basic", "--use-mock-keychain",
]
MiB = 1024 * 1024
PAGE = b"<!doctype html><meta charset=utf-8><title>uploader</title><p>uploads go straight to S3</p>"

# In the page: random bytes, their SHA-256, and fetch() results (a TypeError when the browser
# refuses the cross-origin request).
SCRIPT = """
async ({kind, url, size, fields, partUrls, partSize}) => {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(data.subarray(i, Math.min(size, i + 65536)));
  const digest = await crypto.subtle.digest("SHA-256", data);
  const sha = [...new Uint8Array(digest)].map(b => b.toString(16).padStart(2, "0")).join("");
  try {
    if (kind === "put") {
      const r = await fetch(url, {method: "PUT", body: data, headers: {"Content-Type": "application/octet-stream"}});
      return {sha, status: r.status, etag: r.headers.get("ETag")};
    }
    if (kind === "post") {
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      form.append("file", new Blob([data]), "from-browser.bin");
      const r = await fetch(url, {method: "POST", body: form});
      return {sha, status: r.status, etag: r.headers.get("ETag")};
    }
    const etags = [];
    for (let i = 0; i < partUrls.length; i++) {
      const r = await fetch(partUrls[i], {method: "PUT", body: data.subarray(i * partSize, (i + 1) * partSize)});
      if (r.status !== 200) return {sha, status: r.status};
      etags.push(r.headers.get("ETag"));
    }
    return {sha, status: 200, etags};
  } catch (error) {
    return {sha, error: error.name};
  }
}
"""


@pytest.fixture(scope="module")
def browser():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"This test needs Debian's chromium at {CHROMIUM}: `sh tools/ensure_chromium.sh` "
                    "(or `apt-get install chromium`), or $WORKBOOK_CHROMIUM. Never `playwright install`.",
                    pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def site():
    """The web app's origin: http://127.0.0.1:<its own port>."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser, site):
    context = browser.new_context()
    opened = context.new_page()
    opened.goto(site + "/")
    yield opened
    context.close()


@pytest.fixture
def bucket(aws, name):
    aws("s3").create_bucket(Bucket=name)
    return name


def configure(aws, bucket, cors, site):
    rules = {
        "none": None,
        "exposed": [{"AllowedOrigins": [site], "AllowedMethods": ["PUT", "POST"], "AllowedHeaders": ["*"],
                     "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 0}],
        "not-exposed": [{"AllowedOrigins": [site], "AllowedMethods": ["PUT", "POST"], "AllowedHeaders": ["*"]}],
        "other-origin": [{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["PUT", "POST"],
                          "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"]}],
    }[cors]
    if rules:
        aws("s3").put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})


def stored(aws, bucket, key):
    s3 = aws("s3")
    if not s3.list_objects_v2(Bucket=bucket, Prefix=key).get("Contents"):
        return None
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


@pytest.mark.parametrize("cors", ["none", "exposed", "not-exposed", "other-origin"])
def test_presigned_put_from_another_origin(aws, bucket, page, site, cors):
    configure(aws, bucket, cors, site)
    url = aws("s3").generate_presigned_url("put_object", Params={
        "Bucket": bucket, "Key": "put.bin", "ContentType": "application/octet-stream"})  # signed, as sent
    result = page.evaluate(SCRIPT, {"kind": "put", "url": url, "size": MiB + 3, "fields": {},
                                    "partUrls": [], "partSize": 0})
    data = stored(aws, bucket, "put.bin")
    if cors in ("none", "other-origin"):
        assert result.get("error") == "TypeError", result  # the preflight was refused
        assert data is None
        return
    assert result["status"] == 200, result
    assert hashlib.sha256(data).hexdigest() == result["sha"]
    expected = f'"{hashlib.md5(data).hexdigest()}"' if cors == "exposed" else None
    assert result["etag"] == expected


@pytest.mark.parametrize("cors", ["none", "exposed", "not-exposed", "other-origin"])
def test_presigned_post_from_another_origin(aws, bucket, page, site, cors):
    configure(aws, bucket, cors, site)
    post = aws("s3").generate_presigned_post(bucket, "post.bin")
    result = page.evaluate(SCRIPT, {"kind": "post", "url": post["url"], "size": 256 * 1024 + 1,
                                    "fields": post["fields"], "partUrls": [], "partSize": 0})
    data = stored(aws, bucket, "post.bin")
    # A form POST needs no preflight: S3 stores the object whatever CORS says, as on AWS.
    assert data is not None and hashlib.sha256(data).hexdigest() == result["sha"]
    if cors in ("none", "other-origin"):
        assert result.get("error") == "TypeError", result  # the page may not read the answer
        return
    assert result["status"] == 204, result
    assert result["etag"] == (f'"{hashlib.md5(data).hexdigest()}"' if cors == "exposed" else None)


@pytest.mark.parametrize("cors", ["none", "exposed", "not-exposed", "other-origin"])
def test_presigned_part_urls_from_another_origin(aws, bucket, page, site, cors):
    """The page uploads the parts and must read each part's ETag to complete the upload."""
    configure(aws, bucket, cors, site)
    s3 = aws("s3")
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="parts.bin")["UploadId"]
    urls = [s3.generate_presigned_url("upload_part", Params={"Bucket": bucket, "Key": "parts.bin",
                                                             "UploadId": upload_id, "PartNumber": n})
            for n in (1, 2)]
    result = page.evaluate(SCRIPT, {"kind": "parts", "url": "", "size": 5 * MiB + 1024, "fields": {},
                                    "partUrls": urls, "partSize": 5 * MiB})
    uploaded = s3.list_parts(Bucket=bucket, Key="parts.bin", UploadId=upload_id).get("Parts", [])
    if cors in ("none", "other-origin"):
        assert result.get("error") == "TypeError", result
        assert uploaded == []
        s3.abort_multipart_upload(Bucket=bucket, Key="parts.bin", UploadId=upload_id)
        return
    assert result["status"] == 200 and len(uploaded) == 2, result
    if cors == "not-exposed":
        assert result["etags"] == [None, None]  # the page cannot complete the upload
        s3.abort_multipart_upload(Bucket=bucket, Key="parts.bin", UploadId=upload_id)
        return
    assert result["etags"] == [part["ETag"] for part in uploaded]
    s3.complete_multipart_upload(Bucket=bucket, Key="parts.bin", UploadId=upload_id, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": etag} for n, etag in enumerate(result["etags"], 1)]})
    assert hashlib.sha256(stored(aws, bucket, "parts.bin")).hexdigest() == result["sha"]
