"""The local AWS's IAM policy evaluator.

EVAL: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
COND: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
"""
import pytest

from localaws import iam_eval
from localaws.iam_eval import Principal, evaluate

ROLE = Principal(arn="arn:aws:sts::123456789012:assumed-role/uploader/session", account="123456789012")
OBJ = "arn:aws:s3:::bucket/photos/cat.jpg"


def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action="s3:PutObject", resource="arn:aws:s3:::bucket/*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def test_implicit_deny_without_any_policy_EVAL():
    assert evaluate("s3:PutObject", OBJ).result == iam_eval.IMPLICIT_DENY


def test_allow_with_wildcards_actions_case_insensitive_resources_case_sensitive():
    assert evaluate("s3:PutObject", OBJ, identity_policies=[policy(allow("S3:put*"))]).allowed
    assert not evaluate("s3:PutObject", OBJ, identity_policies=[policy(allow(resource="arn:aws:s3:::BUCKET/*"))]).allowed
    assert evaluate("s3:PutObject", OBJ, identity_policies=[policy(allow(resource="arn:aws:s3:::bucket/photos/???.jpg"))]).allowed


def test_explicit_deny_wins_over_allow_EVAL():
    decision = evaluate("s3:PutObject", OBJ, identity_policies=[
        policy(allow()), policy({"Effect": "Deny", "Action": "s3:*", "Resource": "*"})])
    assert decision.result == iam_eval.EXPLICIT_DENY


def test_not_action_and_not_resource():
    doc = policy({"Effect": "Allow", "NotAction": "s3:DeleteObject", "NotResource": "arn:aws:s3:::bucket/private/*"})
    assert evaluate("s3:PutObject", OBJ, identity_policies=[doc]).allowed
    assert not evaluate("s3:DeleteObject", OBJ, identity_policies=[doc]).allowed
    assert not evaluate("s3:PutObject", "arn:aws:s3:::bucket/private/x", identity_policies=[doc]).allowed


def test_resource_policy_needs_a_matching_principal_EVAL():
    bucket_policy = policy(allow(Principal={"AWS": "arn:aws:iam::123456789012:role/uploader"}))
    assert evaluate("s3:PutObject", OBJ, resource_policy=bucket_policy, principal=ROLE).allowed
    other = Principal(arn="arn:aws:sts::123456789012:assumed-role/other/s", account="123456789012")
    assert not evaluate("s3:PutObject", OBJ, resource_policy=bucket_policy, principal=other).allowed
    assert not evaluate("s3:PutObject", OBJ, resource_policy=bucket_policy).allowed  # anonymous


def test_account_root_principal_names_every_principal_of_the_account():
    for spec in ("123456789012", "arn:aws:iam::123456789012:root"):
        doc = policy(allow(Principal={"AWS": spec}))
        assert evaluate("s3:PutObject", OBJ, resource_policy=doc, principal=ROLE).allowed


def test_star_and_aws_star_principals_both_include_anonymous_IAM_PRINCIPAL_ANONYMOUS():
    """IAM User Guide, Principal element, "Anonymous (public) principals": "Principal": "*" and
    "Principal": {"AWS": "*"} both grant everyone, anonymous callers included."""
    assert evaluate("s3:PutObject", OBJ, resource_policy=policy(allow(Principal="*"))).allowed
    assert evaluate("s3:PutObject", OBJ, resource_policy=policy(allow(Principal={"AWS": "*"}))).allowed
    assert evaluate("s3:PutObject", OBJ, resource_policy=policy(allow(Principal={"AWS": "*"})),
                    principal=ROLE).allowed


def test_service_and_canonical_user_principals():
    trust = policy({"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]},
                    "Action": "sts:AssumeRole"})
    assert iam_eval.trust_allows(trust, "edgelambda.amazonaws.com")
    assert not iam_eval.trust_allows(trust, "apigateway.amazonaws.com")
    doc = policy(allow(Principal={"CanonicalUser": "abc123"}))
    assert evaluate("s3:PutObject", OBJ, resource_policy=doc, principal=Principal(canonical_user="abc123")).allowed


@pytest.mark.parametrize("operator,key,value,context,expected", [
    ("StringEquals", "aws:SourceArn", "arn:x", {"aws:SourceArn": "arn:x"}, True),
    ("StringEquals", "aws:SourceArn", "arn:x", {"aws:SourceArn": "arn:y"}, False),
    ("StringEquals", "aws:SourceArn", "arn:x", {}, False),
    ("StringNotEquals", "aws:SourceArn", "arn:x", {}, True),  # COND: absent key, negated operator
    ("StringLike", "s3:prefix", "photos/*", {"s3:prefix": "photos/a"}, True),
    ("ArnLike", "aws:SourceArn", "arn:aws:cloudfront::*:distribution/*", {"aws:SourceArn": "arn:aws:cloudfront::1:distribution/E1"}, True),
    ("Bool", "aws:SecureTransport", "true", {"aws:SecureTransport": "false"}, False),
    ("NumericLessThanEquals", "s3:content-length", "100", {"s3:content-length": "99"}, True),
    ("DateLessThan", "aws:CurrentTime", "2030-01-01T00:00:00Z", {"aws:CurrentTime": "2026-01-01T00:00:00Z"}, True),
    ("IpAddress", "aws:SourceIp", "127.0.0.0/8", {"aws:SourceIp": "127.0.0.1"}, True),
    ("StringEqualsIfExists", "aws:SourceArn", "arn:x", {}, True),
    ("Null", "aws:SourceArn", "true", {}, True),
])
def test_condition_operators_COND(operator, key, value, context, expected):
    doc = policy(allow(Condition={operator: {key: value}}))
    assert evaluate("s3:PutObject", OBJ, identity_policies=[doc], context=context).allowed is expected


def test_condition_keys_are_case_insensitive():
    doc = policy(allow(Condition={"StringEquals": {"AWS:SourceArn": "arn:x"}}))
    assert evaluate("s3:PutObject", OBJ, identity_policies=[doc], context={"aws:sourcearn": "arn:x"}).allowed
