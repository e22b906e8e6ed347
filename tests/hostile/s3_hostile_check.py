#!/usr/bin/python3
"""boto3 attacks on trainyard's S3 endpoint (run by tests/hostile/hostile_s3_test.cc).

Usage: s3_hostile_check.py CHECK ENDPOINT_URL ACCESS_KEY_ID SECRET_ACCESS_KEY
CHECK: concurrent-puts | ranged-checksum | gets-during-puts
Prints "CHECK: OK" and exits 0, or fails with an AssertionError naming what was wrong.
"""
import concurrent.futures
import hashlib
import sys

import boto3
import botocore.config

BUCKET = "hostile"


def client(endpoint, key_id, secret):
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, aws_access_key_id=key_id, aws_secret_access_key=secret,
        region_name="us-east-1",
        config=botocore.config.Config(retries={"max_attempts": 1}, signature_version="s3v4",
                                      max_pool_connections=16,
                                      s3={"addressing_style": "path"}))


def ensure_bucket(s3):
    try:
        s3.create_bucket(Bucket=BUCKET)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass


def body_of(round_index, writer):
    # Distinct bytes and sizes per writer, so that a body names the PUT it came from.
    mark = f"round {round_index} writer {writer};".encode()
    return mark * ((64 << 10) * (writer + 1) // len(mark))


def concurrent_puts(s3, rounds=40, writers=6):
    """Concurrent PUTs of one key, each with its own body, Content-Type and x-amz-meta-*: after
    every round, GET and HEAD show one PUT's body with that same PUT's metadata."""
    mixed = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=writers) as pool:
        for round_index in range(rounds):
            key = f"race/object-{round_index % 4}"

            def put(writer):
                s3.put_object(Bucket=BUCKET, Key=key, Body=body_of(round_index, writer),
                              ContentType=f"application/x-writer-{writer}",
                              Metadata={"writer": str(writer), "round": str(round_index)})

            list(pool.map(put, range(writers)))
            got = s3.get_object(Bucket=BUCKET, Key=key)
            body = got["Body"].read()
            head = s3.head_object(Bucket=BUCKET, Key=key)
            writers_of_body = [w for w in range(writers) if body == body_of(round_index, w)]
            assert len(writers_of_body) == 1, f"round {round_index}: a body no PUT sent"
            writer = writers_of_body[0]
            for name, answer in (("GET", got), ("HEAD", head)):
                seen = (answer["ContentType"], answer["Metadata"])
                wanted = (f"application/x-writer-{writer}",
                          {"writer": str(writer), "round": str(round_index)})
                if seen != wanted:
                    mixed.append(f"round {round_index} {name}: body of writer {writer}, "
                                 f"metadata {seen}")
    assert not mixed, f"{len(mixed)} answers mixed one PUT's body with other metadata: {mixed}"


def ranged_checksum(s3):
    """A ranged GET in checksum mode gets the range, without the whole object's checksum (S3
    sends none on a 206), so that boto3 does not fail the read with FlexibleChecksumError; a
    whole GET still gets it, and boto3 checks it."""
    data = b"0123456789" * 1000
    s3.put_object(Bucket=BUCKET, Key="ranged/object", Body=data)
    ranged = s3.get_object(Bucket=BUCKET, Key="ranged/object", Range="bytes=10-29",
                           ChecksumMode="ENABLED")
    assert ranged["Body"].read() == data[10:30]
    assert "ChecksumSHA256" not in ranged, ranged.get("ChecksumSHA256")
    whole = s3.get_object(Bucket=BUCKET, Key="ranged/object", ChecksumMode="ENABLED")
    assert whole["Body"].read() == data
    import base64
    assert whole["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()


def gets_during_puts(s3, seconds=4, readers=4):
    """GETs while PUTs replace the key: each answer's body comes with its own PUT's
    Content-Type and metadata (a GET looked the object up, then opened the next PUT's data);
    a read pinned with IfMatch to a replaced version is refused (412), IfNoneMatch of the
    version held answers 304, as S3 answers them."""
    import threading
    import time
    import botocore.exceptions
    key = "race/read-while-written"
    versions = {w: body_of(1000, w) for w in range(2)}

    def put(writer):
        s3.put_object(Bucket=BUCKET, Key=key, Body=versions[writer],
                      ContentType=f"application/x-writer-{writer}",
                      Metadata={"writer": str(writer)})

    put(0)
    stop = time.monotonic() + seconds
    mixed, reads = [], [0]

    def write_loop():
        writer = 1
        while time.monotonic() < stop:
            put(writer)
            writer = 1 - writer

    def read_loop():
        while time.monotonic() < stop:
            got = s3.get_object(Bucket=BUCKET, Key=key)
            body = got["Body"].read()
            writer = got["Metadata"].get("writer")
            if (writer not in ("0", "1") or body != versions[int(writer)]
                    or got["ContentType"] != f"application/x-writer-{writer}"):
                mixed.append((writer, got["ContentType"], len(body)))
            reads[0] += 1

    threads = [threading.Thread(target=write_loop)] + [
        threading.Thread(target=read_loop) for _ in range(readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert reads[0] > 20, f"only {reads[0]} reads"
    assert not mixed, f"{len(mixed)} of {reads[0]} GETs mixed one PUT's headers with another's body: {mixed[:5]}"

    held = s3.head_object(Bucket=BUCKET, Key=key)["ETag"]
    try:
        s3.get_object(Bucket=BUCKET, Key=key, IfNoneMatch=held)
        raise AssertionError("IfNoneMatch of the version held was answered with the object")
    except botocore.exceptions.ClientError as error:
        assert error.response["Error"]["Code"] == "304", error.response
    put(0 if s3.head_object(Bucket=BUCKET, Key=key)["Metadata"]["writer"] == "1" else 1)
    try:
        s3.get_object(Bucket=BUCKET, Key=key, IfMatch=held)
        raise AssertionError("IfMatch of a replaced version was answered with the new one")
    except botocore.exceptions.ClientError as error:
        assert error.response["Error"]["Code"] == "PreconditionFailed", error.response


def main(check, endpoint, key_id, secret):
    s3 = client(endpoint, key_id, secret)
    ensure_bucket(s3)
    {"concurrent-puts": concurrent_puts, "ranged-checksum": ranged_checksum,
     "gets-during-puts": gets_during_puts}[check](s3)
    print(f"{check}: OK")


if __name__ == "__main__":
    main(*sys.argv[1:])
