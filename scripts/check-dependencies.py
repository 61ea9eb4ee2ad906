#!/usr/bin/env python3
"""Checks that every target of Package.swift declares exactly the modules it imports.

SwiftPM's `--explicit-target-dependency-import-check error` (scripts/test) refuses an import
of a target that is not declared; this checks the other way: a declared dependency that no
source file of the target imports. Executable targets a test target depends on are built
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

problems = []
for kind, name, body in declaration.findall(package):
    declared = set()
    if "dependencies:" in body:
        listed = body.split("dependencies:", 1)[1].split("resources:", 1)[0]
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

for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
