"""A web page uploading to S3, and the CORS settings each route needs (notebook 05).

The page is plain files (``notebooks/page/``: ``index.html``, ``upload.js``, no build step),
served from loopback by a small HTTP server the notebook starts and stops. It is another origin
than the API, S3 and CloudFront, so the browser asks each of them first (a CORS preflight) and
reads their answers only when they say this page's origin may:

    page = serve_page({"presignApi": api.invoke_url})   # http://127.0.0.1:<port>/
    put_upload_cors(bucket, origin=page.origin, methods=("PUT",), s3=s3)
    add_cors_preflight(api_id, resource_id, origin=page.origin, methods=("POST",), apigw=apigw)
    allow_origin_in_function(function_name, page.origin, lam=lam)
    forward_cors_headers(distribution_id, cf=cf)                 # CloudFront: CORS-S3Origin
    print(preflight(url, origin=page.origin, method="PUT", headers=("content-type",)))
    page.stop()

Each setting allows the page's origin only, and only the methods and headers it sends.
"""
from __future__ import annotations

import http.server
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import requests

from ._errors import ConfigurationError

# AWS's managed origin request policy "CORS-S3Origin": Origin, Access-Control-Request-Headers and
# Access-Control-Request-Method reach the S3 origin (CloudFront Developer Guide, "Use managed
# origin request policies"). Without them S3 never sees a CORS request.
CORS_S3_ORIGIN_POLICY = "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf"


def page_folder() -> Path:
    """``page/`` beside the notebooks (the working folder when a notebook runs), else the
    repository's ``notebooks/page``."""
    here = Path.cwd() / "page"
    if (here / "index.html").is_file():
        return here
    return Path(__file__).resolve().parent.parent / "notebooks" / "page"


class PageServer:
    """The page's own origin: ``origin`` (``http://127.0.0.1:<port>``), ``url``, ``stop()``.
    ``config`` is served as ``/config.json``: where the page sends its uploads."""

    def __init__(self, folder: Path, config: dict[str, Any], port: int = 0) -> None:
        self.folder, self.config = folder, dict(config)
        server_config = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(server_config.folder), **kwargs)

            def do_GET(self) -> None:  # noqa: N802 - the http.server hook
                if self.path.split("?")[0] == "/config.json":
                    body = json.dumps(server_config.config).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                super().do_GET()

            def end_headers(self) -> None:
                self.send_header("Cache-Control", "no-store")  # edits to the page show at once
                super().end_headers()

            def log_message(self, *args: Any) -> None:  # quiet in the notebook
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="upload-page")
        self._thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def url(self) -> str:
        return self.origin + "/"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def serve_page(config: dict[str, Any] | None = None, *, port: int = 0,
               folder: str | os.PathLike | None = None) -> PageServer:
    """Serve the upload page on 127.0.0.1 (a free port unless ``port`` is given)."""
    where = Path(folder) if folder is not None else page_folder()
    if not (where / "index.html").is_file():
        raise ConfigurationError(f"no index.html in {where}: pass folder= the page's folder")
    return PageServer(where, config or {}, port)


def put_upload_cors(bucket: str, *, origin: str, s3: Any, methods: Iterable[str] = ("PUT",),
                    headers: Iterable[str] = ("content-type",), expose: Iterable[str] = ("ETag",),
                    max_age: int = 600) -> list[dict[str, Any]]:
    """One CORS rule on the bucket: ``origin`` may send ``methods`` with ``headers``, and read
    the ``expose`` headers (ETag: a multipart upload needs each part's). Replaces the bucket's
    CORS configuration; an empty ``methods`` deletes it."""
    methods = [m.upper() for m in methods]
    if not methods:
        s3.delete_bucket_cors(Bucket=bucket)
        return []
    rule: dict[str, Any] = {"AllowedOrigins": [origin], "AllowedMethods": methods,
                            "AllowedHeaders": list(headers), "MaxAgeSeconds": max_age}
    if list(expose):
        rule["ExposeHeaders"] = list(expose)
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})
    return [rule]


def add_cors_preflight(api_id: str, resource_id: str, *, origin: str, apigw: Any,
                       methods: Iterable[str] = ("POST",),
                       headers: Iterable[str] = ("content-type",)) -> dict[str, str]:
    """An ``OPTIONS`` method answering the preflight itself (a MOCK integration, what the API
    Gateway console's "Enable CORS" creates): static header values for ``origin``. The method
    response must declare each header the integration response sets. Deploy afterwards."""
    values = {"Access-Control-Allow-Origin": origin,
              "Access-Control-Allow-Methods": ",".join([*(m.upper() for m in methods), "OPTIONS"]),
              "Access-Control-Allow-Headers": ",".join(headers),
              "Vary": "Origin"}
    common = {"restApiId": api_id, "resourceId": resource_id, "httpMethod": "OPTIONS"}
    apigw.put_method(**common, authorizationType="NONE")
    apigw.put_integration(**common, type="MOCK", requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_method_response(**common, statusCode="200", responseParameters={
        f"method.response.header.{name}": False for name in values})
    apigw.put_integration_response(**common, statusCode="200", responseParameters={
        f"method.response.header.{name}": f"'{value}'" for name, value in values.items()})
    return values


def allow_origin_in_function(function_name: str, origin: str, *, lam: Any) -> dict[str, str]:
    """Set the function's ALLOWED_ORIGIN: with a Lambda proxy integration the function's answer
    is the response, so it must carry Access-Control-Allow-Origin itself. Waits for the update."""
    current = lam.get_function_configuration(FunctionName=function_name)
    variables = dict((current.get("Environment") or {}).get("Variables") or {})
    variables["ALLOWED_ORIGIN"] = origin
    lam.update_function_configuration(FunctionName=function_name, Environment={"Variables": variables})
    lam.get_waiter("function_updated_v2").wait(FunctionName=function_name)
    return variables


def forward_cors_headers(distribution_id: str, *, cf: Any,
                         policy_id: str = CORS_S3_ORIGIN_POLICY) -> str:
    """Attach an origin request policy (by default AWS's managed CORS-S3Origin) to the default
    behaviour, so that CloudFront passes the browser's CORS headers to S3. Returns the new ETag."""
    from ._cloudfront import update_distribution

    return update_distribution(distribution_id, lambda config: config["DefaultCacheBehavior"].update(
        OriginRequestPolicyId=policy_id), cf=cf)


@dataclass
class Preflight:
    """A preflight's answer as a browser judges it: ``allowed`` when the status is 2xx and the
    Access-Control-Allow-* headers cover the origin, method and headers asked for."""

    status: int
    allowed: bool
    why: str
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {'allowed' if self.allowed else 'refused'}: {self.why}"


def _error_text(response: requests.Response) -> str:
    code = re.search(r"<Code>([^<]*)</Code>", response.text)
    message = re.search(r"<Message>([^<]*)</Message>", response.text)
    if code:
        return f"{code.group(1)} {message.group(1) if message else ''}".strip()
    try:
        return str(response.json().get("message"))
    except ValueError:
        first = re.search(r"<H2>([^<]*)</H2>|<TITLE>([^<]*)</TITLE>", response.text)
        return (first.group(1) or first.group(2)) if first else response.text[:80]


def preflight(url: str, *, origin: str, method: str = "PUT", headers: Iterable[str] = ()) -> Preflight:
    """Send the preflight a browser sends before ``method`` with ``headers`` from a page of
    ``origin``, and judge the answer as the browser does (Fetch standard, CORS-preflight fetch)."""
    asked = [h.lower() for h in headers]
    sent = {"Origin": origin, "Access-Control-Request-Method": method.upper()}
    if asked:
        sent["Access-Control-Request-Headers"] = ",".join(asked)
    response = requests.options(url, headers=sent, timeout=30)
    cors = {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}
    if not 200 <= response.status_code < 300:
        return Preflight(response.status_code, False, _error_text(response), cors)
    allow_origin = response.headers.get("Access-Control-Allow-Origin")
    if allow_origin not in (origin, "*"):
        return Preflight(response.status_code, False,
                         f"Access-Control-Allow-Origin is {allow_origin!r}, not this page's origin", cors)
    methods = {m.strip().upper() for m in response.headers.get("Access-Control-Allow-Methods", "").split(",")}
    simple = method.upper() in ("GET", "HEAD", "POST")
    if not (simple or method.upper() in methods or "*" in methods):
        return Preflight(response.status_code, False, f"{method.upper()} is not in Access-Control-Allow-Methods", cors)
    allowed_headers = {h.strip().lower() for h in response.headers.get("Access-Control-Allow-Headers", "").split(",")}
    missing = [h for h in asked if h not in allowed_headers and "*" not in allowed_headers]
    if missing:
        return Preflight(response.status_code, False, f"{', '.join(missing)} not in Access-Control-Allow-Headers", cors)
    return Preflight(response.status_code, True, "the page may send it", cors)


def readable_headers(response: requests.Response, origin: str) -> list[str]:
    """The response headers a page of ``origin`` may read from JavaScript: none if the answer
    does not allow the origin, else the CORS-safelisted ones plus Access-Control-Expose-Headers."""
    if response.headers.get("Access-Control-Allow-Origin") not in (origin, "*"):
        return []
    safelisted = {"cache-control", "content-language", "content-length", "content-type", "expires",
                  "last-modified", "pragma"}
    exposed = {h.strip().lower() for h in response.headers.get("Access-Control-Expose-Headers", "").split(",")
               if h.strip()}
    return sorted(name for name in (k.lower() for k in response.headers) if name in safelisted | exposed)
