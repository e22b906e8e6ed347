#!/usr/bin/env python3
"""Validates a JSON document against a JSON Schema (Draft 2020-12): validate_json.py SCHEMA DOC.

Exits 77 (skip) when the jsonschema package is missing, 1 with the errors when invalid."""
import json
import sys

try:
    import jsonschema
except ImportError:
    print("skipped: python3-jsonschema is not installed (scripts/install-deps.sh installs it)")
    sys.exit(77)

schema = json.load(open(sys.argv[1]))
document = json.load(open(sys.argv[2]))
validator = jsonschema.Draft202012Validator(schema)
errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
for error in errors:
    print("/".join(map(str, error.path)) or "(root)", ":", error.message)
sys.exit(1 if errors else 0)
