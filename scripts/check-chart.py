#!/usr/bin/env python3
"""Checks the Helm chart in deploy/helm/ghillie-run offline.

For several value sets (the defaults, a one-off Job, an inline manifest with a catalogue, a
GitHub App, a pool of workers, a persistent volume without the check step): the values pass the chart's values.schema.json,
the chart renders with Helm's own library (PyPI `helm-python-sdk`, no helm binary, no
cluster), every rendered object validates against Kubernetes' schemas (PyPI
`kubernetes-validate`, strict), every container runs as non-root on a read-only root
filesystem, and every container's command line is one the ghillie-run binary accepts (run
for real against a small manifest, without a token: anything but the usage error, exit 2).
Value sets the chart must refuse are refused. `helm lint --strict` finds nothing.

usage: check-chart.py BINARY
Exit 1 with one line per problem.
"""
import copy
import json
import os
import subprocess
import sys
import tempfile

import helm_python as helm
import kubernetes_validate
import yaml

binary = os.path.abspath(sys.argv[1])
chart_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "deploy", "helm", "ghillie-run")
kubernetes = "1.30.0"
problems = []

catalogue = "version: 1\nprojects: []\n"
manifest = """version: 1
name: cluster
estate:
  key: acme
  repositories:
    - slug: acme/api
report:
  scopes: [repository]
"""
value_sets = {
    "defaults": {},
    "one-off job": {"schedule": {"enabled": False, "cron": "0 6 1,15 * *"},
                    "oneOffJob": {"enabled": True, "args": ["--window-end", "2026-11-13", "--from", "report"]}},
    "inline manifest with a catalogue": {"manifest": {"inline": manifest, "files": {"catalogue.yaml": catalogue},
                                                      "key": "manifest.yaml"}},
    "a GitHub App (manifest with github.app)": {"manifest": {"inline": manifest.replace(
        "report:", "github:\n  app:\n    app_id: 424242\n    private_key_env: GHILLIE_GITHUB_APP_KEY\nreport:"),
        "key": "manifest.yaml"}, "secrets": {"githubApp": {"key": "app-key", "env": "GHILLIE_GITHUB_APP_KEY", "optional": False}}},
    "a pool of 4 workers, scheduled and one-off, an owner's own token": {
        "run": {"workers": 4, "args": ["--jobs", "4", "--lease", "90"]}, "output": {"existingClaim": "ghillie-shared"},
        "oneOffJob": {"enabled": True, "args": ["--window-end", "2026-11-13"]},
        "secrets": {"extra": [{"env": "GLOBEX_GITHUB_TOKEN", "key": "globex-token"}]}},
    "persistent output, no check step": {"output": {"existingClaim": "ghillie-out"},
                                         "check": {"beforeRun": False, "helmTest": False},
                                         "run": {"logFormat": "text", "args": ["--jobs", "4"]}},
}
refused = {
    "an unknown key": {"replicas": 4},
    "no workers": {"run": {"workers": 0}},
    "an extra variable without its key": {"secrets": {"extra": [{"env": "GLOBEX_GITHUB_TOKEN"}]}},
    "a log format that does not exist": {"run": {"logFormat": "xml"}},
    "no manifest at all": {"manifest": {"existingConfigMap": "", "inline": "", "key": "manifest.yaml"}},
    "an environment variable name that is not one": {"secrets": {"github": {"key": "t", "env": "github token"}}},
}

chart = helm.Chart.load(chart_dir)
defaults = chart.values


def merged(overrides):
    values = copy.deepcopy(defaults)

    def merge(into, update):
        for key, value in update.items():
            if isinstance(value, dict) and isinstance(into.get(key), dict):
                merge(into[key], value)
            else:
                into[key] = value
    merge(values, overrides)
    return values


lint = helm.lint(chart_dir, strict=True)
for message in lint.get("messages", []):
    if message.get("severity", 0) >= 2:
        problems.append(f"helm lint: {message.get('path')}: {message.get('error')}")
for error in lint.get("errors", []) or []:
    problems.append(f"helm lint: {error}")

commands = []
for name, overrides in value_sets.items():
    values = merged(overrides)
    try:
        chart.validate_schema(values)
        rendered = chart.render(values, name="fortnight", namespace="ghillie", is_install=True)
    except helm.HelmError as error:
        problems.append(f"{name}: {error}")
        continue
    objects = [doc for text in rendered.values() for doc in yaml.safe_load_all(text) if doc]
    kinds = sorted(obj["kind"] for obj in objects)
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, kubernetes, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{name}: {obj['kind']} {obj['metadata']['name']}: {error.message}")
        pod = obj["spec"] if obj["kind"] == "Pod" else None
        if obj["kind"] == "Job":
            pod = obj["spec"]["template"]["spec"]
        if obj["kind"] == "CronJob":
            if obj["spec"].get("concurrencyPolicy") != "Forbid":
                problems.append(f"{name}: the CronJob must forbid concurrent runs")
            pod = obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        if pod is None:
            continue
        job = obj["spec"] if obj["kind"] == "Job" else obj["spec"].get("jobTemplate", {}).get("spec")
        if job is not None:
            workers = values["run"]["workers"]
            args = pod["containers"][0].get("args", [])
            if workers > 1 and (job.get("parallelism") != workers or "completions" in job
                                or args[:1] != ["worker"] or "--submit-if-absent" not in args):
                problems.append(f"{name}: a {obj['kind']} of {workers} workers needs parallelism {workers}, no completions "
                                f"and `worker MANIFEST --submit-if-absent` (got {job.get('parallelism')}, {args})")
            if workers == 1 and ("parallelism" in job or args[:1] == ["worker"]):
                problems.append(f"{name}: one worker runs `ghillie-run MANIFEST` in one pod")
        if not pod.get("securityContext", {}).get("runAsNonRoot"):
            problems.append(f"{name}: {obj['kind']} pods must run as non-root")
        for container in pod.get("initContainers", []) + pod["containers"]:
            context = container.get("securityContext", {})
            if not context.get("readOnlyRootFilesystem") or context.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{name}: container {container['name']} needs a read-only root and no privilege escalation")
            commands.append((name, container["name"], container.get("args", []), values["manifest"]["inline"] or manifest))
            if name.startswith("a pool"):
                keyed = [e for e in container.get("env", []) if e["name"] == "GLOBEX_GITHUB_TOKEN"]
                if not keyed or keyed[0]["valueFrom"]["secretKeyRef"] != {"name": "ghillie-run", "key": "globex-token", "optional": False}:
                    problems.append(f"{name}: container {container['name']} does not get the owner's token from the Secret")
            if name.startswith("a GitHub App"):
                keyed = [e for e in container.get("env", []) if e["name"] == "GHILLIE_GITHUB_APP_KEY"]
                if not keyed or keyed[0]["valueFrom"]["secretKeyRef"] != {"name": "ghillie-run", "key": "app-key", "optional": False}:
                    problems.append(f"{name}: container {container['name']} does not get the App's key from the Secret")
    expected = {"defaults": ["CronJob", "Pod"], "one-off job": ["Job", "Pod"],
                "inline manifest with a catalogue": ["ConfigMap", "CronJob", "Pod"],
                "a GitHub App (manifest with github.app)": ["ConfigMap", "CronJob", "Pod"],
                "a pool of 4 workers, scheduled and one-off, an owner's own token": ["CronJob", "Job", "Pod"],
                "persistent output, no check step": ["CronJob"]}[name]
    if kinds != expected:
        problems.append(f"{name}: rendered {kinds}, expected {expected}")
    if name == "inline manifest with a catalogue":
        config = next(obj for obj in objects if obj["kind"] == "ConfigMap")
        if yaml.safe_load(config["data"]["manifest.yaml"]) != yaml.safe_load(manifest) \
                or config["data"].get("catalogue.yaml") != catalogue:
            problems.append(f"{name}: the ConfigMap does not hold the manifest and its files as given")

for name, overrides in refused.items():
    try:
        chart.validate_schema(merged(overrides))
        chart.render(merged(overrides), name="fortnight", namespace="ghillie", is_install=True)
        problems.append(f"the chart accepted {name}")
    except helm.HelmError:
        pass

# Every command line, run for real: a manifest stands in for the ConfigMap's, and no token is set,
# so nothing reaches the network; the binary must not answer with its usage error.
with tempfile.TemporaryDirectory() as work:
    path = os.path.join(work, "manifest.yaml")
    environment = {"PATH": "/usr/bin:/bin", "HOME": work, "NO_COLOR": "1"}
    for name, container, args, text in commands:
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
        argv = [path if arg.startswith("/config/") else arg for arg in args]
        result = subprocess.run([binary] + argv, cwd=work, env=environment, capture_output=True, text=True, timeout=60)
        if result.returncode == 2 or "Usage:" in result.stderr:
            first = result.stderr.strip().splitlines()[0] if result.stderr.strip() else f"exit {result.returncode}"
            problems.append(f"{name}: container {container}: ghillie-run refuses {json.dumps(args)}: {first}")

for problem in problems:
    print(problem)
print(f"{len(value_sets)} value sets rendered, {len(commands)} container command lines run, "
      f"{len(refused)} value sets refused", file=sys.stderr)
sys.exit(1 if problems else 0)
