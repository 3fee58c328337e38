"""The upload page's server and the CORS steps of helpers/_page.py, with plain HTTP (the browser
itself is tests/test_upload_page.py). CORS judged as S3 answers it: S3 User Guide "Using
cross-origin resource sharing (CORS)" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html)
and "Troubleshooting CORS" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors-troubleshooting.html)."""
import requests

import helpers as wb


def test_the_page_server_serves_the_files_and_the_config_then_stops():
    page = wb.serve_page({"presignApi": "http://127.0.0.1:4566/_aws/execute-api/x/v1"})
    try:
        assert page.origin.startswith("http://127.0.0.1:") and page.url == page.origin + "/"
        html = requests.get(page.url, timeout=10)
        assert html.status_code == 200 and '<script src="upload.js"></script>' in html.text
        assert "XMLHttpRequest" in requests.get(page.origin + "/upload.js", timeout=10).text
        config = requests.get(page.origin + "/config.json", timeout=10)
        assert config.json() == {"presignApi": "http://127.0.0.1:4566/_aws/execute-api/x/v1"}
        assert config.headers["Cache-Control"] == "no-store"
    finally:
        page.stop()
    try:
        requests.get(page.url, timeout=2)
        raise AssertionError("the page server still answers after stop()")
    except requests.ConnectionError:
        pass


def test_preflight_judges_as_a_browser_and_put_upload_cors_allows_only_what_it_lists(aws, name):
    s3 = aws("s3")
    s3.create_bucket(Bucket=name)
    url = f"{s3.meta.endpoint_url}/{name}/uploads/a.bin"
    site = "http://127.0.0.1:8123"
    refused = wb.preflight(url, origin=site, method="PUT", headers=["Content-Type"])
    assert (refused.status, refused.allowed) == (403, False)
    assert refused.why == "AccessForbidden CORSResponse: CORS is not enabled for this bucket."
    rules = wb.put_upload_cors(name, origin=site, s3=s3, methods=("put",), headers=("content-type",))
    assert rules == [{"AllowedOrigins": [site], "AllowedMethods": ["PUT"], "AllowedHeaders": ["content-type"],
                      "MaxAgeSeconds": 600, "ExposeHeaders": ["ETag"]}]
    allowed = wb.preflight(url, origin=site, method="PUT", headers=["Content-Type"])
    assert (allowed.status, allowed.allowed) == (200, True), allowed
    assert allowed.headers["Access-Control-Allow-Origin"] == site
    assert not wb.preflight(url, origin="http://127.0.0.1:9", method="PUT", headers=["content-type"]).allowed
    header = wb.preflight(url, origin=site, method="PUT", headers=["content-type", "x-amz-checksum-sha256"])
    assert (header.status, header.allowed) == (403, False)
    assert not wb.preflight(url, origin=site, method="DELETE").allowed
    # What a page may read from an actual answer: ETag only because the rule exposes it.
    put = requests.put(s3.generate_presigned_url("put_object", Params={"Bucket": name, "Key": "b.bin"}),
                       data=b"1", headers={"Origin": site}, timeout=10)
    assert put.status_code == 200 and "etag" in wb.readable_headers(put, site)
    assert wb.readable_headers(put, "http://127.0.0.1:9") == []
    wb.put_upload_cors(name, origin=site, s3=s3, methods=())
    assert wb.preflight(url, origin=site).status == 403
