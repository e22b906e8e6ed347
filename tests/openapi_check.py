#!/usr/bin/env python3
"""Checks trainyard's OpenAPI document (docs/openapi.json) and responses against it.

  openapi_check.py --document docs/openapi.json lint
      The document itself: valid JSON, openapi 3.1.x, every "$ref" resolves, every operation has
      at least one response, every path template parameter is declared, every schema in
      components/schemas is a valid Draft 2020-12 schema, and the text holds nothing that would
      end the C++ raw string it is embedded in.
  openapi_check.py --document docs/openapi.json list-operations
      One "METHOD PATH" line per operation.
  openapi_check.py --document docs/openapi.json validate-response METHOD PATH STATUS BODY_FILE
      Validates the JSON in BODY_FILE ("-": stdin) against the schema the document declares for
      that operation's response STATUS (exactly, else "4XX"-style, else "default"), media type
      application/json unless --content-type says otherwise.

Exit status: 0 ok; 1 invalid (each error names the JSON path that failed); 2 the document
declares no such operation, status or JSON schema, or a usage error; 77 when python3-jsonschema is
missing (a skip for CTest).
"""
import argparse
import json
import re
import sys

try:
    import jsonschema
    from jsonschema import Draft202012Validator
except ImportError:  # pragma: no cover
    print("skipped: python3-jsonschema is not installed", file=sys.stderr)
    sys.exit(77)

try:  # jsonschema >= 4.18
    import referencing
    import referencing.jsonschema
    HAVE_REFERENCING = True
except ImportError:  # pragma: no cover
    HAVE_REFERENCING = False

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
DOCUMENT_URI = "urn:trainyard:openapi"
RAW_STRING_END = ')trainyard_openapi"'


class Usage(Exception):
    """The document declares no such thing (exit 2)."""


def load_document(path):
    with open(path, encoding="utf-8") as file:
        text = file.read()
    return text, json.loads(text)


def escape_pointer(token):
    return token.replace("~", "~0").replace("/", "~1")


def resolve_pointer(document, ref):
    """The value a local "#/a/b" reference names; KeyError when it names nothing."""
    if not ref.startswith("#"):
        raise KeyError(ref)
    value = document
    pointer = ref[1:]
    if pointer == "":
        return value
    if not pointer.startswith("/"):
        raise KeyError(ref)
    for token in pointer[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and token in value:
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        else:
            raise KeyError(ref)
    return value


def deref(document, value):
    """Follows "$ref" (OpenAPI objects such as responses and parameters may be references)."""
    seen = set()
    while isinstance(value, dict) and "$ref" in value:
        ref = value["$ref"]
        if ref in seen:
            raise KeyError("a $ref cycle at " + ref)
        seen.add(ref)
        value = resolve_pointer(document, ref)
    return value


def operations(document):
    for path, item in document.get("paths", {}).items():
        item = deref(document, item)
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def make_validator(document, pointer):
    """A Draft 2020-12 validator for the schema at `pointer` (a JSON pointer into the document),
    with "#/components/schemas/..." references resolved against the document."""
    reference = {"$ref": DOCUMENT_URI + "#" + pointer}
    format_checker = Draft202012Validator.FORMAT_CHECKER
    if HAVE_REFERENCING:
        resource = referencing.jsonschema.DRAFT202012.create_resource(document)
        registry = referencing.Registry().with_resource(DOCUMENT_URI, resource)
        return Draft202012Validator(reference, registry=registry, format_checker=format_checker)
    resolver = jsonschema.RefResolver(DOCUMENT_URI, document,  # older jsonschema
                                      store={DOCUMENT_URI: document})
    return Draft202012Validator(reference, resolver=resolver, format_checker=format_checker)


def find_response(document, method, path, status):
    item = document.get("paths", {}).get(path)
    if item is None:
        raise Usage("the document has no path '%s'" % path)
    item = deref(document, item)
    operation = item.get(method.lower())
    if operation is None:
        raise Usage("the document has no operation %s %s" % (method.upper(), path))
    responses = operation.get("responses", {})
    status = str(status)
    for key in (status, status[:1] + "XX", "default"):
        if key in responses:
            return key, responses[key]
    raise Usage("%s %s declares no response %s (it declares %s)" %
                (method.upper(), path, status, ", ".join(sorted(responses)) or "none"))


def pick_media_type(content, wanted):
    if wanted:
        if wanted in content:
            return wanted
        for media in content:  # "application/json" matches "application/json; charset=utf-8"
            if media.split(";")[0].strip() == wanted.split(";")[0].strip():
                return media
        return None
    if "application/json" in content:
        return "application/json"
    for media in content:
        base = media.split(";")[0].strip()
        if base == "application/json" or base.endswith("+json"):
            return media
    return None


def format_error(error):
    path = getattr(error, "json_path", None)
    if path is None:  # older jsonschema
        path = "$" + "".join("[%d]" % p if isinstance(p, int) else "." + str(p)
                             for p in error.absolute_path)
    schema_path = "/".join(str(p) for p in error.absolute_schema_path)
    return "%s: %s (schema: %s)" % (path, error.message, schema_path)


def validate_response(document, method, path, status, body_file, content_type=None):
    key, response = find_response(document, method, path, status)
    pointer = "/paths/%s/%s/responses/%s" % (escape_pointer(path), method.lower(),
                                             escape_pointer(key))
    if "$ref" in response:
        pointer = response["$ref"][1:]
        response = deref(document, response)
    if body_file == "-":
        text = sys.stdin.read()
    else:
        with open(body_file, encoding="utf-8") as file:
            text = file.read()
    content = response.get("content")
    if not content:
        if text.strip():
            print("%s %s %s declares no body, but one was given (%d bytes)" %
                  (method.upper(), path, status, len(text)))
            return 1
        return 0
    media = pick_media_type(content, content_type)
    if media is None:
        raise Usage("%s %s %s declares no JSON body (content types: %s)" %
                    (method.upper(), path, status, ", ".join(content)))
    if "schema" not in content[media]:
        raise Usage("%s %s %s %s declares no schema" % (method.upper(), path, status, media))
    try:
        body = json.loads(text)
    except ValueError as error:
        print("$: the body is not valid JSON: %s" % error)
        return 1
    validator = make_validator(document, pointer + "/content/" + escape_pointer(media) +
                               "/schema")
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if not errors:
        return 0
    print("%s %s %s (%s): %d error(s)" % (method.upper(), path, status, media, len(errors)))
    for error in errors:
        print("  " + format_error(error))
        for sub in sorted(error.context or [], key=lambda e: list(e.absolute_path))[:6]:
            print("    - " + format_error(sub))
    return 1


def lint(text, document):
    problems = []
    if RAW_STRING_END in text:
        problems.append("the text holds '%s', which ends the C++ raw string it is embedded in"
                        % RAW_STRING_END)
    version = document.get("openapi") if isinstance(document, dict) else None
    if not isinstance(version, str) or not re.fullmatch(r"3\.1\.\d+", version):
        problems.append("openapi is %r, not 3.1.x" % (version,))
        return problems
    for field in ("info", "paths"):
        if field not in document:
            problems.append("no '%s'" % field)
    info = document.get("info", {})
    for field in ("title", "version"):
        if not isinstance(info.get(field), str):
            problems.append("info.%s is missing" % field)

    def walk(value, where):
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str):
                try:
                    resolve_pointer(document, ref)
                except KeyError:
                    problems.append("%s: $ref '%s' does not resolve" % (where or "/", ref))
            for key, item in value.items():
                walk(item, where + "/" + escape_pointer(str(key)))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, "%s/%d" % (where, index))

    walk(document, "")
    if problems:
        return problems  # the checks below follow references

    schemes = document.get("components", {}).get("securitySchemes", {})

    def check_security(requirements, where):
        for requirement in requirements or []:
            for name in requirement:
                if name not in schemes:
                    problems.append("%s: security scheme '%s' is not in components" %
                                    (where, name))

    check_security(document.get("security"), "security")
    operation_ids = {}
    for path, raw_item in document.get("paths", {}).items():
        if not path.startswith("/"):
            problems.append("path '%s' does not start with '/'" % path)
        item = deref(document, raw_item)
        templated = set(re.findall(r"\{([^}]+)\}", path))
        path_level = [deref(document, p) for p in item.get("parameters", [])]
        methods = [m for m in METHODS if m in item]
        if not methods:
            problems.append("%s: no operations" % path)
        for method in methods:
            operation = item[method]
            where = "%s %s" % (method.upper(), path)
            responses = operation.get("responses")
            if not isinstance(responses, dict) or not responses:
                problems.append("%s: no responses" % where)
            else:
                for status, response in responses.items():
                    if not re.fullmatch(r"[1-5](\d\d|XX)|default", status):
                        problems.append("%s: '%s' is not a response status" % (where, status))
                    if "description" not in deref(document, response):
                        problems.append("%s %s: the response has no description" %
                                        (where, status))
            operation_id = operation.get("operationId")
            if operation_id is not None:
                if operation_id in operation_ids:
                    problems.append("%s: operationId '%s' is also %s" %
                                    (where, operation_id, operation_ids[operation_id]))
                operation_ids[operation_id] = where
            check_security(operation.get("security"), where)
            parameters = path_level + [deref(document, p) for p in operation.get("parameters", [])]
            declared = set()
            for parameter in parameters:
                if parameter.get("in") not in ("query", "header", "path", "cookie"):
                    problems.append("%s: parameter %r has no valid 'in'" %
                                    (where, parameter.get("name")))
                if parameter.get("in") == "path":
                    declared.add(parameter.get("name"))
                    if parameter.get("required") is not True:
                        problems.append("%s: path parameter '%s' must be required" %
                                        (where, parameter.get("name")))
                if "schema" not in parameter and "content" not in parameter:
                    problems.append("%s: parameter '%s' has no schema" %
                                    (where, parameter.get("name")))
            for name in sorted(templated - declared):
                problems.append("%s: path parameter '{%s}' is not declared" % (where, name))
            for name in sorted(declared - templated):
                problems.append("%s: path parameter '%s' is not in the path" % (where, name))

    for name, schema in document.get("components", {}).get("schemas", {}).items():
        try:
            Draft202012Validator.check_schema(schema)
        except jsonschema.exceptions.SchemaError as error:
            problems.append("components/schemas/%s is not a valid Draft 2020-12 schema: %s at %s"
                            % (name, error.message,
                               "/".join(str(p) for p in error.absolute_path)))
    # Every inline schema too (request bodies, responses, parameters).
    for method, path, operation in operations(document):
        where = "%s %s" % (method.upper(), path)
        schemas = []
        body = deref(document, operation.get("requestBody", {}))
        for media, entry in body.get("content", {}).items():
            schemas.append(("request " + media, entry.get("schema")))
        for status, response in operation.get("responses", {}).items():
            for media, entry in deref(document, response).get("content", {}).items():
                schemas.append(("%s %s" % (status, media), entry.get("schema")))
        for label, schema in schemas:
            if schema is None:
                continue
            try:
                Draft202012Validator.check_schema(schema)
            except jsonschema.exceptions.SchemaError as error:
                problems.append("%s %s: invalid schema: %s" % (where, label, error.message))
    return problems


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--document", default="docs/openapi.json")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("lint")
    commands.add_parser("list-operations")
    validate = commands.add_parser("validate-response")
    validate.add_argument("method")
    validate.add_argument("path")
    validate.add_argument("status")
    validate.add_argument("body_file")
    validate.add_argument("--content-type", default=None)
    many = commands.add_parser(
        "validate-many", help="one 'METHOD PATH STATUS BODY_FILE' per line of LIST_FILE")
    many.add_argument("list_file")
    args = parser.parse_args(argv)

    try:
        text, document = load_document(args.document)
    except (OSError, ValueError) as error:
        print("%s: cannot read the document: %s" % (args.document, error))
        return 1 if args.command == "lint" else 2

    try:
        if args.command == "lint":
            problems = lint(text, document)
            for problem in problems:
                print(problem)
            if problems:
                return 1
            count = sum(1 for _ in operations(document))
            print("%s: ok (%d operations, %d schemas)" %
                  (args.document, count, len(document.get("components", {}).get("schemas", {}))))
            return 0
        if args.command == "list-operations":
            for method, path, _ in operations(document):
                print("%s %s" % (method.upper(), path))
            return 0
        if args.command == "validate-many":
            worst = 0
            with open(args.list_file) as listing:
                for line in listing:
                    if not line.strip():
                        continue
                    method, path, status, body_file = line.split()
                    code = validate_response(document, method, path, status, body_file, None)
                    if code != 0:
                        print("  (%s %s %s)" % (method, path, status))
                    worst = max(worst, code)
            return worst
        return validate_response(document, args.method, args.path, args.status, args.body_file,
                                 args.content_type)
    except Usage as error:
        print(error)
        return 2
    except OSError as error:
        print(error)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
