"""The local AWS as one WSGI app: a thin front that routes each request to a service.

    /_aws/execute-api/{api}/{stage}/...  -> API Gateway data plane -> S3 (as the integration role)
                                                                   | Lambda (proxy integration)
    POST /2015-03-31/functions/{f}/invocations -> Lambda runtime (worker processes)
    /2020-05-31/origin-access-identity/...     -> CloudFront origin access identities
    /_aws/cloudfront/{dist}/... (or Host *.cloudfront.net) -> CloudFront data plane
                                     -> viewer-request Lambda@Edge -> S3 (as the OAI / OAC)
    GET /{userPoolId}/.well-known/jwks.json | openid-configuration -> Cognito (cognito.py)
    /_aws/health                          -> who is listening here
    /moto-api/reset                       -> moto's reset, plus the extension stores
    S3 requests                           -> authentication and policies (s3/) -> moto's S3
    anything else                         -> signature and IAM policies (control_auth.py)
                                             -> moto (control plane), or IAM's policy
                                                simulator (iam_simulator.py: moto has none)

Layers (top to bottom; each imports only what lies below it, checked by the import-linter
contracts in pyproject.toml): this module; the data planes of API Gateway and CloudFront; the
services they call, S3 (``s3/``) and Lambda (``awslambda/``); ``moto_bridge`` (the only module
that imports moto), ``iam_eval`` and ``bodies``; ``store`` at the bottom. A request goes down
this stack and its answer comes back up; nothing below calls up. Where the bridge needs a rule
that lives higher (Lambda@Edge association rules, IAM trust evaluation), this module hands it
down to :func:`moto_bridge.install`.
"""
from __future__ import annotations

import errno
import json
import logging
import sys
import threading
import traceback
from typing import Any, Callable

from werkzeug.exceptions import ClientDisconnected
from werkzeug.serving import make_server

from . import control_auth, iam_eval, iam_simulator, moto_bridge
from .about import SERVICE_NAME, __version__
from .apigateway import ApiGatewayDataPlane
from .apigateway.dataplane import RAW_HEADERS
from .apigateway.quotas import ControlPlaneQuotas
from .awslambda import LambdaService
from .cloudfront import OriginAccessIdentities
from .cloudfront.dataplane import CloudFrontDataPlane
from .cloudfront.edge_rules import check_associations
from .cognito import WellKnown
from .s3 import S3Front
from .s3.errors import error_response
from .store import stores

log = logging.getLogger("localaws")


class LocalAWS:
    """WSGI entry point; data flows one way: request -> route -> service -> S3."""

    def __init__(self) -> None:
        moto_bridge.install(check_associations=check_associations,
                            trust_allows=iam_eval.trust_allows)
        self.moto = moto_bridge.make_moto_app()
        self.s3 = S3Front(self.moto)
        self.awslambda = LambdaService()
        self.oai = OriginAccessIdentities(in_use=moto_bridge.oai_in_use)
        moto_bridge.know_origin_access_identities(self.oai.created_at)  # for PutBucketPolicy
        self.apigateway = ApiGatewayDataPlane(self.s3, self.awslambda)
        self.apigateway_quotas = ControlPlaneQuotas()
        self.cloudfront = CloudFrontDataPlane(self.s3, self.awslambda, self.oai)
        self.cognito = WellKnown()

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Any:
        path = environ.get("PATH_INFO", "")
        service = "apigateway"
        try:
            if path.startswith("/_aws/execute-api/"):
                return self.apigateway(environ, start_response)
            if self.cloudfront.matches(environ):
                service = "cloudfront"
                return self.cloudfront(environ, start_response)
            if self.cognito.matches(environ):
                service = "cognito-idp"
                return self.cognito(environ, start_response)
            if path == "/_aws/health":
                return _json(start_response, 200, health())
            if self.oai.matches(environ):
                service = "cloudfront"
                return self.authenticated(environ, start_response, service, routed_here=True) or \
                    self.oai(environ, start_response)
            if self.awslambda.matches(environ):
                service = "lambda"
                return self.authenticated(environ, start_response, service, routed_here=True) or \
                    self.awslambda(environ, start_response, self.moto)
            if path == "/moto-api/reset" and environ.get("REQUEST_METHOD") == "POST":
                stores.reset()
                self.apigateway_quotas.reset()
                self.oai.reset()
                self.awslambda.runtime.reset()
                self.apigateway.authorizers.reset()
            if path.startswith("/moto-api") or path.startswith("/_aws/"):
                return self.moto(environ, start_response)
            service, app = moto_bridge.service_app(self.moto, environ)
            if service == "s3":
                return self.s3.handle(environ, start_response, app)
            refused = self.authenticated(environ, start_response,
                                         control_auth.signing_service(environ) or service)
            if refused is not None:
                return refused
            if iam_simulator.matches(environ, service):
                service = "iam"
                return iam_simulator.simulate(environ, start_response)
            if service == "apigateway":
                throttled = self.apigateway_quotas(environ, start_response)
                if throttled is not None:
                    return throttled
            return app(environ, start_response)
        except ClientDisconnected:
            # The client hung up before its body arrived in full: its fault, not ours. Nothing
            # was stored (bodies are read whole before anything is written); S3 would answer
            # 400 IncompleteBody, which is sent if the socket still listens.
            log.info("client disconnected mid-body on %s %s", environ.get("REQUEST_METHOD"), path)
            return incomplete_body(start_response, sys.exc_info())
        except Exception:  # an internal fault must still answer in AWS's shape, never a trace
            log.error("internal error on %s %s\n%s", environ.get("REQUEST_METHOD"), path,
                      traceback.format_exc())
            return internal_error(start_response, service, sys.exc_info())


    @staticmethod
    def authenticated(environ: dict[str, Any], start_response: Callable, service: str,
                      routed_here: bool = False) -> Any:
        """None when a control-plane request's signature holds and its caller may make it;
        otherwise the service's refusal, sent (control_auth.py)."""
        refusal = control_auth.check(environ, service, routed_here=routed_here)
        return None if refusal is None else refusal.send(start_response)


def incomplete_body(start_response: Callable, exc_info: Any = None) -> list[bytes]:
    """S3's answer to a body shorter than its Content-Length
    (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList)."""
    refusal = error_response(400, "IncompleteBody", "You did not provide the number of bytes "
                             "specified by the Content-Length HTTP header.")
    try:
        return _s3_error(start_response, refusal, exc_info)
    except Exception:  # the response had started: nothing more can be said
        return []


def internal_error(start_response: Callable, service: str, exc_info: Any = None) -> list[bytes]:
    """A 500 as the service sends it: S3's XML InternalError
    (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList), API
    Gateway's ``{"message": "Internal server error"}``, or the JSON error of the other services."""
    if service == "s3":
        return _s3_error(start_response, error_response(
            500, "InternalError", "We encountered an internal error. Please try again."), exc_info)
    return _json(start_response, 500, {"message": "Internal server error"},
                 {"x-amzn-ErrorType": "InternalFailure"}, exc_info)


def _s3_error(start_response: Callable, refusal: Any, exc_info: Any = None) -> list[bytes]:
    headers = [*refusal.headers.items(), ("Content-Length", str(len(refusal.body)))]
    reason = "Bad Request" if refusal.status == 400 else "Internal Server Error"
    start_response(f"{refusal.status} {reason}", headers, exc_info)
    return [refusal.body]


def health() -> dict[str, str]:
    return {"service": SERVICE_NAME, "version": __version__, "moto": moto_bridge.moto_version()}


def _json(start_response: Callable, status: int, payload: dict, extra: dict | None = None,
          exc_info: Any = None) -> list[bytes]:
    body = json.dumps(payload).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    headers += list((extra or {}).items())
    reason = {200: "OK", 500: "Internal Server Error"}.get(status, "Error")
    if exc_info:  # start_response may have been called before the fault (PEP 3333)
        start_response(f"{status} {reason}", headers, exc_info)
    else:
        start_response(f"{status} {reason}", headers)
    return [body]


class _RequestHandler(moto_bridge.RequestHandler):
    """moto's request handler, also keeping the header names as the client spelled them
    (API Gateway hands them to integrations with their casing)."""

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ[RAW_HEADERS] = list(self.headers.items())
        return environ


class Server:
    """A running local AWS: ``endpoint_url`` to point clients at, ``stop()`` to end it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 4566) -> None:
        self.app = LocalAWS()
        werkzeug_log = logging.getLogger("werkzeug")
        if werkzeug_log.level == logging.NOTSET:  # quiet unless `--verbose` asked for request lines
            werkzeug_log.setLevel(logging.WARNING)
        try:
            self._server = make_server(host, port, self.app, threaded=True,
                                       request_handler=_RequestHandler)
        except SystemExit:  # werkzeug exits on a taken port; callers want an OSError
            raise OSError(errno.EADDRINUSE, "Address already in use") from None
        self._server.daemon_threads = True
        self.host = host
        self.port = self._server.server_port
        # Handlers' boto3 calls come back here (AWS_ENDPOINT_URL in the execution environment).
        self.app.awslambda.runtime.endpoint_url = self.endpoint_url
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def start(self) -> "Server":
        """Serve from a background thread (tests, notebooks that want it in-process)."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="local-aws")
        self._thread.start()
        return self

    def stop(self) -> None:
        self.app.awslambda.runtime.shutdown()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
