#!/usr/bin/env python3
"""Checks deploy/Containerfile against the binary it packages.

The image cannot be built offline, so this checks what can be: a build stage and a runtime
stage, a numeric non-root USER, `ghillie-run` as the ENTRYPOINT, and that the runtime stage
installs exactly the Debian packages that provide the libraries ghillie-run links (the
binary's own NEEDED entries and those of the Swift runtime libraries, which the image links in
statically), plus ca-certificates. glibc (libc6, and libgcc-s1 which it depends on) is in
every Debian image.

usage: check-container.py CONTAINERFILE BINARY
Exit 1 with one line per problem.
"""
import os
import re
import subprocess
import sys

containerfile, binary = sys.argv[1], sys.argv[2]
text = open(containerfile, encoding="utf-8").read()
# Join continued lines, drop comments.
lines = [line for line in re.sub(r"\\\n", " ", text).splitlines() if not line.lstrip().startswith("#")]
problems = []

stages = [i for i, line in enumerate(lines) if line.startswith("FROM ")]
if len(stages) < 2:
    problems.append("the Containerfile needs a build stage and a runtime stage")
runtime = lines[stages[-1]:] if stages else []
installed = set()
for line in runtime:
    match = re.search(r"apt-get install ([^&]*)", line)
    if match:
        installed |= {word for word in match.group(1).split() if not word.startswith("-")}
users = [line.split()[1] for line in runtime if line.startswith("USER ")]
if not users or not re.fullmatch(r"[1-9][0-9]*(:[1-9][0-9]*)?", users[-1]):
    problems.append(f"the runtime stage must end as a numeric non-root USER, not {users[-1] if users else 'root'}")
entrypoints = [line for line in runtime if line.startswith("ENTRYPOINT ")]
if not entrypoints or "ghillie-run" not in entrypoints[-1]:
    problems.append("the ENTRYPOINT must be ghillie-run")


def needed(path):
    output = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", output)


resolved = {}
for line in subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout.splitlines():
    match = re.match(r"\s*(\S+) => (\S+)", line)
    if match:
        resolved[match.group(1)] = match.group(2)
swift = re.compile(r"swift|Foundation|dispatch|BlocksRuntime")
sources = [binary] + [path for name, path in resolved.items() if swift.search(name)]
libraries = {name for path in sources for name in needed(path) if not swift.search(name)}
packages = set()
for name in sorted(libraries):
    path = resolved.get(name)
    if path is None:
        continue  # the dynamic loader itself
    owner = subprocess.run(["dpkg", "-S", os.path.realpath(path)], capture_output=True, text=True)
    if owner.returncode != 0:
        owner = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
    if owner.returncode != 0:
        problems.append(f"no Debian package provides {name} ({path})")
        continue
    packages.add(owner.stdout.split(":")[0])
packages -= {"libc6", "libgcc-s1"}
listed = installed - {"ca-certificates"}
if "ca-certificates" not in installed:
    problems.append("the runtime stage must install ca-certificates (HTTPS to GitHub and model endpoints)")
for package in sorted(packages - listed):
    problems.append(f"the runtime stage does not install {package}, which ghillie-run links")
for package in sorted(listed - packages):
    problems.append(f"the runtime stage installs {package}, which ghillie-run does not link")

for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
