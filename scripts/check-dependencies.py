#!/usr/bin/env python3
"""Checks that every target of Package.swift declares exactly the modules it imports.

A declared dependency that no source file of the target imports is a problem, and so is an
import of one of the package's own targets that the target does not declare itself (SwiftPM's
`--explicit-target-dependency-import-check`, also in scripts/test, lets an import through when
the dependency comes in transitively). Executable targets a test target depends on are built
for the tests to run them, and count as used. Exit 1 with one line per problem.
"""
import glob
import os
import re
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
package = open(os.path.join(root, "Package.swift"), encoding="utf-8").read()

executables = set(re.findall(r'\.executableTarget\(\s*name:\s*"([^"]+)"', package))
declaration = re.compile(r'\.(target|executableTarget|testTarget)\(\s*name:\s*"([^"]+)"(.*?)swiftSettings', re.S)
importing = re.compile(r'^\s*(?:@testable\s+)?(?:public\s+|internal\s+|package\s+)?import\s+(\w+)', re.M)

own = {name for _, name, _ in declaration.findall(package)} | set(re.findall(r'\.(?:systemLibrary|target)\(\s*name:\s*"([^"]+)"', package))
problems = []
for kind, name, body in declaration.findall(package):
    declared = set()
    if "dependencies:" in body:
        # The array after `dependencies:`, up to its closing bracket (exclude:, resources: follow).
        listed = body.split("dependencies:", 1)[1].split("]", 1)[0]
        # A product is imported by its product name; a target by its name.
        declared |= set(re.findall(r'\.product\(name:\s*"([^"]+)"', listed))
        declared |= set(re.findall(r'(?<![:(]\s)(?<!name: )"([^"]+)"', re.sub(r'\.product\([^)]*\)', "", listed)))
    folder = next((os.path.join(root, base, name) for base in ("Sources", "Tests")
                   if os.path.isdir(os.path.join(root, base, name))), None)
    if folder is None:
        problems.append(f"{name}: no Sources/{name} or Tests/{name}")
        continue
    imported = set()
    for path in glob.glob(os.path.join(folder, "**", "*.swift"), recursive=True):
        imported |= set(importing.findall(open(path, encoding="utf-8").read()))
    for dependency in sorted(declared - imported):
        if kind == "testTarget" and dependency in executables:
            continue
        problems.append(f"{name}: declares `{dependency}` but no file of it imports it")
    for module in sorted((imported & own) - declared - {name}):
        problems.append(f"{name}: imports `{module}` without declaring it")

for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
