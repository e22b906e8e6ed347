#!/usr/bin/env python3
"""Tests of tests/openapi_check.py against the real docs/openapi.json:
python3 tests/openapi_check_test.py (exits 77, a skip, without python3-jsonschema)."""
import copy
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest
from contextlib import redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DOCUMENT = os.path.join(ROOT, "docs", "openapi.json")
SCRIPT = os.path.join(HERE, "openapi_check.py")

try:
    import jsonschema  # noqa: F401
except ImportError:
    print("skipped: python3-jsonschema is not installed")
    sys.exit(77)

sys.path.insert(0, HERE)
import openapi_check  # noqa: E402

# As JobJson (src/server/api/representations.cc) writes a running job.
JOB = {
    "attempt": 0,
    "created_at": "2026-11-27T18:30:00.000Z",
    "duration_seconds": 153.12,
    "ended_at": None,
    "executor": "local",
    "exit_code": None,
    "failure_reason": "",
    "stop_reason": "",
    "image": "",
    "image_digest": "",
    "hyperparameters": {"batch_size": "32", "iterations": "300", "learning_rate": "0.01"},
    "index": 0,
    "metrics": {"loss": 0.31},
    "name": "digits-001",
    "progress": {"progress": 0.5, "step": 150, "total_steps": 300},
    "queued": False,
    "secondary_status": "Training",
    "started_at": "2026-11-27T18:30:00.120Z",
    "status": "InProgress",
    "sweep_id": "sw-0123456789abcdef",
    "transitions": [
        {"end_time": "2026-11-27T18:30:01.000Z", "start_time": "2026-11-27T18:30:00.000Z",
         "status": "Starting", "status_message": "Queued for a slot"},
        {"start_time": "2026-11-27T18:30:01.000Z", "status": "Training",
         "status_message": "Training"},
    ],
}

DATASET = {
    "content_type": "application/octet-stream",
    "created_at": "2026-11-27T18:00:00.000Z",
    "filename": "train.csv",
    "id": "ds-0123456789abcdef",
    "kind": "training",
    "name": "train.csv",
    "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    "size": 3,
}

SPEC = {
    "channels": {"training": "ds-0123456789abcdef"},
    "combinations": [{}],
    "environment": {},
    "executor": "local",
    "hyperparameters": {"iterations": 300},
    "max_parallel": 0,
    "max_runtime_seconds": 86400,
    "metric_definitions": [],
    "name": "digits",
    "requeue_on_restart": False,
    "resources": {"instance_count": 1, "instance_type": "local"},
    "trainer": {"command": ["trainyard-example-trainer"]},
}

SWEEP = {
    "best_job": None,
    "counts": {"Queued": 1},
    "created_at": "2026-11-27T18:30:00.000Z",
    "id": "sw-0123456789abcdef",
    "job_count": 1,
    "name": "digits",
    "progress": 0.0,
    "spec": SPEC,
    "stop_requested": False,
}


class OpenApiCheckTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.text, cls.document = openapi_check.load_document(DOCUMENT)
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def write(self, body, name="body.json"):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w", encoding="utf-8") as file:
            file.write(body if isinstance(body, str) else json.dumps(body))
        return path

    def validate(self, method, path, status, body):
        output = io.StringIO()
        with redirect_stdout(output):
            try:
                code = openapi_check.validate_response(self.document, method, path, status,
                                                       self.write(body))
            except openapi_check.Usage as error:
                print(error)
                code = 2
        return code, output.getvalue()

    def run_script(self, *args):
        return subprocess.run([sys.executable, SCRIPT, "--document", DOCUMENT, *args],
                              capture_output=True, text=True)

    def test_lint_passes_on_the_real_document(self):
        self.assertEqual(openapi_check.lint(self.text, self.document), [])
        result = self.run_script("lint")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_lint_finds_a_dangling_ref_and_a_bad_schema(self):
        broken = copy.deepcopy(self.document)
        broken["components"]["schemas"]["Job"]["properties"]["extra"] = {
            "$ref": "#/components/schemas/Nope"}
        broken["components"]["schemas"]["Bad"] = {"type": "banana"}
        problems = "\n".join(openapi_check.lint(json.dumps(broken), broken))
        self.assertIn("#/components/schemas/Nope", problems)
        broken["components"]["schemas"]["Job"]["properties"].pop("extra")
        problems = "\n".join(openapi_check.lint(json.dumps(broken), broken))
        self.assertIn("components/schemas/Bad", problems)

    def test_lint_wants_openapi_3_1_and_responses(self):
        broken = copy.deepcopy(self.document)
        broken["openapi"] = "3.0.3"
        self.assertTrue(openapi_check.lint(json.dumps(broken), broken))
        broken = copy.deepcopy(self.document)
        broken["paths"]["/healthz"]["get"]["responses"] = {}
        self.assertIn("GET /healthz: no responses",
                      openapi_check.lint(json.dumps(broken), broken))

    def test_every_routed_operation_is_declared(self):
        listed = set(self.run_script("list-operations").stdout.split("\n")) - {""}
        expected = {
            "GET /healthz", "GET /metrics", "GET /api/v1/openapi.json",
            "POST /api/v1/datasets", "GET /api/v1/datasets", "GET /api/v1/datasets/{id}",
            "DELETE /api/v1/datasets/{id}", "GET /api/v1/datasets/{id}/content",
            "POST /api/v1/sweeps", "GET /api/v1/sweeps", "GET /api/v1/sweeps/{id}",
            "POST /api/v1/sweeps/{id}/stop", "POST /api/v1/sweeps/{id}/retry",
            "GET /api/v1/jobs", "GET /api/v1/jobs/{name}", "POST /api/v1/jobs/{name}/stop",
            "GET /api/v1/jobs/{name}/metrics", "GET /api/v1/jobs/{name}/logs",
            "GET /api/v1/jobs/{name}/artifacts/{artifact}",
            "POST /api/v1/jobs/{name}/progress", "GET /api/v1/events",
            "POST /api/v1/webhooks", "GET /api/v1/webhooks", "GET /api/v1/webhooks/{id}",
            "DELETE /api/v1/webhooks/{id}", "GET /api/v1/webhooks/{id}/deliveries",
            "POST /api/v1/webhooks/{id}/deliveries/{delivery}/redeliver"}
        self.assertEqual(listed, expected)

    def test_a_valid_job(self):
        code, output = self.validate("GET", "/api/v1/jobs/{name}", "200", JOB)
        self.assertEqual(code, 0, output)
        ended = dict(JOB, ended_at="2026-11-27T18:35:00.000Z", exit_code=0, status="Completed",
                     secondary_status="Completed")
        self.assertEqual(self.validate("POST", "/api/v1/jobs/{name}/stop", "200", ended)[0], 0)
        queued = dict(JOB, queued=True, started_at=None, duration_seconds=None, metrics={},
                      progress={}, secondary_status="Starting")
        page = {"jobs": [queued, JOB], "next_page_token": "2"}
        code, output = self.validate("GET", "/api/v1/jobs", "200", page)
        self.assertEqual(code, 0, output)
        self.assertEqual(self.validate("GET", "/api/v1/jobs", "200", {"jobs": []})[0], 0)

    def test_a_job_missing_a_required_field_fails_naming_it(self):
        job = dict(JOB)
        del job["exit_code"]
        code, output = self.validate("GET", "/api/v1/jobs/{name}", "200", job)
        self.assertEqual(code, 1)
        self.assertIn("'exit_code' is a required property", output)

    def test_a_wrong_field_fails_naming_its_json_path(self):
        page = {"jobs": [dict(JOB, started_at=12)]}
        code, output = self.validate("GET", "/api/v1/jobs", "200", page)
        self.assertEqual(code, 1)
        self.assertIn("$.jobs[0].started_at", output)
        code, output = self.validate("GET", "/api/v1/jobs/{name}", "200",
                                     dict(JOB, surprise=True))
        self.assertEqual(code, 1)
        self.assertIn("surprise", output)

    def test_errors(self):
        error = {"error": {"code": "InvalidArgument",
                           "message": "field 'limit': must be an integer from 1 to 1000",
                           "field": "limit"}}
        self.assertEqual(self.validate("GET", "/api/v1/jobs", "400", error)[0], 0)
        not_found = {"error": {"code": "NotFound", "message": "job 'x' not found"}}
        self.assertEqual(self.validate("GET", "/api/v1/jobs/{name}", "404", not_found)[0], 0)
        unknown = {"error": {"code": "Oops", "message": "x"}}
        code, output = self.validate("GET", "/api/v1/jobs/{name}", "404", unknown)
        self.assertEqual(code, 1)
        self.assertIn("$.error.code", output)
        self.assertEqual(self.validate("GET", "/api/v1/jobs/{name}", "404",
                                       {"error": {"code": "NotFound"}})[0], 1)

    def test_datasets_and_sweeps(self):
        self.assertEqual(self.validate("POST", "/api/v1/datasets", "201", DATASET)[0], 0)
        self.assertEqual(
            self.validate("GET", "/api/v1/datasets", "200", {"datasets": [DATASET]})[0], 0)
        code, output = self.validate("GET", "/api/v1/sweeps/{id}", "200", SWEEP)
        self.assertEqual(code, 0, output)
        best = dict(SWEEP, best_job={"name": "digits-001", "metric": "eval_accuracy",
                                     "value": 0.9, "hyperparameters": {"iterations": "300"}})
        self.assertEqual(self.validate("GET", "/api/v1/sweeps/{id}", "200", best)[0], 0)
        self.assertEqual(self.validate("POST", "/api/v1/sweeps", "201", SWEEP)[0], 0)
        listed = dict(SWEEP)
        del listed["progress"], listed["best_job"]
        code, output = self.validate("GET", "/api/v1/sweeps", "200", {"sweeps": [listed]})
        self.assertEqual(code, 0, output)
        no_progress = dict(SWEEP)
        del no_progress["progress"]
        self.assertEqual(self.validate("GET", "/api/v1/sweeps/{id}", "200", no_progress)[0], 1)
        self.assertEqual(
            self.validate("POST", "/api/v1/sweeps/{id}/retry", "200", {"retried": ["a"]})[0], 0)

    def test_sweep_create_schema(self):
        validator = openapi_check.make_validator(self.document, "/components/schemas/SweepCreate")
        good = {"name": "digits", "trainer": {"command": ["python3", "train.py"]},
                "channels": {"training": "ds-0123456789abcdef"},
                "grid": {"learning_rate": [0.01, 0.02]},
                "objective": {"metric": "acc", "goal": "max"}}
        self.assertEqual(list(validator.iter_errors(good)), [])
        # Channels are optional, as SageMaker's InputDataConfig is.
        without_channels = {key: value for key, value in good.items() if key != "channels"}
        self.assertEqual(list(validator.iter_errors(without_channels)), [])
        self.assertEqual(list(validator.iter_errors(dict(good, channels={}))), [])
        for bad in (dict(good, unknown=1), dict(good, combinations=[{"a": 1}]),
                    dict(good, trainer={"command": ["x"], "image": "y"}),
                    dict(good, name="-bad"), dict(good, max_parallel=-1),
                    dict(good, channels={"training": "ds-1"}),
                    dict(good, environment={"TRAINYARD_X": "1"})):
            self.assertTrue(list(validator.iter_errors(bad)), bad)
        spec = openapi_check.make_validator(self.document, "/components/schemas/SweepSpec")
        self.assertEqual(list(spec.iter_errors(SPEC)), [])

    def test_empty_bodies_and_undeclared_statuses(self):
        self.assertEqual(self.validate("DELETE", "/api/v1/datasets/{id}", "204", "")[0], 0)
        self.assertEqual(self.validate("DELETE", "/api/v1/datasets/{id}", "204", "{}")[0], 1)
        self.assertEqual(self.validate("GET", "/api/v1/jobs/{name}", "418", JOB)[0], 2)
        self.assertEqual(self.validate("PUT", "/api/v1/jobs/{name}", "200", JOB)[0], 2)
        self.assertEqual(self.validate("GET", "/api/v1/nothing", "200", JOB)[0], 2)
        result = self.run_script("validate-response", "GET", "/api/v1/jobs/{name}", "418",
                                 self.write(JOB))
        self.assertEqual(result.returncode, 2, result.stdout)
        result = self.run_script("validate-response", "GET", "/api/v1/jobs/{name}", "200",
                                 self.write(dict(JOB, index="0")))
        self.assertEqual(result.returncode, 1)
        self.assertIn("$.index", result.stdout)

    def test_healthz(self):
        self.assertEqual(self.validate("GET", "/healthz", "200",
                                       {"status": "ok", "version": "0.1.0"})[0], 0)


if __name__ == "__main__":
    unittest.main()
