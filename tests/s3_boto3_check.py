#!/usr/bin/python3
"""boto3 against trainyard's S3 endpoint (run by tests/s3_clients_test.cc with Debian's python3).

Usage: s3_boto3_check.py ENDPOINT_URL ACCESS_KEY_ID SECRET_ACCESS_KEY
Prints "boto3 check: OK" and exits 0, or fails with a traceback naming the step.
"""
import hashlib
import io
import sys
import urllib.error
import urllib.request

import boto3
import botocore.config
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError


def client(endpoint, key_id, secret, signature_version="s3v4"):
    # botocore 1.29 presigns us-east-1 URLs with SigV2 unless told s3v4; the endpoint is SigV4.
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, aws_access_key_id=key_id, aws_secret_access_key=secret,
        region_name="us-east-1",
        config=botocore.config.Config(retries={"max_attempts": 1},
                                      signature_version=signature_version,
                                      s3={"addressing_style": "path"}))


def error_code(call):
    try:
        call()
    except ClientError as error:
        return error.response["Error"]["Code"]
    raise AssertionError("expected a ClientError")


def main(endpoint, key_id, secret):
    s3 = client(endpoint, key_id, secret)
    s3.create_bucket(Bucket="boto-bucket")
    assert "boto-bucket" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.head_bucket(Bucket="boto-bucket")
    assert error_code(lambda: s3.create_bucket(Bucket="boto-bucket")) == "BucketAlreadyOwnedByYou"

    # put / get / head with metadata
    s3.put_object(Bucket="boto-bucket", Key="dir/hello.txt", Body=b"hello boto",
                  ContentType="text/plain", Metadata={"Experiment": "e-17", "lr": "0.01"})
    got = s3.get_object(Bucket="boto-bucket", Key="dir/hello.txt")
    assert got["Body"].read() == b"hello boto"
    assert got["ContentType"] == "text/plain", got["ContentType"]
    assert got["Metadata"] == {"experiment": "e-17", "lr": "0.01"}, got["Metadata"]
    head = s3.head_object(Bucket="boto-bucket", Key="dir/hello.txt")
    assert head["ContentLength"] == 10 and head["Metadata"]["lr"] == "0.01"
    ranged = s3.get_object(Bucket="boto-bucket", Key="dir/hello.txt", Range="bytes=6-9")
    assert ranged["Body"].read() == b"boto" and ranged["ContentRange"] == "bytes 6-9/10"
    assert error_code(lambda: s3.get_object(Bucket="boto-bucket", Key="missing")) == "NoSuchKey"

    # list with pagination (and a delimiter)
    for i in range(7):
        s3.put_object(Bucket="boto-bucket", Key="many/k%02d" % i, Body=b"x")
    paginator = s3.get_paginator("list_objects_v2")
    pages = list(paginator.paginate(Bucket="boto-bucket", Prefix="many/",
                                    PaginationConfig={"PageSize": 3}))
    assert [len(p.get("Contents", [])) for p in pages] == [3, 3, 1], pages
    keys = [o["Key"] for p in pages for o in p["Contents"]]
    assert keys == ["many/k%02d" % i for i in range(7)], keys
    top = s3.list_objects_v2(Bucket="boto-bucket", Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["dir/", "many/"], top
    v1 = list(s3.get_paginator("list_objects").paginate(Bucket="boto-bucket", Prefix="many/",
                                                        PaginationConfig={"PageSize": 4}))
    assert sum(len(p["Contents"]) for p in v1) == 7

    # multipart through upload_fileobj
    data = bytes(range(256)) * (4 * 4096 * 11)  # 11 MiB
    config = TransferConfig(multipart_threshold=5 * 1024 * 1024,
                            multipart_chunksize=5 * 1024 * 1024, max_concurrency=2)
    s3.upload_fileobj(io.BytesIO(data), "boto-bucket", "big/blob.bin", Config=config)
    sink = io.BytesIO()
    s3.download_fileobj("boto-bucket", "big/blob.bin", sink, Config=config)
    assert hashlib.sha256(sink.getvalue()).digest() == hashlib.sha256(data).digest()

    # copy, delete_objects
    s3.copy_object(Bucket="boto-bucket", Key="dir/copy.txt",
                   CopySource={"Bucket": "boto-bucket", "Key": "dir/hello.txt"})
    assert s3.get_object(Bucket="boto-bucket", Key="dir/copy.txt")["Body"].read() == b"hello boto"
    deleted = s3.delete_objects(Bucket="boto-bucket", Delete={
        "Objects": [{"Key": "many/k%02d" % i} for i in range(7)]})
    assert len(deleted["Deleted"]) == 7, deleted

    # a presigned GET URL, fetched without boto3
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "boto-bucket",
                                                          "Key": "dir/hello.txt"},
                                    ExpiresIn=300)
    with urllib.request.urlopen(url) as answer:
        assert answer.read() == b"hello boto"
    # botocore's default (SigV2) presigned URL is refused with a message saying what to do
    v2_url = client(endpoint, key_id, secret, signature_version=None).generate_presigned_url(
        "get_object", Params={"Bucket": "boto-bucket", "Key": "dir/hello.txt"}, ExpiresIn=300)
    try:
        urllib.request.urlopen(v2_url)
        raise AssertionError("a SigV2 presigned URL was accepted")
    except urllib.error.HTTPError as error:
        assert error.code == 403 and b"s3v4" in error.read(), error

    # a wrong secret is refused
    wrong = client(endpoint, key_id, secret + "x")
    assert error_code(lambda: wrong.list_objects_v2(Bucket="boto-bucket")) == \
        "SignatureDoesNotMatch"
    unknown = client(endpoint, "AKIDNOBODY", secret)
    assert error_code(lambda: unknown.list_buckets()) == "InvalidAccessKeyId"

    for key in ["dir/hello.txt", "dir/copy.txt", "big/blob.bin"]:
        s3.delete_object(Bucket="boto-bucket", Key=key)
    s3.delete_bucket(Bucket="boto-bucket")
    print("boto3 check: OK")


if __name__ == "__main__":
    main(*sys.argv[1:4])
