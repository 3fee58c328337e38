"""Names and tags: every resource the workbook creates carries a unique prefix and two tags, so
that clean-up can find exactly what a notebook made and nothing else."""
from __future__ import annotations

import re
import secrets
import string

from ._errors import ConfigurationError

TAG_KEY = "workbook"
TAG_VALUE = "s3-upload-workbook"
PREFIX_TAG_KEY = "workbook-prefix"
# How every prefix the workbook chooses starts; the README's IAM policy is scoped to it.
DEFAULT_NAME_START = "s3wb-"

_PREFIX = re.compile(r"[a-z][a-z0-9-]{1,22}[a-z0-9]")


def unique_prefix(name_prefix: str | None = None) -> str:
    """``name_prefix`` checked, or a fresh one like ``s3wb-k3v9q2`` (valid in bucket names)."""
    if name_prefix is None:
        alphabet = string.ascii_lowercase + string.digits
        return DEFAULT_NAME_START + "".join(secrets.choice(alphabet) for _ in range(6))
    if not _PREFIX.fullmatch(name_prefix):
        raise ConfigurationError(
            f"name_prefix {name_prefix!r} must be 3-24 characters of lower-case letters, digits "
            "and hyphens, starting with a letter (it becomes part of S3 bucket names)"
        )
    return name_prefix


def tags(prefix: str) -> dict[str, str]:
    """The tags put on everything created under ``prefix``."""
    return {TAG_KEY: TAG_VALUE, PREFIX_TAG_KEY: prefix}


def tag_list(prefix: str) -> list[dict[str, str]]:
    """The same tags in the Key/Value list form S3 and IAM take."""
    return [{"Key": k, "Value": v} for k, v in tags(prefix).items()]
