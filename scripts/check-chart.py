#!/usr/bin/env python3
"""Checks the Helm chart in deploy/helm/ghillie-run offline.

For several value sets (the defaults, a one-off Job, an inline manifest with a catalogue, a
GitHub App and no token, a pool of workers, a persistent volume without the check step, a
private CA) and for the values of every `helm install`/`helm upgrade` command in
docs/deploy.md (`--set`, `--set-json`, `--reuse-values`): the values pass the chart's
values.schema.json, the chart renders with Helm's own library (PyPI `helm-python-sdk`, no
helm binary, no cluster), every rendered object validates against Kubernetes' schemas (PyPI
`kubernetes-validate`, strict), every container runs as non-root on a read-only root
filesystem, the pod's /config is laid out as the ConfigMap volume says (the ConfigMaps of the
document's `kubectl create configmap` commands, made from files that must exist) and
`ghillie-run validate` accepts the manifest there, and every container's command line is one
the binary accepts (run for real, without a token: anything but the usage error, exit 2).
Every file the document applies with `kubectl apply -f` exists and validates. Value sets the
chart must refuse are refused. `helm lint --strict` finds nothing.

usage: check-chart.py BINARY [DEPLOY_MD]   (DEPLOY_MD: another copy of docs/deploy.md to read)
Exit 1 with one line per problem.
"""
import copy
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

import helm_python as helm
import kubernetes_validate
import yaml

binary = os.path.abspath(sys.argv[1])
deploy_md = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs",
                                                               "deploy.md")
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
chart_dir = os.path.join(root, "deploy", "helm", "ghillie-run")
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
    "a GitHub App and no token (manifest with github.app)": {"manifest": {"inline": manifest.replace(
        "report:", "github:\n  app:\n    app_id: 424242\n    private_key_env: GHILLIE_GITHUB_APP_KEY\nreport:"),
        "key": "manifest.yaml"}, "secrets": {"github": {"key": "", "env": "GHILLIE_GITHUB_TOKEN"},
                                             "githubApp": {"key": "app-key", "env": "GHILLIE_GITHUB_APP_KEY", "optional": False}}},
    "a pool of 4 workers, scheduled and one-off, an owner's own token": {
        "run": {"workers": 4, "args": ["--jobs", "4", "--lease", "90"]}, "output": {"existingClaim": "ghillie-shared"},
        "oneOffJob": {"enabled": True, "args": ["--window-end", "2026-11-13"]},
        "secrets": {"extra": [{"env": "GLOBEX_GITHUB_TOKEN", "key": "globex-token"}]}},
    "persistent output, no check step": {"output": {"existingClaim": "ghillie-out"},
                                         "check": {"beforeRun": False, "helmTest": False},
                                         "run": {"logFormat": "text", "args": ["--jobs", "4"]}},
    "a private CA": {"tls": {"caBundle": {"existingConfigMap": "company-ca", "key": "ca.pem"}}},
}
refused = {
    "an unknown key": {"replicas": 4},
    "no workers": {"run": {"workers": 0}},
    "an extra variable without its key": {"secrets": {"extra": [{"env": "GLOBEX_GITHUB_TOKEN"}]}},
    "a log format that does not exist": {"run": {"logFormat": "xml"}},
    "no manifest at all": {"manifest": {"existingConfigMap": "", "inline": "", "key": "manifest.yaml"}},
    "an environment variable name that is not one": {"secrets": {"github": {"key": "t", "env": "github token"}}},
    "no token and no App": {"secrets": {"github": {"key": "", "env": "GHILLIE_GITHUB_TOKEN"}}},
    "a path that climbs out of /config": {"manifest": {"paths": {"estate": "../etc/estate.yaml"}}},
    "an absolute path": {"manifest": {"paths": {"estate": "/etc/estate.yaml"}}},
}


def documented():
    """The value sets and ConfigMaps of docs/deploy.md's commands, in the document's order."""
    text = open(deploy_md, encoding="utf-8").read()
    commands = []
    for block in re.findall(r"(?:^ {4,}\S.*\n?)+", text, re.M):
        joined = re.sub(r"\\\n\s*", " ", block)
        commands += [line.strip() for line in joined.splitlines() if line.strip().startswith(("helm ", "kubectl "))]
    sets, configmaps, applied, releases = {}, {}, [], {}
    for command in commands:
        words = shlex.split(command)
        if words[:2] == ["kubectl", "-n"] and words[3:5] == ["create", "configmap"]:
            data = {}
            for word in words[6:]:
                if word.startswith("--from-file="):
                    key, path = word[len("--from-file="):].split("=", 1)
                    data[key] = path
            configmaps[words[5]] = data
        elif words[:2] == ["kubectl", "-n"] and words[3:5] == ["apply", "-f"]:
            applied.append(words[5])
        elif words[:1] == ["helm"] and words[1] in ("install", "upgrade"):
            release = words[2]
            values = copy.deepcopy(releases[release]) if "--reuse-values" in words else {}
            iterator = iter(words[4:])
            for word in iterator:
                if word in ("--set", "--set-json"):
                    key, raw = next(iterator).split("=", 1)
                    value = json.loads(raw) if word == "--set-json" else typed(raw)
                    node = values
                    parts = key.split(".")
                    for part in parts[:-1]:
                        node = node.setdefault(part, {})
                    node[parts[-1]] = value
            releases[release] = values
            sets[f"docs/deploy.md, helm command {len(sets) + 1} ({command[:100]}…)"] = copy.deepcopy(values)
    return sets, configmaps, applied


def typed(raw):
    """A `--set` value as Helm reads it: true/false, integers, else text."""
    if raw in ("true", "false"):
        return raw == "true"
    return int(raw) if re.fullmatch(r"-?[0-9]+", raw) else raw


documented_sets, documented_configmaps, documented_applies = documented()
if len(documented_sets) < 5:
    problems.append(f"docs/deploy.md: only {len(documented_sets)} helm commands found")
value_sets.update(documented_sets)
configmap_files = {}
for name, data in documented_configmaps.items():
    files = {}
    for key, path in data.items():
        full = os.path.join(root, path)
        if os.path.exists(full):
            files[key] = open(full, encoding="utf-8").read()
        elif name == "ghillie-run-manifest":
            problems.append(f"docs/deploy.md: configmap {name}: {path} does not exist")
    configmap_files[name] = files
for path in documented_applies:
    full = os.path.join(root, path)
    if not os.path.exists(full):
        problems.append(f"docs/deploy.md: kubectl apply -f {path}: no such file")
        continue
    for obj in yaml.safe_load_all(open(full, encoding="utf-8")):
        try:
            kubernetes_validate.validate(obj, kubernetes, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{path}: {error.message}")

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
layouts = {}
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
    # The ConfigMap the pods mount: the chart's own (an inline manifest), a documented one, or
    # this script's manifest under the manifest's key.
    made = next((obj["data"] for obj in objects if obj["kind"] == "ConfigMap"), None)
    mounted = values["manifest"]["existingConfigMap"]
    data = made or (configmap_files.get(mounted) if name.startswith("docs/") else None) \
        or {values["manifest"]["key"]: manifest}
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
            volume = next(v for v in pod["volumes"] if v["name"] == "manifest")["configMap"]
            items = volume.get("items") or [{"key": key, "path": key} for key in data]
            layout = {}
            for item in items:
                if item["key"] not in data:
                    problems.append(f"{name}: the ConfigMap has no key {item['key']}")
                    continue
                layout[item["path"]] = data[item["key"]]
            layouts[name] = layout
            commands.append((name, container["name"], container.get("args", []), layout))
            environment = {e["name"]: e for e in container.get("env", [])}
            if not values["secrets"]["github"]["key"]:
                if "GHILLIE_GITHUB_TOKEN" in environment:
                    problems.append(f"{name}: container {container['name']} asks the Secret for a token it does not hold")
            elif "GHILLIE_GITHUB_TOKEN" not in environment:
                problems.append(f"{name}: container {container['name']} gets no GitHub token")
            if values["tls"]["caBundle"]["existingConfigMap"]:
                bundle = environment.get("GHILLIE_CA_BUNDLE", {}).get("value")
                mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
                expected = "/etc/ghillie/ca/" + values["tls"]["caBundle"]["key"]
                if bundle != expected or mounts.get("/etc/ghillie/ca") != "ca-bundle":
                    problems.append(f"{name}: container {container['name']} does not get the CA bundle at {expected}")
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
                "a GitHub App and no token (manifest with github.app)": ["ConfigMap", "CronJob", "Pod"],
                "a pool of 4 workers, scheduled and one-off, an owner's own token": ["CronJob", "Job", "Pod"],
                "persistent output, no check step": ["CronJob"], "a private CA": ["CronJob", "Pod"]}.get(name)
    if expected is not None and kinds != expected:
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

# Every command line, run for real in /config as the pod lays it out, with no token set, so
# nothing reaches the network: `validate` accepts the manifest where the command names it, and
# the binary does not answer the command with its usage error.
validated = 0
with tempfile.TemporaryDirectory() as work:
    environment = {"PATH": "/usr/bin:/bin", "HOME": work, "NO_COLOR": "1"}
    for name, container, args, layout in commands:
        config = tempfile.mkdtemp(dir=work)
        for relative, text in layout.items():
            os.makedirs(os.path.dirname(os.path.join(config, relative)), exist_ok=True)
            with open(os.path.join(config, relative), "w", encoding="utf-8") as file:
                file.write(text)
        argv = [os.path.join(config, arg[len("/config/"):]) if arg.startswith("/config/") else arg for arg in args]
        manifest_path = next((arg for arg in argv if arg.startswith(config)), None)
        check = subprocess.run([binary, "validate", manifest_path or "(none)"], cwd=work, env=environment,
                               capture_output=True, text=True, timeout=60)
        validated += 1
        if check.returncode != 0:
            first = (check.stdout + check.stderr).strip().splitlines()[:2]
            problems.append(f"{name}: container {container}: the manifest at {args} does not validate: {first}")
        result = subprocess.run([binary] + argv, cwd=work, env=environment, capture_output=True, text=True, timeout=60)
        if result.returncode == 2 or "Usage:" in result.stderr:
            first = result.stderr.strip().splitlines()[0] if result.stderr.strip() else f"exit {result.returncode}"
            problems.append(f"{name}: container {container}: ghillie-run refuses {json.dumps(args)}: {first}")

for problem in problems:
    print(problem)
print(f"{len(value_sets)} value sets rendered ({len(documented_sets)} from docs/deploy.md), {len(commands)} container "
      f"command lines run on {validated} manifests that validate, {len(refused)} value sets refused", file=sys.stderr)
sys.exit(1 if problems else 0)
