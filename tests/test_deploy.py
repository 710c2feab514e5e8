"""The deployment files, checked here without Docker, Kubernetes or a network (docs/operations.md):

- deploy/compose.yaml against the Compose Specification's JSON schema (the copy check-jsonschema ships),
  then what matters to loket: start-up order, health checks, no secrets in the file, real settings;
- the Helm chart (deploy/helm/loket): its values against values.schema.json, then rendered by Helm's
  own Go code (helm-python-sdk, no helm binary), each manifest validated against Kubernetes' schemas
  (kubernetes-validate), and the manifests' probes, hook, security and budget checked;
- the Dockerfile read as text: two stages, an unprivileged user, the right command.

Building the image is not part of the tests (see docs/operations.md, "Checking the image").
"""

from __future__ import annotations

import importlib
import json
import os
import re
import typing
from importlib import resources
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr
from typer.testing import CliRunner

from loket.cli import app as cli
from loket.config import Settings
from tests.oidc import PROGRAM
from tests.oidc import VERSION as OIDC_PROVIDER_VERSION

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "helm" / "loket"

SETTINGS = {f"LOKET_{name.upper()}" for name in Settings.model_fields}
SECRETS = {
    f"LOKET_{name.upper()}"
    for name, field in Settings.model_fields.items()
    if SecretStr in typing.get_args(field.annotation) or field.annotation is SecretStr
}
# Stand-ins for the secrets a deployment holds elsewhere.
FAKE_SECRETS = {
    "POSTGRES_PASSWORD": "0123456789abcdef",
    "LOKET_SECRET_KEY": "not-a-secret-just-a-test",
    "LOKET_OIDC_CLIENT_SECRET": "not-a-secret-either",
    "LOKET_VAPID_PRIVATE_KEY": "not-a-vapid-key",
    "LOKET_DATA_KEY": "not-a-fernet-key",
    "LOKET_LOG_SIGNING_KEY": "not-an-ed25519-key",
}
KUBERNETES_OLDEST = "1.25.0"  # Chart.yaml's kubeVersion


def _need(module: str):
    """The test extra installs these; without them skip loudly, but in CI fail."""
    try:
        return importlib.import_module(module)
    except ImportError:
        message = f"{module} is not installed: `make test` installs pyproject.toml's test extra"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def _load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _env_file(path: Path, commented: bool = False) -> dict[str, str]:
    """KEY=VALUE lines; with `commented`, also the `# KEY=VALUE` examples."""
    pattern = r"^(?:#\s*)?([A-Z][A-Z0-9_]*)=(.*)$" if commented else r"^([A-Z][A-Z0-9_]*)=(.*)$"
    return {m[1]: m[2] for line in path.read_text().splitlines() if (m := re.match(pattern, line.strip()))}


# Compose


COMPOSE = DEPLOY / "compose.yaml"
LOKET_SERVICES = ("migrate", "web-1", "web-2", "worker")
_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?message}, enough for this file."""

    def one(match: re.Match) -> str:
        name, op = match["name"], match["op"] or ""
        if env.get(name):
            return env[name]
        if op.endswith("?"):
            raise KeyError(f"{name} is required: {match['arg']}")
        return match["arg"] if op.endswith("-") else ""

    return _VARIABLE.sub(one, value)


@pytest.fixture(scope="module")
def compose() -> dict:
    return _load(COMPOSE)


def test_compose_file_follows_the_compose_specification(compose):
    jsonschema = _need("jsonschema")
    _need("check_jsonschema")
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []


def test_compose_starts_migrations_first_then_web_and_worker(compose):
    services = compose["services"]
    assert services["migrate"]["command"] == ["loket", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web-1", "web-2"):
        assert services[name]["command"] == ["loket", "serve", "--host", "0.0.0.0", "--port", "8000"]
    assert services["worker"]["command"] == ["loket", "worker"]
    for name in ("web-1", "web-2", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == "service_healthy"
        # Optional services (profiles) are never needed to start.
        for other, how in depends.items():
            assert not services[other].get("profiles") or how.get("required") is False, (name, other)


def test_compose_services_are_pinned_checked_and_restarted(compose):
    for name, service in compose["services"].items():
        assert service.get("image") or service.get("build"), name
        image = service.get("image", "")
        if not service.get("build"):
            assert re.search(r":[\w.-]+$", image) and not image.endswith(":latest"), f"{name}: pin {image}"
        if name in ("migrate", "worker"):
            continue  # a one-shot command, and a process with no port (restarted when it dies)
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name


def test_compose_loket_containers_run_unprivileged_on_a_read_only_root(compose):
    for name in (*LOKET_SERVICES, "embeddings"):
        service = compose["services"][name]
        assert service["build"] == {"context": "..", "dockerfile": "Dockerfile"}, name
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"], name
        assert {"/tmp", "/var/lib/loket"} <= set(service["tmpfs"]), name
        assert "user" not in service, f"{name}: the image's own user (10001) runs it"


def test_compose_holds_no_secrets(compose):
    example = _env_file(DEPLOY / ".env.example", commented=True)
    for name, service in compose["services"].items():
        for variable, value in (service.get("environment") or {}).items():
            secret = variable in SECRETS or re.search(r"PASSWORD|SECRET|TOKEN|API_KEY", variable)
            if secret:
                references = _VARIABLE.findall(str(value))
                assert references and all(op == ":?" for _, op, _ in references), (
                    f"{name}: {variable} must come from deploy/.env as ${{NAME:?...}}"
                )
    for line in (DEPLOY / "loket.env").read_text().splitlines():
        assert not any(secret in line for secret in SECRETS), f"deploy/loket.env: {line}"
    assert all(value == "" for value in _env_file(DEPLOY / ".env.example").values()), (
        "no values in the example"
    )
    used = {match["name"] for match in _VARIABLE.finditer(COMPOSE.read_text())}
    assert used <= set(example), "document each variable in deploy/.env.example"
    assert ".env" in (DEPLOY / ".gitignore").read_text().split()


def test_compose_trial_idp_runs_the_tests_provider_with_its_secret_from_the_environment(compose):
    """The trial provider is the program the login tests run (tests/oidc.py), on the same oidc-provider;
    its config.json names the client's address and secret only as ${NAME}s of the service's environment."""
    trial = DEPLOY / compose["services"]["idp"]["build"]["context"]
    instructions = _instructions(trial / "Dockerfile")
    (command,) = [args for op, args in instructions if op == "CMD"]
    node, program, config_file = json.loads(command)
    assert node == "node" and trial / program == PROGRAM
    assert f"{program} {config_file} ./" in [args for op, args in instructions if op == "COPY"]
    package = json.loads((trial / "package.json").read_text())
    lock = json.loads((trial / "package-lock.json").read_text())
    assert package["dependencies"]["oidc-provider"] == OIDC_PROVIDER_VERSION
    assert lock["packages"]["node_modules/oidc-provider"]["version"] == OIDC_PROVIDER_VERSION
    text = (trial / config_file).read_text()
    config = json.loads(text)
    assert config["host"] == "0.0.0.0", "reachable from the other containers and the published port"
    assert [client["client_secret"] for client in config["clients"]] == ["${TRIAL_IDP_CLIENT_SECRET}"]
    environment = compose["services"]["idp"]["environment"]
    assert set(re.findall(r"\$\{(\w+)\}", text)) <= set(environment)


def test_compose_settings_exist_and_are_safe_to_put_online(compose, monkeypatch):
    """The web replicas' settings, with deploy/.env's defaults and stand-in secrets, as loket reads them."""
    env_files = [entry["path"] for entry in compose["services"]["web-1"]["env_file"]]
    env = {}
    for path in env_files:
        examples = _env_file(DEPLOY / path, commented=True)
        assert set(examples) <= SETTINGS, f"{path}: no such setting {set(examples) - SETTINGS}"
        env |= _env_file(DEPLOY / path)
    assert set(compose["services"]["web-1"]["environment"]) <= SETTINGS
    env |= {k: _interpolate(v, FAKE_SECRETS) for k, v in compose["services"]["web-1"]["environment"].items()}
    for name in list(os.environ):
        if name.startswith("LOKET_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)
    assert settings.production and settings.https
    assert settings.sqlalchemy_url.startswith("postgresql+psycopg://loket:")
    assert settings.rate_limit_storage == "redis://redis:6379/0", "replicas share one limit"
    # Only the trial provider is plain http (it is for trying out, on this machine).
    assert [problem for problem in settings.unsafe() if "LOKET_OIDC_ISSUER" not in problem] == []
    proxy = compose["services"]["proxy"]["networks"]["loket"]["ipv4_address"]
    assert settings.proxies == [proxy], "only the proxy may name the client"
    assert compose["services"]["web-1"]["environment"] == compose["services"]["web-2"]["environment"]


# Helm


def _merged(base: dict, extra: dict) -> dict:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merged(base[key], value)
        else:
            merged[key] = value
    return merged


VALUES = _load(CHART / "values.yaml")
EXAMPLE = _load(CHART / "ci" / "example-values.yaml")


def _schema_errors(values: dict) -> list[str]:
    jsonschema = _need("jsonschema")
    schema = json.loads((CHART / "values.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(values)]


def test_chart_metadata():
    chart = _load(CHART / "Chart.yaml")
    assert chart["apiVersion"] == "v2" and chart["name"] == "loket" and chart["type"] == "application"
    assert re.fullmatch(r"\d+\.\d+\.\d+", chart["version"])
    project = (ROOT / "pyproject.toml").read_text()
    assert f'version = "{chart["appVersion"]}"' in project, "appVersion is loket's version"


def test_chart_values_follow_their_schema():
    assert _schema_errors(VALUES) == []
    assert _schema_errors(_merged(VALUES, EXAMPLE)) == []
    assert set(VALUES["settings"]) | set(VALUES["secretKeys"]) <= SETTINGS
    assert set(EXAMPLE["settings"]) | set(EXAMPLE["secretKeys"]) <= SETTINGS


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"settings": {"LOKET_SECRET_KEY": "x"}}, "settings"),
        ({"settings": {"LOKET_DATABASE_URL": "postgresql+psycopg://u:p@db/loket"}}, "settings"),
        ({"settings": {"LOKET_ENV": "development"}}, "settings/LOKET_ENV"),
        ({"settings": {"LOKET_PUBLIC_URL": "http://loket.example.org"}}, "settings/LOKET_PUBLIC_URL"),
        ({"settings": {"LOKET_OIDC_ISSUER": "http://idp.example.org"}}, "settings/LOKET_OIDC_ISSUER"),
        ({"settings": {"LOKET_TYPO": 1, "loket_env": "production"}}, "settings"),
        ({"secretKeys": ["LOKET_SECRET_KEY"]}, "secretKeys"),
        ({"podSecurityContext": {"runAsNonRoot": False, "runAsUser": 0}}, "podSecurityContext"),
        ({"securityContext": {"readOnlyRootFilesystem": False}}, "securityContext"),
        ({"web": {"replicas": 0}}, "web/replicas"),
        ({"cronJobs": {"purge": {"enabled": True, "schedule": "@daily", "command": ["sh"]}}}, "cronJobs"),
    ],
)
def test_chart_schema_refuses_what_cannot_be_right(change, complaint):
    errors = _schema_errors(_merged(_merged(VALUES, EXAMPLE), change))
    assert any(error.startswith(complaint) for error in errors), errors


def test_chart_schema_knows_every_secret_setting():
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert set(schema["definitions"]["secretSetting"]["enum"]) == SECRETS


@pytest.fixture(scope="module")
def helm():
    helm = _need("helm_python")
    helm.disable_logging()
    return helm


def _render(helm, values: dict) -> dict[tuple[str, str], dict]:
    with helm.Chart.load(str(CHART)) as chart:
        files = chart.render(values, name="loket", namespace="loket", is_install=True)
    documents = [
        document
        for path, text in files.items()
        if path.endswith(".yaml")
        for document in yaml.safe_load_all(text)
        if document
    ]
    return {(document["kind"], document["metadata"]["name"]): document for document in documents}


@pytest.fixture(scope="module")
def manifests(helm) -> dict[tuple[str, str], dict]:
    return _render(helm, EXAMPLE)


def test_chart_lints_clean(helm):
    report = helm.lint(str(CHART), EXAMPLE, strict=True, kube_version=f"v{KUBERNETES_OLDEST}")
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_chart_renders_what_kubernetes_accepts(manifests):
    kubernetes_validate = _need("kubernetes_validate")
    assert sorted(manifests) == [
        ("ConfigMap", "loket"),
        ("CronJob", "loket-ingest"),
        ("CronJob", "loket-purge"),
        ("Deployment", "loket-web"),
        ("Deployment", "loket-worker"),
        ("Ingress", "loket"),
        ("Job", "loket-migrate"),
        ("PodDisruptionBudget", "loket-web"),
        ("Service", "loket"),
    ]
    for version in (KUBERNETES_OLDEST, kubernetes_validate.latest_version()):
        for manifest in manifests.values():
            kubernetes_validate.validate(manifest, version, strict=True)


def _pod(manifest: dict) -> dict:
    spec = manifest["spec"]
    if manifest["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def test_chart_web_has_two_replicas_probes_and_a_disruption_budget(manifests):
    web = manifests[("Deployment", "loket-web")]
    assert web["spec"]["replicas"] == 2
    assert web["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    (container,) = _pod(web)["containers"]
    assert container["command"] == ["loket", "serve", "--host", "0.0.0.0", "--port", "8000"]
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    labels = web["spec"]["template"]["metadata"]["labels"]
    budget = manifests[("PodDisruptionBudget", "loket-web")]["spec"]
    assert budget["minAvailable"] == 1 and budget["selector"]["matchLabels"] == labels
    service = manifests[("Service", "loket")]["spec"]
    assert service["selector"] == labels, "the Service sends to web pods only"
    worker = manifests[("Deployment", "loket-worker")]
    assert worker["spec"]["template"]["metadata"]["labels"] != labels


def test_chart_worker_scales_on_its_own(manifests):
    worker = manifests[("Deployment", "loket-worker")]
    assert worker["spec"]["replicas"] == EXAMPLE["worker"]["replicas"] == 3
    (container,) = _pod(worker)["containers"]
    assert container["command"] == ["loket", "worker"]


def test_chart_migrates_in_a_hook_before_install_and_upgrade(manifests):
    job = manifests[("Job", "loket-migrate")]
    annotations = job["metadata"]["annotations"]
    assert set(annotations["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
    (container,) = _pod(job)["containers"]
    assert container["command"] == ["loket", "db", "upgrade"]
    assert _pod(job)["restartPolicy"] == "Never"
    # A pre-install hook runs before the ConfigMap exists: the settings are its own.
    settings = manifests[("ConfigMap", "loket")]["data"]
    plain = {env["name"]: env["value"] for env in container["env"] if "value" in env}
    assert plain == settings
    assert "envFrom" not in container


def test_chart_pods_run_unprivileged_on_a_read_only_root(manifests):
    for key, manifest in manifests.items():
        if manifest["kind"] not in ("Deployment", "Job", "CronJob"):
            continue
        pod = _pod(manifest)
        assert pod["automountServiceAccountToken"] is False, key
        assert pod["securityContext"]["runAsNonRoot"] is True, key
        assert pod["securityContext"]["runAsUser"] == 10001, key
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, key
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, key
            assert context["allowPrivilegeEscalation"] is False, key
            assert context["capabilities"]["drop"] == ["ALL"], key
            mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
            assert {"/tmp", "/var/lib/loket"} <= set(mounts), key
            assert all("emptyDir" in volumes[mounts[path]] for path in ("/tmp", "/var/lib/loket")), key


def test_chart_keeps_secrets_in_the_existing_secret(manifests):
    settings = manifests[("ConfigMap", "loket")]["data"]
    assert set(settings) <= SETTINGS and not set(settings) & SECRETS
    for key, manifest in manifests.items():
        if manifest["kind"] not in ("Deployment", "Job", "CronJob"):
            continue
        for container in _pod(manifest)["containers"]:
            refs = {
                env["name"]: env["valueFrom"]["secretKeyRef"]
                for env in container["env"]
                if "valueFrom" in env
            }
            assert set(refs) == set(EXAMPLE["secretKeys"]), key
            assert all(ref == {"name": "loket", "key": name} for name, ref in refs.items()), key
            assert not any(env.get("value") for env in container["env"] if env["name"] in SECRETS), key


def test_chart_settings_are_safe_to_put_online(manifests, monkeypatch):
    """The example's settings, with stand-ins for the Secret, as loket reads them."""
    for name in list(os.environ):
        if name.startswith("LOKET_"):
            monkeypatch.delenv(name)
    for name, value in manifests[("ConfigMap", "loket")]["data"].items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LOKET_DATABASE_URL", "postgresql+psycopg://loket:password@postgres/loket")
    settings = Settings(_env_file=None)
    assert settings.unsafe() == []
    assert settings.rate_limit_storage.startswith("redis://")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "settings.LOKET_PUBLIC_URL is required"),
        (
            {"settings": {"LOKET_PUBLIC_URL": "https://loket.example.org"}},
            "several web replicas need a shared Redis",
        ),
        (
            {
                "settings": {
                    "LOKET_PUBLIC_URL": "https://l.example.org",
                    "LOKET_RATE_LIMIT_STORAGE": "redis://r",
                },
                "secretKeys": ["LOKET_DATABASE_URL"],
            },
            "several web replicas need one LOKET_SECRET_KEY",
        ),
    ],
)
def test_chart_refuses_to_render_what_cannot_work(helm, values, message):
    with pytest.raises(helm.HelmError, match=message):
        _render(helm, values)


def test_chart_one_replica_needs_no_redis(helm):
    one = {"web": {"replicas": 1}, "settings": {"LOKET_PUBLIC_URL": "https://loket.example.org"}}
    rendered = _render(helm, one)
    assert rendered[("Deployment", "loket-web")]["spec"]["replicas"] == 1
    assert ("Ingress", "loket") not in rendered and ("CronJob", "loket-ingest") not in rendered
    purge = rendered[("CronJob", "loket-purge")]
    assert purge["spec"]["concurrencyPolicy"] == "Forbid"
    assert _pod(purge)["containers"][0]["command"] == ["loket", "purge"], "retention needs it daily"


# The image


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments left out."""
    text = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")),
    )
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
        for line in text.splitlines()
        if line.strip()
    ]


def test_dockerfile_builds_in_two_stages_and_runs_unprivileged():
    instructions = _instructions(ROOT / "Dockerfile")
    stages = [args for op, args in instructions if op == "FROM"]
    assert len(stages) == 2 and stages[0].endswith("AS builder"), stages
    runtime = instructions[max(i for i, (op, _) in enumerate(instructions) if op == "FROM") :]
    builder = instructions[: len(instructions) - len(runtime)]
    run = " ".join(args for op, args in builder if op == "RUN")
    assert "pip install ." in run and "[test]" not in run and "llama" not in run
    assert ("COPY", "--from=builder /opt/loket /opt/loket") in runtime
    (user,) = [args for op, args in runtime if op == "USER"]
    uid, _, gid = user.partition(":")
    assert uid == "10001" and gid == "10001", "a fixed, numeric, unprivileged user (runAsNonRoot checks it)"
    assert [args for op, args in runtime if op == "EXPOSE"] == ["8000"]
    (health,) = [args for op, args in runtime if op == "HEALTHCHECK"]
    assert "python3" in health and "/healthz" in health and "curl" not in health
    (command,) = [args for op, args in runtime if op == "CMD"]
    assert json.loads(command) == ["loket", "serve", "--host", "0.0.0.0", "--port", "8000"]
    environment = " ".join(args for op, args in instructions if op in ("ENV", "ARG"))
    assert "LOKET_DATA_DIR=/var/lib/loket" in environment
    assert not re.search(r"(SECRET|PASSWORD|TOKEN|API_KEY)\w*=", environment), "no secrets in the image"


def test_dockerignore_keeps_the_build_context_small_and_clean():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".venv", "node_modules", ".pytest_tmp*", ".loket", ".env", ".git", "tests"} <= ignored
    assert not {"src", "pyproject.toml", "README.md"} & ignored, "pip install . needs them"


def test_the_commands_the_deployment_runs_exist():
    runner = CliRunner()
    serve = runner.invoke(cli, ["serve", "--help"])
    assert serve.exit_code == 0 and "--host" in serve.output and "--port" in serve.output
    assert runner.invoke(cli, ["db", "upgrade", "--help"]).exit_code == 0
