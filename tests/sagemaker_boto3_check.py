#!/usr/bin/python3
"""boto3's sagemaker and logs clients against trainyard's SageMaker endpoint.

Usage: sagemaker_boto3_check.py ENDPOINT_URL REGION ACCESS_KEY_ID SECRET_ACCESS_KEY \
           INPUT_S3_URI COMMAND [LONG_COMMAND]

INPUT_S3_URI (s3://bucket/prefix/) must already hold the training data; the job's output goes
to s3://<that bucket>/sagemaker-boto3-check/. COMMAND is a /bin/sh command the job runs (it
must succeed); LONG_COMMAND (default "exec sleep 300") must run until stopped.

botocore checks every request against the official model before sending it and parses every
answer with it, so a pass means boto3 (and the SageMaker SDK above it) can drive trainyard.
Prints each check and "sagemaker boto3 check: OK", exits 0; or fails with a traceback naming
the step.
"""
import sys
import time
import uuid

import boto3
import botocore.config
from botocore.exceptions import ClientError

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
TERMINAL = ("Completed", "Failed", "Stopped")


def clients(endpoint, region, key_id, secret):
    session = boto3.session.Session(aws_access_key_id=key_id, aws_secret_access_key=secret,
                                    region_name=region)
    config = botocore.config.Config(retries={"max_attempts": 1})
    return (session.client("sagemaker", endpoint_url=endpoint, config=config),
            session.client("logs", endpoint_url=endpoint, config=config))


def error_code(call):
    try:
        call()
    except ClientError as error:
        return error.response["Error"]["Code"], error.response["Error"]["Message"]
    raise AssertionError("expected a ClientError")


def job_request(name, command, input_uri, output_uri):
    return dict(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingInputMode": "File",
                                "ContainerEntrypoint": ["sh", "-c", command],
                                "MetricDefinitions": [{"Name": "loss",
                                                       "Regex": "loss=([0-9.]+)"}]},
        RoleArn="arn:aws:iam::000000000000:role/trainyard-boto3-check",
        InputDataConfig=[{"ChannelName": "training",
                          "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                                          "S3Uri": input_uri}}}],
        OutputDataConfig={"S3OutputPath": output_uri},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
        HyperParameters={"learning_rate": "0.1"},
        Environment={"CHECK": "boto3"})


def wait(sm, name, done, timeout=120):
    deadline = time.time() + timeout
    while True:
        job = sm.describe_training_job(TrainingJobName=name)
        if done(job):
            return job
        if time.time() > deadline:
            raise AssertionError("%s: still %s/%s after %ss" % (
                name, job["TrainingJobStatus"], job["SecondaryStatus"], timeout))
        time.sleep(0.2)


def main(endpoint, region, key_id, secret, input_uri, command, long_command="exec sleep 300"):
    sm, logs = clients(endpoint, region, key_id, secret)
    bucket = input_uri[len("s3://"):].split("/", 1)[0]
    output_uri = "s3://%s/sagemaker-boto3-check/" % bucket
    suffix = uuid.uuid4().hex[:8]
    name, long_name = "boto3-check-" + suffix, "boto3-long-" + suffix

    arn = sm.create_training_job(**job_request(name, command, input_uri, output_uri))
    assert arn["TrainingJobArn"].endswith(":training-job/" + name), arn
    print("create_training_job:", arn["TrainingJobArn"])
    job = wait(sm, name, lambda j: j["TrainingJobStatus"] in TERMINAL)
    assert job["TrainingJobStatus"] == "Completed", (job["TrainingJobStatus"],
                                                     job.get("FailureReason"))
    statuses = [t["Status"] for t in job["SecondaryStatusTransitions"]]
    assert statuses == ["Starting", "Downloading", "Training", "Uploading", "Completed"], statuses
    model = job["ModelArtifacts"]["S3ModelArtifacts"]
    assert model == "%s%s/output/model.tar.gz" % (output_uri, name), model
    assert job["TrainingEndTime"] >= job["TrainingStartTime"] >= job["CreationTime"]
    print("describe_training_job: Completed via", " -> ".join(statuses), "model at", model)

    listed = sm.list_training_jobs(NameContains=name, StatusEquals="Completed")
    assert [s["TrainingJobName"] for s in listed["TrainingJobSummaries"]] == [name], listed
    paginated = [s["TrainingJobName"] for page in sm.get_paginator("list_training_jobs").paginate(
        NameContains="boto3-check-", SortBy="Name", PaginationConfig={"PageSize": 2})
        for s in page["TrainingJobSummaries"]]
    assert name in paginated and paginated == sorted(paginated), paginated
    print("list_training_jobs: found with NameContains/StatusEquals and across pages")

    streams = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=name + "/")
    assert len(streams["logStreams"]) == 1, streams
    stream = streams["logStreams"][0]["logStreamName"]
    events = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream,
                                 startFromHead=True)
    assert events["events"], events
    again = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream,
                                nextToken=events["nextForwardToken"], startFromHead=True)
    assert not again["events"] and again["nextForwardToken"] == events["nextForwardToken"]
    print("get_log_events: %d events in %s, end of stream repeats its token"
          % (len(events["events"]), stream))

    code, message = error_code(lambda: sm.create_training_job(
        **job_request(name, command, input_uri, output_uri)))
    assert code == "ResourceInUse", (code, message)
    code, message = error_code(lambda: sm.create_training_job(
        **job_request("bad_name", command, input_uri, output_uri)))
    assert code == "ValidationException" and "trainingJobName" in message, (code, message)
    code, message = error_code(lambda: sm.describe_training_job(TrainingJobName="no-such-job"))
    assert (code, message) == ("ValidationException", "Requested resource not found."), message
    print("errors: duplicate name ResourceInUse, bad name and unknown job ValidationException")

    sm.create_training_job(**job_request(long_name, long_command, input_uri, output_uri))
    wait(sm, long_name, lambda j: j["SecondaryStatus"] == "Training", timeout=60)
    sm.stop_training_job(TrainingJobName=long_name)
    stopped = wait(sm, long_name, lambda j: j["TrainingJobStatus"] in TERMINAL, timeout=180)
    assert (stopped["TrainingJobStatus"], stopped["SecondaryStatus"]) == ("Stopped", "Stopped"), \
        stopped["SecondaryStatus"]
    print("stop_training_job: %s Stopped" % long_name)
    print("sagemaker boto3 check: OK")


if __name__ == "__main__":
    if len(sys.argv) not in (7, 8):
        sys.exit(__doc__)
    main(*sys.argv[1:])
