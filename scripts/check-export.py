#!/usr/bin/env python3
"""Checks an export folder as a consumer would read it.

    scripts/check-export.py EXPORT_DIR [SCHEMA_DIR]

Loads every file listed in `export-manifest.json` with Python's own `json` and `csv` modules,
checks its size, SHA-256 and row count against the manifest, and validates every record
(CSV values converted by the column types in the dataset's JSON Schema) and the manifest
itself against `schemas/export/`. Prints one line per file; exits 1 on any problem.
"""
import csv
import hashlib
import json
import os
import sys

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

folder = sys.argv[1]
schema_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "schemas", "export")
schemas = {}
registry = Registry()
for name in os.listdir(schema_dir):
    if name.endswith(".schema.json"):
        with open(os.path.join(schema_dir, name), encoding="utf-8") as handle:
            schema = json.load(handle)
        schemas[name[: -len(".schema.json")]] = schema
        registry = registry.with_resource(schema["$id"], Resource.from_contents(schema))
problems = []


def validator(dataset):
    return Draft202012Validator(schemas[dataset], registry=registry)


def validate(dataset, record, where):
    for error in validator(dataset).iter_errors(record):
        problems.append(f"{where}: {error.json_path}: {error.message}")
        return


def types_of(spec):
    kind = spec.get("type")
    if kind is None and "enum" in spec:
        kinds = {type(v).__name__ for v in spec["enum"]}
        return ["null" if k == "NoneType" else "string" for k in kinds]
    if kind is None and "const" in spec:
        return ["integer"]
    return kind if isinstance(kind, list) else [kind]


def from_csv(value, spec):
    kinds = types_of(spec)
    if value == "" and "null" in kinds:
        return None
    if "integer" in kinds:
        return int(value)
    if "number" in kinds:
        return float(value)
    if "boolean" in kinds:
        return {"true": True, "false": False}[value]
    if "array" in kinds or "object" in kinds:
        return json.loads(value)
    return value


with open(os.path.join(folder, "export-manifest.json"), encoding="utf-8") as handle:
    manifest = json.load(handle)
validate("export-manifest", manifest, "export-manifest.json")
leftovers = [name for name in os.listdir(folder) if name.endswith(".tmp")]
if leftovers:
    problems.append(f"temporary files left behind: {', '.join(sorted(leftovers))}")

for entry in manifest["files"]:
    path = os.path.join(folder, entry["path"])
    with open(path, "rb") as handle:
        data = handle.read()
    if len(data) != entry["bytes"]:
        problems.append(f"{entry['path']}: {len(data)} bytes, manifest says {entry['bytes']}")
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        problems.append(f"{entry['path']}: sha256 differs from the manifest")
    dataset, kind = entry["dataset"], entry["format"]
    if dataset == "bundle":
        document = json.loads(data.decode("utf-8"))
        validate("bundle", document, entry["path"])
        records = [r for repo in document["repositories"] for rows in repo["events"].values() for r in rows]
    elif kind == "json":
        records = json.loads(data.decode("utf-8"))
    elif kind == "jsonl":
        records = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    else:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            columns = schemas[dataset]["x-columns"]
            if header != columns:
                problems.append(f"{entry['path']}: header {header} is not {columns}")
            properties = schemas[dataset]["properties"]
            records = [{name: from_csv(value, properties[name]) for name, value in zip(header, row)} for row in reader]
    if len(records) != entry["rows"]:
        problems.append(f"{entry['path']}: {len(records)} rows, manifest says {entry['rows']}")
    if dataset != "bundle":
        for index, record in enumerate(records):
            validate(dataset, record, f"{entry['path']} record {index + 1}")
    print(f"{entry['path']}: {len(records)} rows ok" if not problems else f"{entry['path']}: checked")

for problem in problems[:50]:
    print("problem:", problem, file=sys.stderr)
sys.exit(1 if problems else 0)
