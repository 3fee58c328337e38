"""S3 calls the workbook makes (presigned PUT, multipart upload), as recorded against AWS.

Errors: https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
Query-string authentication (SigV2): https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html#RESTAuthenticationQueryStringAuth
Recordings: LS_S3 (conformance_kit), TestS3 multipart tests recorded 2026-02-21; LS_APIGW_S3
test_apigateway_s3_any (2025-01-31) for GetObject's NoSuchKey.
"""
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from conformance_kit import LS_S3, unique



@pytest.fixture(scope="module")
def s3(aws):
    return aws("s3")


@pytest.fixture(scope="module")
def bucket(s3):
    name = unique("confs3")
    s3.create_bucket(Bucket=name)
    return name


def _error(call):
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response


def test_sigv2_presigned_put_stores_no_expires_header(endpoint, bucket):
    """The Expires of a SigV2 presigned URL is when the URL stops working (query-string
    authentication); the object gets an Expires header only from an Expires request header."""
    import boto3

    v2 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                      aws_secret_access_key="test", config=Config(s3={"addressing_style": "path"}))
    url = v2.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "v2.txt"}, ExpiresIn=300)
    assert "Signature=" in url and "Expires=" in url  # SigV2, as boto3 signs with a custom endpoint
    assert requests.put(url, data=b"hello", timeout=60).status_code == 200
    head = v2.head_object(Bucket=bucket, Key="v2.txt")
    assert "Expires" not in head and "expires" not in head["ResponseMetadata"]["HTTPHeaders"]


def test_get_missing_key(s3, bucket):
    """LS_APIGW_S3 "get-object-s3" (2025-01-31): 404 NoSuchKey with the Key."""
    response = _error(lambda: s3.get_object(Bucket=bucket, Key="test.json"))
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert {k: response["Error"][k] for k in ("Code", "Key", "Message")} == {
        "Code": "NoSuchKey", "Key": "test.json", "Message": "The specified key does not exist."}


def _upload_two_small_parts(s3, bucket, key):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    parts = [{"ETag": s3.upload_part(Bucket=bucket, Key=key, Body=b"data", PartNumber=i,
                                     UploadId=upload_id)["ETag"], "PartNumber": i} for i in (1, 2)]
    return upload_id, parts


def test_complete_with_parts_too_small(s3, bucket):
    """LS_S3 test_multipart_complete_multipart_too_small (recorded 2026-02-21): 400
    EntityTooSmall with ETag (unquoted), MinSizeAllowed, PartNumber and ProposedSize."""
    upload_id, parts = _upload_two_small_parts(s3, bucket, "small")
    response = _error(lambda: s3.complete_multipart_upload(Bucket=bucket, Key="small", UploadId=upload_id,
                                                           MultipartUpload={"Parts": parts}))
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    error = {k: v for k, v in response["Error"].items() if k not in ("RequestId", "HostId")}
    assert error == {"Code": "EntityTooSmall", "ETag": "8d777f385d3dfec8815d20f7496026dc",
                     "Message": "Your proposed upload is smaller than the minimum allowed size",
                     "MinSizeAllowed": "5242880", "PartNumber": "1", "ProposedSize": "4"}


@pytest.mark.parametrize("etag,number", [("8d777f385d3dfec8815d20f7496026dc", 2),
                                         ("d41d8cd98f00b204e9800998ecf8427e", 1)],
                         ids=["wrong-part-number", "wrong-etag"])
def test_complete_with_invalid_part(s3, bucket, etag, number):
    """LS_S3 test_multipart_complete_multipart_wrong_part (recorded 2026-02-21): 400 InvalidPart
    with ETag, PartNumber and UploadId, and S3's message (two spaces after the first sentence)."""
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="wrong")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="wrong", Body=b"data", PartNumber=1, UploadId=upload_id)
    response = _error(lambda: s3.complete_multipart_upload(
        Bucket=bucket, Key="wrong", UploadId=upload_id,
        MultipartUpload={"Parts": [{"ETag": etag, "PartNumber": number}]}))
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    error = {k: v for k, v in response["Error"].items() if k not in ("RequestId", "HostId")}
    assert error == {"Code": "InvalidPart", "ETag": etag, "PartNumber": str(number), "UploadId": upload_id,
                     "Message": "One or more of the specified parts could not be found.  The part may not "
                                "have been uploaded, or the specified entity tag may not match the part's "
                                "entity tag."}


def test_list_parts_after_complete(s3, bucket):
    """LS_S3 test_multipart_and_list_parts (recorded 2026-02-21): ListParts of a completed
    upload -> 404 NoSuchUpload with the UploadId."""
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="done")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="done", Body=b"data", PartNumber=1, UploadId=upload_id)["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="done", UploadId=upload_id,
                                 MultipartUpload={"Parts": [{"ETag": etag, "PartNumber": 1}]})
    response = _error(lambda: s3.list_parts(Bucket=bucket, Key="done", UploadId=upload_id))
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert response["Error"]["Code"] == "NoSuchUpload" and response["Error"]["UploadId"] == upload_id
    assert response["Error"]["Message"] == ("The specified upload does not exist. The upload ID may be invalid, "
                                            "or the upload may have been aborted or completed.")
