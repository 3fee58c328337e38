"""CloudFront in the local AWS: what moto lacks of the control plane (origin access identities,
Lambda@Edge association rules, whole distribution configs, ETag/If-Match)."""
from .oai import OriginAccessIdentities

__all__ = ["OriginAccessIdentities"]
