"""IAM steps: roles that a service may assume, with least-privilege inline policies."""
from __future__ import annotations

import json
import time
from typing import Any

from ._names import tag_list


def trust_policy(*services: str) -> dict[str, Any]:
    """A trust policy letting the named AWS services assume the role."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": list(services) if len(services) > 1 else services[0]},
            "Action": "sts:AssumeRole",
        }],
    }


def put_object_policy(bucket: str, key_prefix: str = "") -> dict[str, Any]:
    """Allow s3:PutObject on the bucket's objects (under ``key_prefix``), and nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "PutUploadsOnly",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/{key_prefix}*",
        }],
    }


def create_service_role(name: str, *, service: str | tuple[str, ...], policy: dict[str, Any] | None, iam: Any,
                        prefix: str, wait: float = 0.0,
                        managed_policies: tuple[str, ...] = ()) -> dict[str, str]:
    """Create a role ``service`` may assume, with ``policy`` inline.

        create_service_role("s3wb-k3v9q2-apigw-s3", service="apigateway.amazonaws.com",
                            policy=put_object_policy(bucket), iam=iam, prefix="s3wb-k3v9q2")

    ``managed_policies`` are attached too (e.g. AWSLambdaBasicExecutionRole, for logs).
    ``wait`` sleeps after creation: on real AWS a new role takes seconds to become assumable.
    """
    services = (service,) if isinstance(service, str) else tuple(service)
    role = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(trust_policy(*services)),
        Description=f"s3-upload-workbook: lets {' and '.join(services)} act for the workbook",
        Tags=tag_list(prefix),
    )["Role"]
    if policy is not None:
        iam.put_role_policy(RoleName=name, PolicyName="least-privilege", PolicyDocument=json.dumps(policy))
    for arn in managed_policies:
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    if wait:
        time.sleep(wait)
    return {"role_name": name, "role_arn": role["Arn"]}


def delete_role(name: str, *, iam: Any) -> bool:
    """Delete a role with its inline and attached policies; False if it was already gone."""
    try:
        for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
        for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
        iam.delete_role(RoleName=name)
    except iam.exceptions.NoSuchEntityException:
        return False
    return True


def retry_while_refused(call: Any, *, code: str, says: str, patience: float = 60.0,
                        first_wait: float = 0.5, **params: Any) -> Any:
    """``call(**params)``, retried while AWS answers ``code`` with ``says`` in its message: what
    a service answers about something created or changed seconds ago that it does not see yet
    (IAM is eventually consistent). Waits ``first_wait``, then twice as long each time up to 4 s,
    for at most ``patience`` seconds in all; any other answer is raised at once."""
    deadline, delay = time.monotonic() + patience, first_wait
    while True:
        try:
            return call(**params)
        except Exception as err:
            error_code = getattr(err, "response", {}).get("Error", {}).get("Code", "")
            if error_code != code or says not in str(err) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 4.0)


def until_refused(attempt: Any, *, code: str = "AccessDenied", message: str | None = None,
                  patience: float = 60.0) -> Exception:
    """Call ``attempt()`` until it raises ``UploadRefused`` with ``code`` (and, if given, with
    ``message`` in its text) and return that refusal. One code has many causes: S3's
    ``AccessDenied`` says "Request has expired" for a URL used too late and "... is not
    authorized to perform ..." for a missing permission; ``message`` tells the one you wait for.

    IAM is eventually consistent: after a permission is taken away (DeleteRolePolicy,
    DetachRolePolicy, ...) AWS keeps allowing for some seconds. Code that expects the refusal at
    once sees the opposite on AWS, so this tries again with growing pauses (0.25 s up to 4 s)
    for up to ``patience`` seconds; ``attempt`` should undo what a success did. Other refusals
    (a busy service, say) are tried again too; the last one is raised if time runs out."""
    from ._errors import UploadRefused, WorkbookError

    deadline, pause = time.monotonic() + patience, 0.25
    while True:
        last: Exception = WorkbookError(f"still allowed after {patience:.0f} s: has the change been made?")
        try:
            attempt()
        except UploadRefused as refused:
            if refused.code == code and (message is None or message in refused.message):
                return refused
            last = refused
        if time.monotonic() + pause > deadline:
            raise last
        time.sleep(pause)
        pause = min(pause * 2, 4.0)
