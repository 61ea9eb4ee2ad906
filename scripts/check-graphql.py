#!/usr/bin/env python3
"""Validate GraphQL documents against GitHub's published schema.

Usage: check-graphql.py SCHEMA DOCUMENT...
Prints one JSON object: {document_path: [error, ...]} (an empty list means valid).

Besides the specification's rules, a field or enum value the schema marks `@deprecated` is an
error: GitHub removes deprecated fields (`databaseId` on pull requests and reviews cannot hold
ids past 2^31), and a query must not depend on one.
"""
import json
import sys

from graphql import build_schema, parse, specified_rules, validate
from graphql.error import GraphQLSyntaxError
from graphql.validation.rules.custom.no_deprecated import NoDeprecatedCustomRule


def main() -> int:
    schema_path, *documents = sys.argv[1:]
    with open(schema_path, encoding="utf-8") as handle:
        # GitHub's published SDL defines a few fields twice; graphql-core would refuse it as a
        # whole, so skip SDL validation (queries are still validated against the types).
        schema = build_schema(handle.read(), assume_valid_sdl=True)
    results = {}
    for path in documents:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        try:
            errors = [error.message for error in validate(schema, parse(text), [*specified_rules, NoDeprecatedCustomRule])]
        except GraphQLSyntaxError as error:
            errors = [str(error)]
        results[path] = errors
    print(json.dumps(results, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
