#!/usr/bin/env python3
"""Validate run manifests against schemas/run-manifest.schema.json.

Prints one JSON object: {path: {"valid": bool, "errors": [message, ...]}}.
YAML is loaded as YAML 1.1 (like ghillie-run) except that timestamps stay strings,
so `end: 2026-11-27T00:00:00Z` is checked as the string it is in the manifest.
"""
import json
import pathlib
import sys

import jsonschema
import yaml


class Loader(yaml.SafeLoader):
    pass


Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def main() -> int:
    root = pathlib.Path(__file__).resolve().parent.parent
    schema = json.loads((root / "schemas" / "run-manifest.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    results = {}
    for path in sys.argv[1:]:
        try:
            with open(path, encoding="utf-8") as handle:
                document = yaml.load(handle, Loader=Loader)
            errors = sorted(
                f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
                for error in validator.iter_errors(document)
            )
        except yaml.YAMLError as error:
            errors = [f"YAML: {error}"]
        results[path] = {"valid": not errors, "errors": errors}
    print(json.dumps(results, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
