#!/usr/bin/python3
"""boto3 creates a training job whose code arrives only as the SageMaker Python SDK ships it.

Usage: sagemaker_submit_directory_check.py ENDPOINT_URL REGION ACCESS_KEY_ID SECRET_ACCESS_KEY \
           INPUT_S3_URI OUTPUT_S3_URI SOURCEDIR_S3_URI JOB_NAME

SOURCEDIR_S3_URI must hold a sourcedir.tar.gz with train.py at its top. The job is created as the
SDK's Estimator(entry_point="train.py", source_dir=...) creates it: no ContainerEntrypoint, the
hyperparameters sagemaker_program and sagemaker_submit_directory JSON-encoded. It must complete.
A second job naming a sourcedir that is not there must fail with a ClientError naming it.
Prints each check and "sagemaker submit directory check: OK", exits 0.
"""
import json
import sys
import time

import boto3
import botocore.config

TERMINAL = ("Completed", "Failed", "Stopped")


def request(name, input_uri, output_uri, sourcedir_uri):
    return dict(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingInputMode": "File"},
        RoleArn="arn:aws:iam::000000000000:role/trainyard-submit-directory-check",
        InputDataConfig=[{"ChannelName": "training",
                          "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                                          "S3Uri": input_uri}}}],
        OutputDataConfig={"S3OutputPath": output_uri},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
        # As the SDK writes them: every value JSON-encoded.
        HyperParameters={"sagemaker_program": json.dumps("train.py"),
                         "sagemaker_submit_directory": json.dumps(sourcedir_uri),
                         "epochs": json.dumps(3)})


def wait(sm, name, timeout=120):
    deadline = time.time() + timeout
    while True:
        job = sm.describe_training_job(TrainingJobName=name)
        if job["TrainingJobStatus"] in TERMINAL:
            return job
        if time.time() > deadline:
            raise AssertionError("%s: still %s after %ss" % (name, job["SecondaryStatus"], timeout))
        time.sleep(0.2)


def main(endpoint, region, key_id, secret, input_uri, output_uri, sourcedir_uri, name):
    session = boto3.session.Session(aws_access_key_id=key_id, aws_secret_access_key=secret,
                                    region_name=region)
    sm = session.client("sagemaker", endpoint_url=endpoint,
                        config=botocore.config.Config(retries={"max_attempts": 1}))
    sm.create_training_job(**request(name, input_uri, output_uri, sourcedir_uri))
    job = wait(sm, name)
    assert job["TrainingJobStatus"] == "Completed", (job["TrainingJobStatus"],
                                                     job.get("FailureReason"))
    print("create_training_job: %s Completed with its code from %s" % (name, sourcedir_uri))

    missing_uri = sourcedir_uri.rsplit("/", 1)[0] + "/missing/sourcedir.tar.gz"
    missing = name + "-missing"
    sm.create_training_job(**request(missing, input_uri, output_uri, missing_uri))
    job = wait(sm, missing)
    reason = job.get("FailureReason", "")
    assert job["TrainingJobStatus"] == "Failed", job["TrainingJobStatus"]
    assert reason.startswith("ClientError: ") and missing_uri in reason, reason
    print("a missing sourcedir: Failed,", reason)
    print("sagemaker submit directory check: OK")


if __name__ == "__main__":
    if len(sys.argv) != 9:
        sys.exit(__doc__)
    main(*sys.argv[1:])
