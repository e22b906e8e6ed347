#!/usr/bin/python3
"""boto3 tuning code written for AWS, run against trainyard's SageMaker endpoint.

Usage: sagemaker_tuning_check.py ENDPOINT_URL REGION ACCESS_KEY_ID SECRET_ACCESS_KEY \
           INPUT_S3_URI OUTPUT_S3_URI SOURCEDIR_S3_URI NAME

SOURCEDIR_S3_URI must hold a sourcedir.tar.gz whose train.py takes -x, --layers and --sleep and
prints "val_loss=<(x - 0.3)^2 + 0.01 * layers>" after sleeping --sleep seconds. The tuning jobs
are created as the SageMaker Python SDK's HyperparameterTuner creates them (the code named by
the static hyperparameters sagemaker_program and sagemaker_submit_directory, JSON-encoded).

Checks: a Bayesian tuning job NAME runs to Completed (described until then), with its counters,
its BestTrainingJob the least val_loss of its training jobs (listed sorted by
FinalObjectiveMetricValue), ListHyperParameterTuningJobs shows it, its best training job names
its tuning job; an unknown tuning job is ResourceNotFound; a bad range is a
ValidationException naming the field; a second tuning job NAME-stop whose jobs run long is
stopped and ends Stopped. Prints each check and "sagemaker tuning check: OK", exits 0.
"""
import json
import sys
import time

import boto3
import botocore.config
from botocore.exceptions import ClientError


def tuning_request(name, input_uri, output_uri, sourcedir_uri, max_jobs, parallel, sleep):
    return dict(
        HyperParameterTuningJobName=name,
        HyperParameterTuningJobConfig={
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "val:loss"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": max_jobs,
                               "MaxParallelTrainingJobs": parallel},
            "ParameterRanges": {
                "ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "1",
                                               "ScalingType": "Auto"}],
                "IntegerParameterRanges": [{"Name": "layers", "MinValue": "1",
                                            "MaxValue": "3"}],
            },
            "TrainingJobEarlyStoppingType": "Off",
        },
        TrainingJobDefinition={
            "StaticHyperParameters": {"sagemaker_program": json.dumps("train.py"),
                                      "sagemaker_submit_directory": json.dumps(sourcedir_uri),
                                      "sleep": json.dumps(sleep)},
            "AlgorithmSpecification": {
                "TrainingInputMode": "File",
                "MetricDefinitions": [{"Name": "val:loss", "Regex": "val_loss=([0-9\\.]+)"}]},
            "RoleArn": "arn:aws:iam::000000000000:role/trainyard-tuning-check",
            "InputDataConfig": [{"ChannelName": "training",
                                 "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                                                 "S3Uri": input_uri}}}],
            "OutputDataConfig": {"S3OutputPath": output_uri},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1,
                               "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        })


def wait(sm, name, statuses, timeout=120):
    deadline = time.time() + timeout
    while True:
        tuning = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        if tuning["HyperParameterTuningJobStatus"] in statuses:
            return tuning
        if time.time() > deadline:
            raise AssertionError("%s: still %s after %ss" %
                                 (name, tuning["HyperParameterTuningJobStatus"], timeout))
        time.sleep(0.2)


def error_of(call):
    try:
        call()
    except ClientError as error:
        return error.response["Error"]["Code"], error.response["Error"]["Message"]
    raise AssertionError("expected a ClientError")


def main(endpoint, region, key_id, secret, input_uri, output_uri, sourcedir_uri, name):
    session = boto3.session.Session(aws_access_key_id=key_id, aws_secret_access_key=secret,
                                    region_name=region)
    sm = session.client("sagemaker", endpoint_url=endpoint,
                        config=botocore.config.Config(retries={"max_attempts": 1}))

    arn = sm.create_hyper_parameter_tuning_job(
        **tuning_request(name, input_uri, output_uri, sourcedir_uri, 6, 3, 0))[
            "HyperParameterTuningJobArn"]
    assert arn.endswith(":hyper-parameter-tuning-job/" + name.lower()), arn
    tuning = wait(sm, name, ("Completed", "Failed", "Stopped"))
    assert tuning["HyperParameterTuningJobStatus"] == "Completed", tuning
    assert tuning["TrainingJobStatusCounters"]["Completed"] == 6, tuning["TrainingJobStatusCounters"]
    assert tuning["ObjectiveStatusCounters"]["Succeeded"] == 6, tuning["ObjectiveStatusCounters"]
    assert tuning["HyperParameterTuningEndTime"] >= tuning["CreationTime"]
    best = tuning["BestTrainingJob"]
    print("create/describe_hyper_parameter_tuning_job: %s Completed, best %s val:loss %.6f" %
          (name, best["TrainingJobName"], best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]))

    jobs = sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, SortBy="FinalObjectiveMetricValue",
        SortOrder="Ascending", MaxResults=100)["TrainingJobSummaries"]
    assert len(jobs) == 6, jobs
    values = [job["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for job in jobs]
    assert values == sorted(values), values
    assert jobs[0]["TrainingJobName"] == best["TrainingJobName"], (jobs[0], best)
    for job in jobs:
        assert job["TrainingJobName"].startswith(name + "-"), job["TrainingJobName"]
        x, layers = float(job["TunedHyperParameters"]["x"]), int(job["TunedHyperParameters"]["layers"])
        expected = (x - 0.3) ** 2 + 0.01 * layers
        assert abs(job["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] - expected) < 1e-5
    print("list_training_jobs_for_hyper_parameter_tuning_job: %d jobs, best first" % len(jobs))

    paginator = sm.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job")
    paged = [job["TrainingJobName"] for page in paginator.paginate(
        HyperParameterTuningJobName=name, PaginationConfig={"PageSize": 4})
        for job in page["TrainingJobSummaries"]]
    assert sorted(paged) == sorted(job["TrainingJobName"] for job in jobs), paged
    print("paginated by 4: %d jobs" % len(paged))

    listed = sm.list_hyper_parameter_tuning_jobs(NameContains=name)["HyperParameterTuningJobSummaries"]
    assert [t["HyperParameterTuningJobName"] for t in listed] == [name], listed
    assert listed[0]["Strategy"] == "Bayesian" and listed[0]["HyperParameterTuningJobStatus"] == "Completed"
    print("list_hyper_parameter_tuning_jobs:", listed[0]["HyperParameterTuningJobName"])

    training = sm.describe_training_job(TrainingJobName=best["TrainingJobName"])
    assert training["TuningJobArn"] == arn, training.get("TuningJobArn")
    assert training["HyperParameters"]["_tuning_objective_metric"] == "val:loss"
    print("describe_training_job: %s of %s" % (training["TrainingJobName"], training["TuningJobArn"]))

    code, message = error_of(lambda: sm.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name + "-none"))
    assert code == "ResourceNotFound", (code, message)
    bad = tuning_request(name + "-bad", input_uri, output_uri, sourcedir_uri, 4, 2, 0)
    bad["HyperParameterTuningJobConfig"]["ParameterRanges"]["IntegerParameterRanges"][0][
        "MinValue"] = "many"
    code, message = error_of(lambda: sm.create_hyper_parameter_tuning_job(**bad))
    assert code == "ValidationException" and "IntegerParameterRanges.1.MinValue" in message, message
    print("errors: ResourceNotFound;", message)

    stop_name = name + "-stop"
    sm.create_hyper_parameter_tuning_job(
        **tuning_request(stop_name, input_uri, output_uri, sourcedir_uri, 4, 2, 60))
    deadline = time.time() + 60
    while sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=stop_name)[
            "TrainingJobStatusCounters"].get("InProgress", 0) < 2:
        assert time.time() < deadline, "the stop check's jobs did not start"
        time.sleep(0.2)
    sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=stop_name)
    stopped = wait(sm, stop_name, ("Stopped",), timeout=60)
    assert stopped["TrainingJobStatusCounters"]["Stopped"] == 2, stopped["TrainingJobStatusCounters"]
    print("stop_hyper_parameter_tuning_job: %s Stopped" % stop_name)
    print("sagemaker tuning check: OK")


if __name__ == "__main__":
    if len(sys.argv) != 9:
        sys.exit(__doc__)
    main(*sys.argv[1:])
