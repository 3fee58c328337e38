"""IAM's policy simulator, ``SimulatePrincipalPolicy``, which moto lacks.

Supported: ``PolicySourceArn`` (an IAM user, with its groups' policies, or a role),
``ActionNames``, ``ResourceArns`` (``*`` when absent) and ``PolicyInputList`` (more identity
policies to include), evaluated with ``iam_eval`` as requests of that principal are; each result
has ``EvalActionName``, ``EvalResourceName`` and ``EvalDecision`` (``allowed``,
``explicitDeny`` or ``implicitDeny``)
(https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html). A
principal that does not exist is ``404 NoSuchEntity``.

Limitations: no ``ContextEntries``, ``ResourcePolicy``, permissions boundaries,
``MatchedStatements`` or pagination (every result comes in one page).
"""
from __future__ import annotations

import io
import uuid
from typing import Any, Callable
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from werkzeug.wsgi import get_input_stream

from . import iam_eval, moto_bridge

XMLNS = "https://iam.amazonaws.com/doc/2010-05-08/"
_DECISIONS = {iam_eval.ALLOW: "allowed", iam_eval.EXPLICIT_DENY: "explicitDeny",
              iam_eval.IMPLICIT_DENY: "implicitDeny"}


def _form(environ: dict[str, Any]) -> dict[str, str]:
    body = get_input_stream(environ).read()
    environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def matches(environ: dict[str, Any], service: str) -> bool:
    return (service == "iam" and environ.get("REQUEST_METHOD") == "POST"
            and _form(environ).get("Action") == "SimulatePrincipalPolicy")


def _members(form: dict[str, str], name: str) -> list[str]:
    found = sorted((int(k.rsplit(".", 1)[1]), v) for k, v in form.items()
                   if k.startswith(f"{name}.member.") and k.rsplit(".", 1)[1].isdigit())
    return [v for _, v in found]


def simulate(environ: dict[str, Any], start_response: Callable) -> list[bytes]:
    form = _form(environ)
    source = form.get("PolicySourceArn", "")
    account = source.split(":")[4] if source.count(":") >= 5 else moto_bridge.ACCOUNT_ID
    policies = moto_bridge.principal_policies(account, source)
    request_id = str(uuid.uuid4())
    if policies is None:
        return _send(start_response, 404, (
            f'<ErrorResponse xmlns="{XMLNS}"><Error><Type>Sender</Type><Code>NoSuchEntity</Code>'
            f"<Message>{escape(f'The principal {source} cannot be found.')}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"))
    policies = policies + _members(form, "PolicyInputList")
    members = []
    for action in _members(form, "ActionNames"):
        for resource in _members(form, "ResourceArns") or ["*"]:
            decision = iam_eval.evaluate(action, resource, identity_policies=policies,
                                         principal=iam_eval.Principal(arn=source, account=account))
            members.append(
                f"<member><EvalActionName>{escape(action)}</EvalActionName>"
                f"<EvalResourceName>{escape(resource)}</EvalResourceName>"
                f"<EvalDecision>{_DECISIONS[decision.result]}</EvalDecision>"
                "<MatchedStatements/><MissingContextValues/></member>")
    return _send(start_response, 200, (
        f'<SimulatePrincipalPolicyResponse xmlns="{XMLNS}"><SimulatePrincipalPolicyResult>'
        f"<IsTruncated>false</IsTruncated><EvaluationResults>{''.join(members)}</EvaluationResults>"
        f"</SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>{request_id}</RequestId>"
        "</ResponseMetadata></SimulatePrincipalPolicyResponse>"))


def _send(start_response: Callable, status: int, text: str) -> list[bytes]:
    body = text.encode()
    start_response(f"{status} {'OK' if status == 200 else 'Not Found'}",
                   [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))])
    return [body]
