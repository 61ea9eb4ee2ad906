#!/usr/bin/env python3
"""GitHub's GraphQL rate-limit cost of requests, computed from their documents.

Usage: graphql-cost.py SCHEMA < requests.json
Input: a JSON list of {"document": TEXT, "operationName": NAME, "variables": {...}}.
Output: a JSON list of {"requests": N, "cost": C}, one per input request.

GitHub's published rule (docs: "Rate limits and node limits for the GraphQL API"): add up
the requests needed to fulfil each connection of the call, assuming every list reaches its
`first`/`last` — a connection nested in another is fetched once per node of every enclosing
connection — then divide by 100 and round, 1 at least. A connection is a field whose type
ends in `Connection`; `@include`/`@skip` are applied with the request's variables.
"""
import json
import sys

from graphql import build_schema, parse
from graphql.language import FieldNode, FragmentSpreadNode, InlineFragmentNode, OperationDefinitionNode
from graphql.language import FragmentDefinitionNode, VariableNode
from graphql.type import get_named_type


def value_of(node, variables):
    if node is None:
        return None
    if isinstance(node, VariableNode):
        return variables.get(node.name.value)
    return getattr(node, "value", None)


def included(node, variables):
    for directive in node.directives or []:
        condition = next((a for a in directive.arguments if a.name.value == "if"), None)
        flag = value_of(condition.value, variables) if condition else True
        if isinstance(flag, str):
            flag = flag == "true"
        if directive.name.value == "include" and not flag:
            return False
        if directive.name.value == "skip" and flag:
            return False
    return True


def cost(schema, document, name, variables):
    tree = parse(document)
    fragments = {d.name.value: d for d in tree.definitions if isinstance(d, FragmentDefinitionNode)}
    operation = next(d for d in tree.definitions
                     if isinstance(d, OperationDefinitionNode) and (name is None or d.name.value == name))
    total = 0

    def walk(selection_set, parent_type, multiplier):
        nonlocal total
        for selection in selection_set.selections:
            if not included(selection, variables):
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment = fragments[selection.name.value]
                walk(fragment.selection_set, schema.get_type(fragment.type_condition.name.value), multiplier)
                continue
            if isinstance(selection, InlineFragmentNode):
                target = schema.get_type(selection.type_condition.name.value) if selection.type_condition else parent_type
                walk(selection.selection_set, target, multiplier)
                continue
            assert isinstance(selection, FieldNode)
            field_name = selection.name.value
            if field_name.startswith("__"):
                continue
            field = parent_type.fields[field_name]
            named = get_named_type(field.type)
            child_multiplier = multiplier
            if named.name.endswith("Connection"):
                total += multiplier
                arguments = {a.name.value: value_of(a.value, variables) for a in selection.arguments}
                page = arguments.get("first") or arguments.get("last") or 0
                child_multiplier = multiplier * int(page)
            if selection.selection_set:
                walk(selection.selection_set, named, child_multiplier)

    walk(operation.selection_set, schema.query_type, 1)
    return total


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as handle:
        schema = build_schema(handle.read(), assume_valid_sdl=True)
    results = []
    for request in json.load(sys.stdin):
        requests = cost(schema, request["document"], request.get("operationName"), request.get("variables") or {})
        results.append({"requests": requests, "cost": max(1, int(requests / 100 + 0.5))})
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
