"""What one upload costs on real AWS, option by option, from stated list prices.

    upload_cost("presigned", 8 * 2**20)["total"]   # dollars, request charges only

The figures are us-east-1 list prices as stated by AWS as of PRICES_AS_OF, without free tiers,
taxes or storage (the same for every option). Prices change: check the AWS pricing pages.
"""
from __future__ import annotations

import math
from typing import Any

from ._errors import ConfigurationError

PRICES_AS_OF = "2026-11"
# name: (dollars, per what, where AWS states it)
PRICES: dict[str, tuple[float, str, str]] = {
    "s3_put": (0.005 / 1000, "S3 PUT, COPY, POST or LIST request (UploadPart, Create/Complete included)",
               "aws.amazon.com/s3/pricing"),
    "api_gateway_rest": (3.50 / 1_000_000, "REST API request (first 333 million a month)",
                         "aws.amazon.com/api-gateway/pricing"),
    "lambda_request": (0.20 / 1_000_000, "Lambda request", "aws.amazon.com/lambda/pricing"),
    "lambda_gb_second": (0.0000166667, "Lambda GB-second (x86)", "aws.amazon.com/lambda/pricing"),
    "edge_request": (0.60 / 1_000_000, "Lambda@Edge request", "aws.amazon.com/lambda/pricing"),
    "edge_gb_second": (0.00005001, "Lambda@Edge GB-second", "aws.amazon.com/lambda/pricing"),
    "cloudfront_https_request": (0.01 / 10_000, "CloudFront HTTPS request (US, Europe)",
                                 "aws.amazon.com/cloudfront/pricing"),
    "cloudfront_to_origin_gb": (0.02, "CloudFront data transfer out to the origin, per GB (US, Europe)",
                                "aws.amazon.com/cloudfront/pricing"),
}
# Assumptions for duration charges: the workbook's functions are 128 MB and answer in about
# 100 ms (presign, multipart API) or 50 ms (the edge check).
FUNCTION_GB, FUNCTION_SECONDS, EDGE_SECONDS = 0.125, 0.100, 0.050
LIMITS = {"proxy": 10_485_760, "presigned": 5 * 1024**3, "multipart": 5 * 1024**4,
          "cloudfront": 5 * 1024**3}
OPTIONS = tuple(LIMITS)


def _price(name: str) -> float:
    return PRICES[name][0]


def upload_cost(option: str, size: int, *, part_size: int = 8 * 1024 * 1024) -> dict[str, Any]:
    """The request charges of one upload of ``size`` bytes: a breakdown and ``total`` (dollars),
    or ``{"total": None, "over_limit": ...}`` when the option cannot take that size."""
    if option not in LIMITS:
        raise ConfigurationError(f"option {option!r} is not one of {', '.join(OPTIONS)}")
    if size > LIMITS[option]:
        return {"total": None, "over_limit": LIMITS[option]}
    api_call = _price("api_gateway_rest") + _price("lambda_request") + \
        FUNCTION_GB * FUNCTION_SECONDS * _price("lambda_gb_second")
    if option == "proxy":
        parts = {"API Gateway": _price("api_gateway_rest"), "S3 requests": _price("s3_put")}
    elif option == "presigned":
        parts = {"API Gateway + Lambda": api_call, "S3 requests": _price("s3_put")}
    elif option == "multipart":
        count = max(1, math.ceil(size / part_size))
        # start, one URL per part, complete: API calls; create, parts, complete: S3 requests
        parts = {"API Gateway + Lambda": (count + 2) * api_call,
                 "S3 requests": (count + 2) * _price("s3_put")}
    else:
        parts = {"CloudFront + Lambda@Edge": _price("cloudfront_https_request") + _price("edge_request")
                 + FUNCTION_GB * EDGE_SECONDS * _price("edge_gb_second"),
                 "CloudFront to S3 transfer": size / 1e9 * _price("cloudfront_to_origin_gb"),
                 "S3 requests": _price("s3_put")}
    return {**parts, "total": sum(parts.values())}
