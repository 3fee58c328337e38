"""CloudFront control plane in the local AWS: origin access identities, whole distribution
configs, ETag/If-Match, delete rules and Lambda@Edge association rules (plain boto3).

OAI: https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateCloudFrontOriginAccessIdentity.html
DELETE: https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DeleteDistribution.html
EDGE: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-restrictions.html
EDGEROLE: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-edge-permissions.html
"""
import json

import pytest
from botocore.exceptions import ClientError

from conftest import create_function_when_ready, zip_code

EDGE_TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
    "Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]}, "Action": "sts:AssumeRole"}]}


def code_of(call):
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def cf(aws):
    return aws("cloudfront")


def distribution_config(name, oai_id=None, associations=None, enabled=True):
    origin = {"Id": "s3", "DomainName": f"{name}.s3.us-east-1.amazonaws.com"}
    if oai_id:
        origin["S3OriginConfig"] = {"OriginAccessIdentity": f"origin-access-identity/cloudfront/{oai_id}"}
    behaviour = {"TargetOriginId": "s3", "ViewerProtocolPolicy": "https-only",
                 "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
                 "AllowedMethods": {"Quantity": 7, "Items": ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
                                    "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}}}
    if associations:
        behaviour["LambdaFunctionAssociations"] = {"Quantity": len(associations), "Items": associations}
    return {"CallerReference": name, "Comment": "test", "Enabled": enabled,
            "Origins": {"Quantity": 1, "Items": [origin]}, "DefaultCacheBehavior": behaviour}


def test_origin_access_identity_lifecycle_OAI(cf, name):
    created = cf.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig={"CallerReference": name, "Comment": "uploads"})
    identity = created["CloudFrontOriginAccessIdentity"]
    assert identity["Id"].startswith("E") and len(identity["S3CanonicalUserId"]) == 64
    assert created["Location"].endswith(f"/origin-access-identity/cloudfront/{identity['Id']}")
    again = cf.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig={"CallerReference": name, "Comment": "uploads"})
    assert again["CloudFrontOriginAccessIdentity"]["Id"] == identity["Id"]  # same reference, same config
    assert code_of(lambda: cf.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig={"CallerReference": name, "Comment": "other"})) == \
        ("CloudFrontOriginAccessIdentityAlreadyExists", 409)
    got = cf.get_cloud_front_origin_access_identity(Id=identity["Id"])
    assert got["CloudFrontOriginAccessIdentity"]["CloudFrontOriginAccessIdentityConfig"]["Comment"] == "uploads"
    listed = cf.list_cloud_front_origin_access_identities()["CloudFrontOriginAccessIdentityList"]["Items"]
    assert identity["Id"] in [i["Id"] for i in listed]
    assert code_of(lambda: cf.update_cloud_front_origin_access_identity(
        Id=identity["Id"], IfMatch="stale", CloudFrontOriginAccessIdentityConfig={
            "CallerReference": name, "Comment": "new"})) == ("PreconditionFailed", 412)
    updated = cf.update_cloud_front_origin_access_identity(
        Id=identity["Id"], IfMatch=got["ETag"],
        CloudFrontOriginAccessIdentityConfig={"CallerReference": name, "Comment": "new"})
    assert updated["ETag"] != got["ETag"]
    assert cf.get_cloud_front_origin_access_identity_config(Id=identity["Id"])[
        "CloudFrontOriginAccessIdentityConfig"]["Comment"] == "new"
    cf.delete_cloud_front_origin_access_identity(Id=identity["Id"], IfMatch=updated["ETag"])
    assert code_of(lambda: cf.get_cloud_front_origin_access_identity(Id=identity["Id"])) == \
        ("NoSuchCloudFrontOriginAccessIdentity", 404)


def test_distribution_config_is_kept_whole(cf, name, edge_function):
    oai = cf.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig={"CallerReference": name, "Comment": ""})["CloudFrontOriginAccessIdentity"]
    association = {"LambdaFunctionARN": edge_function(), "EventType": "viewer-request", "IncludeBody": False}
    created = cf.create_distribution(DistributionConfig=distribution_config(name, oai["Id"], [association]))
    config = cf.get_distribution_config(Id=created["Distribution"]["Id"])["DistributionConfig"]
    assert config["Origins"]["Items"][0]["S3OriginConfig"]["OriginAccessIdentity"] == \
        f"origin-access-identity/cloudfront/{oai['Id']}"
    kept = config["DefaultCacheBehavior"]["LambdaFunctionAssociations"]
    assert kept["Quantity"] == 1 and kept["Items"][0]["LambdaFunctionARN"] == association["LambdaFunctionARN"]
    assert sorted(config["DefaultCacheBehavior"]["AllowedMethods"]["Items"]) == \
        sorted(["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"])


def test_if_match_and_delete_rules_DELETE(cf, name, monkeypatch):
    monkeypatch.setenv("LOCALAWS_TIME_SCALE", "0.1")  # the InProgress window below: 2 s
    oai = cf.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig={"CallerReference": name, "Comment": ""})
    created = cf.create_distribution(DistributionConfig=distribution_config(
        name, oai["CloudFrontOriginAccessIdentity"]["Id"]))
    dist_id, etag = created["Distribution"]["Id"], created["ETag"]
    assert code_of(lambda: cf.delete_cloud_front_origin_access_identity(
        Id=oai["CloudFrontOriginAccessIdentity"]["Id"], IfMatch=oai["ETag"])) == \
        ("CloudFrontOriginAccessIdentityInUse", 409)
    assert code_of(lambda: cf.delete_distribution(Id=dist_id, IfMatch=etag)) == ("DistributionNotDisabled", 409)
    config = distribution_config(name, oai["CloudFrontOriginAccessIdentity"]["Id"], enabled=False)
    assert code_of(lambda: cf.update_distribution(Id=dist_id, IfMatch="stale", DistributionConfig=config)) == \
        ("PreconditionFailed", 412)
    disabled = cf.update_distribution(Id=dist_id, IfMatch=etag, DistributionConfig=config)
    assert disabled["ETag"] != etag
    assert code_of(lambda: cf.delete_distribution(Id=dist_id, IfMatch=etag)) == ("PreconditionFailed", 412)
    # disabled, but the change is InProgress until deployed
    assert code_of(lambda: cf.delete_distribution(Id=dist_id, IfMatch=disabled["ETag"])) == \
        ("DistributionNotDisabled", 409)
    cf.get_waiter("distribution_deployed").wait(Id=dist_id, WaiterConfig={"Delay": 0.2, "MaxAttempts": 300})
    cf.delete_distribution(Id=dist_id, IfMatch=disabled["ETag"])
    cf.delete_cloud_front_origin_access_identity(Id=oai["CloudFrontOriginAccessIdentity"]["Id"], IfMatch=oai["ETag"])


@pytest.fixture
def edge_function(aws, name):
    """Factory: a published edge function version ARN (options break one rule at a time)."""
    counter = iter(range(100))

    def make(region="us-east-1", trust=EDGE_TRUST, publish=True, **kwargs):
        fname = f"{name}e{next(counter)}"
        role = aws("iam").create_role(RoleName=fname, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        lam = aws("lambda", region)
        fn = create_function_when_ready(
            lam, FunctionName=fname, Runtime=kwargs.pop("Runtime", "python3.12"), Role=role,
            Handler="app.handler", Code={"ZipFile": zip_code({"app.py": "def handler(e, c):\n    return e\n"})},
            **kwargs)
        if not publish:
            return fn["FunctionArn"]
        return lam.publish_version(FunctionName=fname)["FunctionArn"]
    return make


@pytest.mark.parametrize("options,event,fragment", [
    ({"publish": False}, "viewer-request", "must reference a specific function version"),
    ({"region": "eu-west-1"}, "viewer-request", "must be in region 'us-east-1'"),
    ({"Environment": {"Variables": {"SECRET": "x"}}}, "viewer-request", "cannot have environment variables"),
    ({"Timeout": 10}, "viewer-request", "Max allowed: 5 "),
    ({"MemorySize": 256}, "viewer-request", "Max allowed: 128 "),
    ({"Runtime": "python3.8"}, "viewer-request", "not supported by Lambda@Edge"),
    ({"trust": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}, "viewer-request",
     "edgelambda.amazonaws.com"),
])
def test_lambda_edge_association_rules_EDGE_EDGEROLE(cf, name, edge_function, options, event, fragment):
    arn = edge_function(**options)
    config = distribution_config(name, associations=[{"LambdaFunctionARN": arn, "EventType": event}])
    with pytest.raises(ClientError) as err:
        cf.create_distribution(DistributionConfig=config)
    assert err.value.response["Error"]["Code"] == "InvalidLambdaFunctionAssociation"
    assert fragment in err.value.response["Error"]["Message"]


def test_latest_and_origin_limits_and_include_body(cf, name, edge_function):
    arn = edge_function(Timeout=10)
    latest = arn.rsplit(":", 1)[0] + ":$LATEST"
    with pytest.raises(ClientError):
        cf.create_distribution(DistributionConfig=distribution_config(
            name, associations=[{"LambdaFunctionARN": latest, "EventType": "viewer-request"}]))
    # origin events allow longer timeouts
    cf.create_distribution(DistributionConfig=distribution_config(
        name + "o", associations=[{"LambdaFunctionARN": arn, "EventType": "origin-request", "IncludeBody": True}]))
    with pytest.raises(ClientError) as err:
        cf.create_distribution(DistributionConfig=distribution_config(
            name + "r", associations=[{"LambdaFunctionARN": arn, "EventType": "origin-response", "IncludeBody": True}]))
    assert "IncludeBody" in err.value.response["Error"]["Message"]
