#!/usr/bin/env python3
"""What GitHub's schema says of every field an answer to a document can hold.

Usage: answer-shapes.py SCHEMA DOCUMENT...
Prints one JSON object: {document_path: {response_path: {"nullable": bool, "type": name,
"list": bool}}}, where a response path is the answer's keys from `data` down, joined by `.`,
with `[]` for a list level (`repository.updatedPulls.nodes[].title`). Fragments, named and
inline, are merged: a key under a type condition is listed once, with the type it has there.
`nullable` is the field's own nullability; a list's items are listed as `PATH[]` with theirs.

The tests decode real answers of the fake GitHub, mutate each field these shapes list
(missing, null, another type), and require the client's typed answers to refuse what the
schema does not allow.
"""
import json
import sys

from graphql import (
    GraphQLList,
    GraphQLNonNull,
    build_schema,
    get_named_type,
    parse,
)
from graphql.language import FieldNode, FragmentSpreadNode, InlineFragmentNode, OperationDefinitionNode


def walk(schema, fragments, parent_type, selection_set, path, shapes):
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            name = selection.name.value
            key = selection.alias.value if selection.alias else name
            if name == "__typename":
                shapes[join(path, key)] = {"nullable": False, "type": "String", "list": False}
                continue
            field = parent_type.fields[name]
            record(schema, fragments, field.type, selection, join(path, key), shapes)
        elif isinstance(selection, InlineFragmentNode):
            condition = schema.get_type(selection.type_condition.name.value) if selection.type_condition else parent_type
            walk(schema, fragments, condition, selection.selection_set, path, shapes)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments[selection.name.value]
            condition = schema.get_type(fragment.type_condition.name.value)
            walk(schema, fragments, condition, fragment.selection_set, path, shapes)


def record(schema, fragments, field_type, selection, path, shapes):
    nullable = not isinstance(field_type, GraphQLNonNull)
    inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    if isinstance(inner, GraphQLList):
        shapes[path] = {"nullable": nullable, "type": "list", "list": True}
        record(schema, fragments, inner.of_type, selection, path + "[]", shapes)
        return
    named = get_named_type(inner)
    shapes[path] = {"nullable": nullable, "type": named.name, "list": False}
    if selection.selection_set is not None:
        walk(schema, fragments, named, selection.selection_set, path, shapes)


def join(path, key):
    return key if not path else path + "." + key


def main() -> int:
    schema_path, *documents = sys.argv[1:]
    with open(schema_path, encoding="utf-8") as handle:
        schema = build_schema(handle.read(), assume_valid_sdl=True)
    results = {}
    for path in documents:
        with open(path, encoding="utf-8") as handle:
            document = parse(handle.read())
        fragments = {d.name.value: d for d in document.definitions if d.kind == "fragment_definition"}
        shapes = {}
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                walk(schema, fragments, schema.query_type, definition.selection_set, "", shapes)
        results[path] = shapes
    print(json.dumps(results, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
