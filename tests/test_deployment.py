"""docker-compose.yml and the Dockerfile, checked as files: no container engine is needed.

Every variable a service sets must be read by something: our Settings, the simulator's
settings, a documented variable of a third-party image, or a script of ours mounted into it.
Every command must exist, every dependency and health condition must line up, every address
must name a service on the port it listens on, and the image must hold all code it imports.
"""

import ast
import importlib
import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy.engine import make_url

from api.main import CODEC_PATH, create_app
from core.config import Settings
from core.connection import VARIABLES as CONNECTION_VARIABLES
from devstack.temporal_server import tuning_flags
from domain.webhooks import webhook_task_queue
from simulator.config import SimulatorSettings
from tests.support.settings import variables
from workflows import search_attributes

ROOT = Path(__file__).resolve().parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
OURS = sorted(name for name, service in SERVICES.items() if "build" in service)
THEIRS = sorted(name for name in SERVICES if name not in OURS)

# Variables each third-party image documents (the image's own docs; for Temporal, the server's
# config template and the README of its images, and the flags of temporal-sql-tool and the CLI).
DOCUMENTED = {
    "postgres": {
        "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "POSTGRES_INITDB_ARGS",
        "POSTGRES_INITDB_WALDIR", "POSTGRES_HOST_AUTH_METHOD", "PGDATA",
    },
    "temporalio/server": {
        "DB", "DB_PORT", "DBNAME", "VISIBILITY_DBNAME", "POSTGRES_SEEDS", "POSTGRES_USER",
        "POSTGRES_PWD", "VISIBILITY_POSTGRES_SEEDS", "VISIBILITY_POSTGRES_USER",
        "VISIBILITY_POSTGRES_PWD", "SQL_MAX_CONNS", "SQL_MAX_IDLE_CONNS", "SQL_MAX_CONN_TIME",
        "SQL_TLS_ENABLED", "NUM_HISTORY_SHARDS", "BIND_ON_IP", "TEMPORAL_BROADCAST_ADDRESS",
        "LOG_LEVEL", "DYNAMIC_CONFIG_FILE_PATH", "PROMETHEUS_ENDPOINT", "TEMPORAL_SERVICES",
        "FRONTEND_GRPC_PORT",
    },
    "temporalio/admin-tools": {
        "SQL_PLUGIN", "SQL_HOST", "SQL_PORT", "SQL_USER", "SQL_PASSWORD", "SQL_DATABASE",
        "SQL_TLS", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE",
    },
    "temporalio/ui": {
        "TEMPORAL_ADDRESS", "TEMPORAL_UI_PORT", "TEMPORAL_DEFAULT_NAMESPACE",
        "TEMPORAL_CORS_ORIGINS", "TEMPORAL_UI_PUBLIC_PATH", "TEMPORAL_AUTH_ENABLED",
        "TEMPORAL_CODEC_ENDPOINT", "TEMPORAL_CODEC_PASS_ACCESS_TOKEN",
        "TEMPORAL_CODEC_INCLUDE_CREDENTIALS",
    },
}  # fmt: skip
TEMPORAL_FRONTEND_PORT = 7233
POSTGRES_PORT = 5432

_VARIABLE = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: object, given: dict[str, str] | None = None) -> str:
    """Compose's substitution: the `given` variables, every other default taken; a required
    variable not given gets a stand-in."""

    def substitute(match: re.Match[str]) -> str:
        name, operator, argument = match.groups()
        if given and name in given:
            return given[name]
        return argument if operator in (":-", "-") else "set-by-the-operator"

    return _VARIABLE.sub(substitute, str(value))


def environment(name: str) -> dict[str, str]:
    return {key: interpolate(value) for key, value in SERVICES[name].get("environment", {}).items()}


def command(name: str) -> list[str]:
    return [interpolate(part) for part in SERVICES[name].get("command", [])]


def image(name: str) -> str:
    return interpolate(SERVICES[name]["image"]).split(":")[0]


def option(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def mounts(name: str) -> dict[str, Path]:
    """Where each file or folder of this repository appears inside the service's container."""
    found: dict[str, Path] = {}
    for volume in SERVICES[name].get("volumes", []):
        source, target = str(volume).split(":")[:2]
        if source.startswith("./"):
            found[target] = ROOT / source
    return found


def scripts_run(name: str) -> list[Path]:
    """Our scripts the service runs: those its command names, and PostgreSQL's init scripts."""
    found = []
    for target, source in mounts(name).items():
        if target.startswith("/docker-entrypoint-initdb.d/"):
            found.append(source)
        for part in command(name):
            if part.startswith(target + "/"):
                found.append(source / part.removeprefix(target + "/"))
    return found


def script_variables(path: Path) -> set[str]:
    """Variables a shell script reads, less those it assigns itself."""
    text = path.read_text()
    read = set(re.findall(r"\$\{?([A-Za-z_]\w*)", text))
    assigned = set(re.findall(r"(?:^|;|then|else)\s*([A-Za-z_]\w*)=", text, re.M))
    assigned |= set(re.findall(r"\bfor (\w+) in\b", text))
    return read - assigned


def listening_port(name: str) -> int:
    env, argv = environment(name), command(name)
    if "--port" in argv:
        return int(option(argv, "--port"))
    if "SIMULATOR_HTTP_PORT" in env:
        return int(env["SIMULATOR_HTTP_PORT"])
    if "TEMPORAL_UI_PORT" in env:
        return int(env["TEMPORAL_UI_PORT"])
    raise AssertionError(f"{name}: no listening port known")


def settings_variables() -> set[str]:
    """Our settings (and their older names), and the Temporal connection's variables (read by
    the SDK's envconfig)."""
    return set(variables(older_names=True)) | CONNECTION_VARIABLES


def simulator_variables() -> set[str]:
    prefix = str(SimulatorSettings.model_config.get("env_prefix", ""))
    names = {prefix + field.upper() for field in SimulatorSettings.model_fields}
    for field in SimulatorSettings.model_fields.values():
        names |= set(getattr(field.validation_alias, "choices", []))
    return names


def test_compose_file_follows_the_compose_specification() -> None:
    schema = ["--builtin-schema", "vendor.compose-spec"]
    checked = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", *schema, str(ROOT / "docker-compose.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("name", OURS)
def test_our_services_set_only_real_settings(name: str) -> None:
    known = simulator_variables() if command(name)[-1] == "simulator" else settings_variables()

    assert set(environment(name)) - known == set()


@pytest.mark.parametrize("name", THEIRS)
def test_third_party_services_set_only_variables_something_reads(name: str) -> None:
    read_by_scripts = set().union(*(script_variables(path) for path in scripts_run(name)))

    unread = set(environment(name)) - DOCUMENTED[image(name)] - read_by_scripts

    assert unread == set()


@pytest.mark.parametrize("name", THEIRS)
def test_scripts_get_every_variable_they_read(name: str) -> None:
    provided = set(environment(name))

    for script in scripts_run(name):
        assert script_variables(script) <= provided, script.name


def assert_runnable(argv: list[str]) -> None:
    if argv[:2] == ["python", "-m"]:
        spec = importlib.util.find_spec(argv[2])
        assert spec is not None, argv[2]
        if spec.submodule_search_locations:  # a package runs its __main__
            assert importlib.util.find_spec(f"{argv[2]}.__main__") is not None
        return
    assert argv[0] == "uvicorn", argv
    module, attribute = argv[1].split(":")
    assert callable(getattr(importlib.import_module(module), attribute))
    assert "--factory" in argv


@pytest.mark.parametrize("name", OURS)
def test_commands_of_our_services_exist(name: str) -> None:
    assert_runnable(command(name))


def image_command() -> list[str]:
    last = [line for line in dockerfile_stages()[-1] if line.startswith("CMD ")][-1]
    argv: list[str] = yaml.safe_load(last.removeprefix("CMD "))
    return argv


def test_default_command_of_the_image_exists() -> None:
    assert_runnable(image_command())


def test_the_api_keeps_idle_connections_as_its_setting_says() -> None:
    """Compose and the image pass uvicorn the setting's default, not uvicorn's own 5 s
    (`make run` passes the setting: tests/api/test_connections.py)."""
    default = str(Settings.model_fields["api_keep_alive_seconds"].default)

    assert option(command("api"), "--timeout-keep-alive") == default
    assert option(image_command(), "--timeout-keep-alive") == default


@pytest.mark.parametrize("name", THEIRS)
def test_scripts_that_services_run_exist_and_are_executable(name: str) -> None:
    for script in scripts_run(name):
        assert script.is_file(), script
        assert script.stat().st_mode & 0o111, f"{script} is not executable"


def test_commands_of_the_schema_and_namespace_steps_are_our_scripts() -> None:
    assert [p.name for p in scripts_run("temporal-schema")] == ["setup-schema.sh"]
    assert [p.name for p in scripts_run("temporal-setup")] == ["setup-namespace.sh"]
    assert [p.name for p in scripts_run("postgres")] == ["init-roles.sh"]


def test_every_mounted_file_exists() -> None:
    for name in SERVICES:
        for source in mounts(name).values():
            assert source.exists(), f"{name}: {source}"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_dependencies_exist_and_their_conditions_can_be_met(name: str) -> None:
    for target, rule in SERVICES[name].get("depends_on", {}).items():
        assert target in SERVICES, target
        condition = rule["condition"]
        if condition == "service_healthy":
            assert "healthcheck" in SERVICES[target], f"{target} has no healthcheck"
        elif condition == "service_completed_successfully":
            assert SERVICES[target].get("restart", "no") == "no", f"{target} is not one-shot"
        else:
            assert condition == "service_started"


def test_start_order_has_no_cycle() -> None:
    started: set[str] = set()
    pending = dict.fromkeys(SERVICES)
    while pending:
        ready = [n for n in pending if set(SERVICES[n].get("depends_on", {})) <= started]
        assert ready, f"a dependency cycle among {sorted(pending)}"
        for name in ready:
            started.add(name)
            del pending[name]


def test_api_and_worker_wait_for_migrations_and_the_namespace() -> None:
    for name in ("api", "worker"):
        needs = SERVICES[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert needs["temporal-setup"]["condition"] == "service_completed_successfully"
    assert command("migrate") == ["python", "-m", "store.migrate"]


@pytest.mark.parametrize("name", ["api", "worker", "migrate"])
def test_database_url_names_the_postgres_service_and_the_database_it_creates(name: str) -> None:
    url = make_url(environment(name)["DATABASE_URL"])
    init = (ROOT / "deploy/postgres/init-roles.sh").read_text()

    assert url.get_backend_name() == "postgresql"
    assert image(str(url.host)) == "postgres"
    assert url.port == POSTGRES_PORT
    assert f"CREATE DATABASE {url.database} OWNER {url.username};" in init


@pytest.mark.parametrize("name", ["api", "worker", "temporal-setup", "temporal-ui"])
def test_temporal_address_names_the_server_on_its_frontend_port(name: str) -> None:
    host, port = environment(name)["TEMPORAL_ADDRESS"].rsplit(":", 1)

    assert image(host) == "temporalio/server"
    assert int(port) == TEMPORAL_FRONTEND_PORT


def test_one_namespace_everywhere() -> None:
    namespaces = {
        environment("api")["TEMPORAL_NAMESPACE"],
        environment("worker")["TEMPORAL_NAMESPACE"],
        environment("temporal-setup")["TEMPORAL_NAMESPACE"],
        environment("temporal-ui")["TEMPORAL_DEFAULT_NAMESPACE"],
    }
    assert len(namespaces) == 1


def test_api_and_worker_reach_the_simulator_where_it_listens() -> None:
    simulator = environment("simulator")
    for name in ("api", "worker"):
        env = environment(name)
        url = urlsplit(env["SIMULATOR_URL"])
        assert url.hostname in SERVICES
        assert url.port == listening_port(str(url.hostname))
        assert env["SIMULATOR_SMTP_HOST"] == url.hostname
        assert env["SIMULATOR_SMTP_PORT"] == simulator["SIMULATOR_SMTP_PORT"]


def test_simulator_reports_to_a_report_route_of_the_api() -> None:
    url = urlsplit(environment("simulator")["SIMULATOR_WEBHOOK_URL"])
    routes = create_app(Settings(_env_file=None)).openapi()["paths"]  # type: ignore[call-arg]

    assert url.hostname == "api"
    assert url.port == listening_port("api")
    assert url.path.replace("/simulator", "/{provider}") in routes


def test_the_ui_decodes_through_the_apis_codec_route_from_an_allowed_origin() -> None:
    """The browser calls the codec: the UI's endpoint is the API's published port, and the API
    lets the UI's published origin call it."""
    endpoint = urlsplit(environment("temporal-ui")["TEMPORAL_CODEC_ENDPOINT"])
    ui_port = published_port("temporal-ui")
    origins = environment("api")["CODEC_CORS_ORIGINS"].split(",")

    assert (endpoint.hostname, endpoint.port) == ("127.0.0.1", published_port("api"))
    assert endpoint.path + "/" == CODEC_PATH
    assert f"http://127.0.0.1:{ui_port}" in origins
    assert (
        environment("worker")["PAYLOAD_ENCRYPTION_KEY"]
        == environment("api")["PAYLOAD_ENCRYPTION_KEY"]
    )


def published_port(name: str) -> int:
    return int(interpolate(SERVICES[name]["ports"][0]).split(":")[-2])


@pytest.mark.parametrize("name", ["simulator", "temporal-ui"])
def test_what_has_no_login_is_published_on_this_host_only(name: str) -> None:
    """The simulator's inbox shows every message; the UI can cancel and terminate orders."""
    assert all(interpolate(m).startswith("127.0.0.1:") for m in SERVICES[name]["ports"])


@pytest.mark.parametrize("name", ["api", "worker"])
def test_a_stopping_service_is_killed_only_after_its_own_grace(name: str) -> None:
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    grace = {
        "api": defaults.api_shutdown_grace_seconds,
        "worker": defaults.worker_shutdown_grace_seconds,
    }[name]
    kill = SERVICES[name]["stop_grace_period"]

    assert kill.endswith("s")
    assert int(kill[:-1]) > grace
    if name == "api":
        assert int(option(command("api"), "--timeout-graceful-shutdown")) == grace


@pytest.mark.parametrize("name", ["api", "simulator", "temporal-ui"])
def test_published_ports_lead_to_the_listening_port(name: str) -> None:
    targets = {int(interpolate(mapping).rsplit(":", 1)[1]) for mapping in SERVICES[name]["ports"]}

    assert targets == {listening_port(name)}


@pytest.mark.parametrize("name", ["api", "simulator"])
def test_healthchecks_probe_the_listening_port(name: str) -> None:
    probe = " ".join(SERVICES[name]["healthcheck"]["test"])
    port = re.search(r"http://127\.0\.0\.1:(\d+)/", probe)

    assert port is not None
    assert int(port.group(1)) == listening_port(name)


def test_namespace_setup_registers_every_search_attribute_as_keyword() -> None:
    script = (ROOT / "deploy/temporal/setup-namespace.sh").read_text()
    listed = re.search(r"for name in ([\w ]+); do", script)

    assert listed is not None
    assert listed.group(1).split() == [key.name for key in search_attributes.ALL]
    assert '--name "$name" --type Keyword' in script


def test_update_with_start_is_enabled_on_the_server() -> None:
    mount = next(v for v in SERVICES["temporal"]["volumes"] if "dynamicconfig" in v)
    source, target = str(mount).split(":")[:2]
    config = yaml.safe_load((ROOT / source).read_text())

    assert environment("temporal")["DYNAMIC_CONFIG_FILE_PATH"] == target
    for key in ("frontend.enableUpdateWorkflowExecution", "frontend.enableExecuteMultiOperation"):
        assert config[key] == [{"value": True}]


def test_the_server_takes_as_many_repeats_in_flight_as_the_tests_prove() -> None:
    config = yaml.safe_load((ROOT / "deploy/temporal/dynamicconfig.yaml").read_text())
    flag = next(f for f in tuning_flags() if "history.maxInFlightUpdates=" in f)

    assert config["history.maxInFlightUpdates"] == [{"value": int(flag.rsplit("=", 1)[1])}]


def test_the_webhooks_queue_dispatches_by_priority_and_tenant_in_one_partition() -> None:
    config = yaml.safe_load((ROOT / "deploy/temporal/dynamicconfig.yaml").read_text())
    default_queue = Settings.model_fields["temporal_task_queue"].default
    webhooks = {"taskQueueName": webhook_task_queue(default_queue)}
    expected = {
        "matching.enableFairness": True,
        "matching.numTaskqueueWritePartitions": 1,
        "matching.numTaskqueueReadPartitions": 1,
    }

    for key, value in expected.items():
        assert config[key] == [{"value": value, "constraints": webhooks}]


def required_variables() -> set[str]:
    text = (ROOT / "docker-compose.yml").read_text()
    return {name for name, op, _ in _VARIABLE.findall(text) if op in (":?", "?")}


def test_secrets_have_no_defaults_and_the_example_sets_each() -> None:
    example = (ROOT / "deploy/example.env").read_text()
    defined = set(re.findall(r"^(\w+)=", example, re.M))
    required = required_variables()

    assert {"AUTH_JWT_SECRET", "DELIVERY_REPORT_SECRET", "POSTGRES_PASSWORD"} <= required
    assert defined == required


def test_fresh_secrets_start_the_service_in_production(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """deploy/new-env.sh makes every secret compose requires, which production takes (it
    refuses example.env's published ones: tests/core/test_config.py), in a file only its
    owner reads, and never replaces one."""
    env_file = tmp_path / ".env"
    subprocess.run([ROOT / "deploy/new-env.sh", env_file], capture_output=True, check=True)
    again = subprocess.run([ROOT / "deploy/new-env.sh", env_file], capture_output=True)
    made = env_file.read_text()
    secrets = dict(line.split("=", 1) for line in made.splitlines())
    for name, value in SERVICES["api"]["environment"].items():
        monkeypatch.setenv(name, interpolate(value, secrets))

    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert set(secrets) == required_variables()
    assert env_file.stat().st_mode & 0o077 == 0
    assert again.returncode != 0
    assert env_file.read_text() == made
    assert all(v.isalnum() for k, v in secrets.items() if k.endswith("_PASSWORD"))  # in URLs
    assert settings.environment == "production"
    assert settings.auth_jwt_secret == secrets["AUTH_JWT_SECRET"]
    assert secrets["NOTIFICATIONS_DB_PASSWORD"] in settings.database_url


# The Dockerfile


def dockerfile_stages() -> list[list[str]]:
    stages: list[list[str]] = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("FROM "):
            stages.append([])
        if stages and line and not line.startswith("#"):
            stages[-1].append(line)
    return stages


def copied_sources() -> set[str]:
    copied: set[str] = set()
    for line in dockerfile_stages()[0]:
        if line.startswith("COPY ") and "--from" not in line:
            copied |= {part.rstrip("/") for part in line.split()[1:-1]}
    return copied


def first_party() -> set[str]:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "scripts"}
    return packages | {p.stem for p in ROOT.glob("*.py")}


def imported_first_party(sources: set[str]) -> set[str]:
    names: set[str] = set()
    for source in sources:
        path = ROOT / source
        files = path.rglob("*.py") if path.is_dir() else [path] if path.suffix == ".py" else []
        for file in files:
            for node in ast.walk(ast.parse(file.read_text())):
                if isinstance(node, ast.Import):
                    names |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module.split(".")[0])
    return names & first_party()


def test_image_holds_every_package_the_code_imports() -> None:
    copied = copied_sources()
    modules = {source.removesuffix(".py") for source in copied}

    assert imported_first_party(copied) <= modules
    assert {"worker", "api", "store", "simulator"} <= modules


def test_image_holds_every_package_pip_installs() -> None:
    project = (ROOT / "pyproject.toml").read_text()
    listed = re.search(r"packages = \[(.*?)\]", project, re.S)
    assert listed is not None
    packages = {name.split(".")[0] for name in re.findall(r'"([\w.]+)"', listed.group(1))}
    modules = {source.removesuffix(".py") for source in copied_sources()}

    assert packages <= modules
    assert {"pyproject.toml", "README.md", "worker.py"} <= copied_sources()


def test_image_installs_the_versions_the_suite_passed_with() -> None:
    installs = [line for line in dockerfile_stages()[0] if line.startswith("RUN pip install")]

    assert installs
    assert all("-c constraints.txt" in line for line in installs)
    assert "constraints.txt" in copied_sources()


def test_dockerignore_keeps_nothing_the_image_copies_out() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }

    assert copied_sources() & ignored == set()
    assert {".venv", ".env", ".data"} <= ignored


def test_the_workers_metrics_listen_beyond_the_container() -> None:
    runtime = " ".join(dockerfile_stages()[-1])
    assert "WORKER_METRICS_HOST=0.0.0.0" in runtime


def test_image_runs_unprivileged_with_a_writable_data_folder() -> None:
    final = dockerfile_stages()[-1]
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    workdir = [line.split()[1] for line in final if line.startswith("WORKDIR ")][-1]
    data = Path(make_url(Settings(_env_file=None).database_url).database or "").parent  # type: ignore[call-arg]
    build = " ".join(final)

    assert users
    assert users[-1] not in ("root", "0")
    assert f"mkdir -p {workdir}/{data}" in build
    assert f"chown {users[-1]}:{users[-1]} {workdir}/{data}" in build
