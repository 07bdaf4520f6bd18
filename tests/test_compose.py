"""docker-compose.yml and the Dockerfile agree with the code they run (static checks, no Docker).

Nothing here builds or starts a container: the file is parsed with PyYAML and checked
against the repository (modules, console scripts, settings classes), so a renamed
module, a misspelt variable or a leaked secret fails here instead of at `docker compose up`.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shlex
import tomllib
from fnmatch import fnmatch
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from pydantic import AliasChoices, BaseModel
from pydantic_settings import BaseSettings
from typer.testing import CliRunner

from shared.platform.auth import AuthSettings
from shared.platform.kafka import KafkaSettings
from shared.platform.keywrap import KeySettings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"


def service_settings() -> dict[str, type[BaseSettings]]:
    """Each service package's settings class (`services/<name>/settings.py`), by service name."""
    found: dict[str, type[BaseSettings]] = {}
    for path in sorted((ROOT / "services").glob("*/settings.py")):
        module = importlib.import_module(f"services.{path.parent.name}.settings")
        classes = [
            value
            for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, BaseSettings) and value.__module__ == module.__name__
        ]
        assert len(classes) == 1, f"{path.relative_to(ROOT)} must define exactly one settings class, has {classes}"
        found[path.parent.name] = classes[0]
    return found


SERVICE_SETTINGS = service_settings()
SETTINGS: tuple[type[BaseSettings], ...] = (*SERVICE_SETTINGS.values(), KafkaSettings, AuthSettings, KeySettings)
"""Every settings class a process of our image reads its `CRM_*` environment through."""

API_SETTINGS: dict[str, type[BaseSettings]] = {f"services.{name}.main": cls for name, cls in SERVICE_SETTINGS.items()}
"""The HTTP APIs: the module each runs, and the settings it takes its host and port from."""

STORE_SERVICES = sorted(name for name, cls in SERVICE_SETTINGS.items() if "store" in cls.model_fields)
"""Services with an event store: all their processes (API, relay, consumers, workers) must share it."""

Service = dict[str, Any]


# ---- reading the files ----


@cache
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), "docker-compose.yml is not a mapping"
    return loaded


def services() -> dict[str, Service]:
    found = compose().get("services")
    assert isinstance(found, dict), "docker-compose.yml has no `services:` mapping"
    assert found, "docker-compose.yml declares no services"
    return found


def our_images() -> set[str]:
    """Images built from this repository (named by a service that has `build:`)."""
    return {str(s["image"]) for s in services().values() if "build" in s and "image" in s}


def our_services() -> dict[str, Service]:
    """Services that run our image: built here, or naming an image built here."""
    images = our_images()
    return {name: s for name, s in services().items() if "build" in s or s.get("image") in images}


def third_party_services() -> dict[str, Service]:
    ours = our_services()
    return {name: s for name, s in services().items() if name not in ours}


def command_of(service: Service) -> list[str]:
    command = service.get("command")
    if command is None:
        return []
    if isinstance(command, str):
        return shlex.split(command)
    return [str(part) for part in command]


def module_of(service: Service) -> str | None:
    """`X` of a `python -m X` command, else None."""
    command = command_of(service)
    if len(command) >= 3 and Path(command[0]).name in {"python", "python3", "python3.11"} and command[1] == "-m":
        return command[2]
    return None


def environment_of(service: Service) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (str(item).partition("=") for item in env)
        return {key: value for key, _, value in pairs}
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def depends_on_of(service: Service) -> dict[str, str]:
    """Each dependency of `service` and the condition it waits for."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {str(name): "service_started" for name in deps}
    return {str(name): str((spec or {}).get("condition", "service_started")) for name, spec in deps.items()}


def container_ports(service: Service) -> list[int]:
    """The container side of each published port (short or long syntax)."""
    ports: list[int] = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            ports.append(int(entry["target"]))
        else:
            target = str(entry).split("/")[0].rsplit(":", 1)[-1]
            ports.append(int(target))
    return ports


_INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def with_defaults(value: str) -> str:
    """`value` as compose would interpolate it in an empty environment (`${X:?…}` → a stand-in)."""

    def resolve(match: re.Match[str]) -> str:
        op = match["op"] or ""
        return match["arg"] if op.endswith("-") else f"<{match['name']} from the environment>"

    return _INTERPOLATION.sub(resolve, value)


def settings_seen_by(service: Service, settings: type[BaseSettings], monkeypatch: pytest.MonkeyPatch) -> Any:
    """What `settings` reads inside the container of `service` (and nothing from this process)."""
    for key in list(os.environ):
        if key.upper().startswith("CRM_"):
            monkeypatch.delenv(key)
    for key, value in environment_of(service).items():
        monkeypatch.setenv(key, with_defaults(value))
    return settings()


def env_names(settings: type[BaseSettings]) -> set[str]:
    """The environment variables `settings` reads (upper case), nested fields included."""
    prefix = settings.model_config.get("env_prefix") or ""
    delimiter = settings.model_config.get("env_nested_delimiter")
    names: set[str] = set()
    for name, field in settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {choice.upper() for choice in alias.choices if isinstance(choice, str)}
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{prefix}{name}".upper())
        nested = field.annotation
        if delimiter and isinstance(nested, type) and issubclass(nested, BaseModel):
            names |= {f"{prefix}{name}{delimiter}{sub}".upper() for sub in nested.model_fields}
    return names


@cache
def dockerfile_instructions() -> tuple[tuple[str, str], ...]:
    """(KEYWORD, arguments) of each Dockerfile instruction, continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    current = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        keyword, _, rest = (current + line).partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        current = ""
    return tuple(instructions)


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for keyword, rest in dockerfile_instructions():
        if keyword == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((keyword, rest))
    return stages


def dockerignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` (relative to the root) out of the build context."""
    ignored = False
    for raw in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        parts = Path(path).parts
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        candidates = [pattern, pattern.removeprefix("**/")] if pattern.startswith("**/") else [pattern]
        subject = prefixes if not pattern.startswith("**/") else [*prefixes, *parts]
        if any(fnmatch(p, c) for p in subject for c in candidates):
            ignored = not negated
    return ignored


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def assert_runnable_module(module: str, where: str) -> None:
    base = ROOT.joinpath(*module.split("."))
    script = base.with_suffix(".py")
    package_main = base / "__main__.py"
    assert script.is_file() or package_main.is_file(), f"{where} runs `python -m {module}`: no {script} in the repo"
    if script.is_file():
        assert 'if __name__ == "__main__":' in script.read_text(encoding="utf-8"), (
            f"{where} runs `python -m {module}`, but {script.relative_to(ROOT)} has no __main__ guard"
        )


def assert_console_command_exists(command: list[str], where: str) -> None:
    scripts: dict[str, str] = pyproject()["project"].get("scripts", {})
    name = command[0]
    assert name in scripts, f"{where} runs `{name}`, which pyproject.toml does not declare under [project.scripts]"
    module_name, _, attribute = scripts[name].partition(":")
    source = ROOT.joinpath(*module_name.split(".")).with_suffix(".py")
    assert source.is_file(), f"[project.scripts] {name} points at missing {module_name}"
    app = getattr(importlib.import_module(module_name), attribute)
    assert isinstance(app, typer.Typer), f"{scripts[name]} is not a Typer app"
    result = CliRunner().invoke(app, [*command[1:], "--help"])
    assert result.exit_code == 0, f"{where} runs `{shlex.join(command)}`, which the CLI rejects:\n{result.output}"


# ---- the compose file ----


def test_compose_file_follows_the_compose_specification_without_a_version_key() -> None:
    assert "version" not in compose(), "the Compose Specification has no `version:`; remove it"
    assert our_images(), "no service builds our image from ./Dockerfile"
    for name, service in our_services().items():
        build = service.get("build")
        if isinstance(build, dict):
            assert (ROOT / str(build.get("context", ".")) / str(build.get("dockerfile", "Dockerfile"))).is_file(), name


def test_every_compose_service_runs_a_module_that_exists() -> None:
    for name, service in our_services().items():
        command = command_of(service)
        assert command, f"service {name} runs our image without a `command:` (every service picks its process)"
        module = module_of(service)
        if module is not None:
            assert_runnable_module(module, f"service {name}")
        else:
            assert_console_command_exists(command, f"service {name}")


def test_the_image_default_command_runs_a_module_that_exists() -> None:
    cmds = [rest for keyword, rest in dockerfile_stages()[-1] if keyword == "CMD"]
    assert cmds, "the final stage declares no CMD"
    command = json.loads(cmds[-1]) if cmds[-1].startswith("[") else shlex.split(cmds[-1])
    module = module_of({"command": command})
    if module is not None:
        assert_runnable_module(module, "the image's CMD")
    else:
        assert_console_command_exists(command, "the image's CMD")


def test_every_depends_on_target_is_a_service() -> None:
    names = set(services())
    for name, service in services().items():
        for target in depends_on_of(service):
            assert target in names, f"service {name} depends on {target}, which compose does not declare"


def test_dependencies_wait_only_for_states_their_target_can_reach() -> None:
    for name, service in services().items():
        for target, condition in depends_on_of(service).items():
            dependency = services().get(target, {})
            if condition == "service_healthy":
                assert dependency.get("healthcheck"), f"{name} waits for {target} to be healthy: it has no healthcheck"
            if condition == "service_completed_successfully":
                assert dependency.get("restart", "no") == "no", (
                    f'{name} waits for one-shot {target} to complete: it must have restart "no" (quoted)'
                )


def test_every_process_waits_for_the_topics_to_be_created() -> None:
    ensure = [n for n, s in our_services().items() if command_of(s)[:3] == ["crm", "topics", "ensure"]]
    assert len(ensure) == 1, f"exactly one one-shot service must run `crm topics ensure`, found {ensure}"
    topics = ensure[0]
    kafka_deps = depends_on_of(services()[topics])
    assert any(condition == "service_healthy" for condition in kafka_deps.values()), f"{topics} must wait for Kafka"
    for name, service in our_services().items():
        if name != topics:
            assert depends_on_of(service).get(topics) == "service_completed_successfully", (
                f"service {name} must start only after `{topics}` completed successfully"
            )


def test_every_published_api_port_is_the_port_the_api_listens_on(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, service in our_services().items():
        if container_ports(service):
            assert module_of(service) in API_SETTINGS, f"service {name} publishes a port but runs no known API"
    for name, service in third_party_services().items():
        for entry in service.get("ports") or []:
            assert str(entry).startswith("127.0.0.1:"), f"{name} publishes {entry} beyond this machine"
    for name, service in our_services().items():
        module = module_of(service)
        if module not in API_SETTINGS:
            continue
        settings = settings_seen_by(service, API_SETTINGS[module], monkeypatch)
        assert container_ports(service) == [settings.port], (
            f"service {name} publishes {container_ports(service)} but the API listens on {settings.port}"
        )
        assert settings.host == "0.0.0.0", f"service {name} listens on {settings.host}, unreachable from outside"


def test_api_healthchecks_probe_the_port_the_api_listens_on(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, service in our_services().items():
        module = module_of(service)
        if module not in API_SETTINGS:
            continue
        settings = settings_seen_by(service, API_SETTINGS[module], monkeypatch)
        probe = " ".join(str(part) for part in (service.get("healthcheck") or {}).get("test", []))
        assert "urllib" in probe, f"service {name} needs a python urllib healthcheck (slim images have no curl)"
        assert f"http://127.0.0.1:{settings.port}/healthz" in probe, (
            f"service {name}'s healthcheck does not probe /healthz on port {settings.port}: {probe}"
        )


def test_every_crm_variable_given_to_a_service_is_read_by_a_settings_class() -> None:
    known = set().union(*(env_names(settings) for settings in SETTINGS))
    for name, service in our_services().items():
        for key in environment_of(service):
            if key.upper().startswith("CRM_"):
                assert key.upper() in known, f"service {name} sets {key}, which no settings class reads (typo?)"


@pytest.mark.parametrize("service_name", STORE_SERVICES)
def test_every_process_of_a_service_shares_one_postgres_event_store(
    service_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stores: dict[str, dict[str, Any]] = {}
    for name, service in our_services().items():
        if (module_of(service) or "").startswith(f"services.{service_name}."):
            settings = settings_seen_by(service, SERVICE_SETTINGS[service_name], monkeypatch)
            store = settings.store.model_dump()
            store["postgres_password"] = settings.store.postgres_password.get_secret_value()
            stores[name] = store
    assert f"services.{service_name}.main" in {module_of(services()[n]) for n in stores}, (
        f"compose runs no {service_name} API"
    )
    first = next(iter(stores.values()))
    assert all(store == first for store in stores.values()), f"the {service_name} processes use different stores"
    assert first["backend"] == "postgres", "separate containers cannot share a SQLite file: use postgres"
    postgres = services().get(first["postgres_host"])
    assert postgres is not None, f"the store host {first['postgres_host']} is not a compose service"
    env = environment_of(postgres)
    assert env.get("POSTGRES_USER") == first["postgres_user"]
    assert env.get("POSTGRES_DB") == first["postgres_db"]
    assert with_defaults(env.get("POSTGRES_PASSWORD", "")) == first["postgres_password"]


def test_no_service_is_given_a_literal_jwt_secret() -> None:
    required = re.compile(r"\$\{CRM_JWT_SECRET:?\?[^}]*\}")
    for name, service in services().items():
        for key, value in environment_of(service).items():
            if key.upper() == "CRM_JWT_SECRET":
                assert required.fullmatch(value), (
                    f"service {name} must take CRM_JWT_SECRET from the environment as "
                    f"${{CRM_JWT_SECRET:?message}} (no literal, no default), got {value!r}"
                )
        build = service.get("build")
        if isinstance(build, dict):
            assert "CRM_JWT_SECRET" not in json.dumps(build.get("args", {})), f"service {name} passes it to the build"


def test_every_api_gets_the_jwt_secret_from_the_environment() -> None:
    for name, service in our_services().items():
        if module_of(service) in API_SETTINGS:
            assert "CRM_JWT_SECRET" in environment_of(service), (
                f"API service {name} cannot start without CRM_JWT_SECRET"
            )


def test_third_party_images_are_pinned_and_keep_their_data_in_named_volumes() -> None:
    declared = set(compose().get("volumes") or {})
    for name, service in third_party_services().items():
        image = str(service.get("image", ""))
        tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else ""
        assert tag, f"service {name} must pin its image to a version, got {image!r}"
        assert tag != "latest", f"service {name} must pin its image to a version, got {image!r}"
        volumes = [str(v).split(":")[0] if isinstance(v, str) else str(v.get("source")) for v in service["volumes"]]
        assert any(source in declared for source in volumes), f"datastore {name} keeps its data in no named volume"
    for name, service in services().items():
        for volume in service.get("volumes") or []:
            source = str(volume).split(":")[0] if isinstance(volume, str) else str(volume.get("source"))
            if not source.startswith((".", "/", "~")):
                assert source in declared, f"service {name} mounts volume {source}, not declared under volumes:"


# ---- the Dockerfile ----


def test_the_image_is_built_in_more_than_one_stage() -> None:
    froms = [rest for keyword, rest in dockerfile_instructions() if keyword == "FROM"]
    assert len(froms) >= 2, f"the Dockerfile must be multi-stage, has {len(froms)} FROM"
    assert all(rest.split()[0] == "python:3.11-slim" for rest in froms), froms


def test_the_final_image_stage_runs_as_a_non_root_user() -> None:
    users = [rest for keyword, rest in dockerfile_stages()[-1] if keyword == "USER"]
    assert users, "the final stage has no USER: the processes would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}, f"the final stage runs as {users[-1]}"


def test_the_image_bakes_in_no_secret() -> None:
    secretish = re.compile(r"SECRET|PASSWORD|TOKEN|API_KEY", re.IGNORECASE)
    for keyword, rest in dockerfile_instructions():
        if keyword in {"ENV", "ARG"}:
            assert not secretish.search(rest), f"the Dockerfile bakes a secret in: {keyword} {rest}"
    for path in (".env", ".env.local"):
        assert dockerignored(path), f".dockerignore must keep {path} out of the build context"


def test_the_image_copies_only_files_present_in_the_build_context() -> None:
    for keyword, rest in dockerfile_instructions():
        if keyword not in {"COPY", "ADD"}:
            continue
        args = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
        if any(arg.startswith("--from") for arg in args):
            continue
        sources = [arg for arg in args if not arg.startswith("--")][:-1]
        for source in sources:
            assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which is not in the repository"
            assert not dockerignored(source), f"the Dockerfile copies {source}, but .dockerignore excludes it"


def test_the_event_schemas_are_packaged_into_the_image() -> None:
    schemas = sorted((ROOT / "shared" / "events" / "schemas").glob("*.json"))
    assert schemas, "no committed event schemas"
    packages = pyproject()["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert "shared" in packages, "hatchling would leave shared/ (and its schemas) out of the wheel"
    for schema in schemas:
        assert not dockerignored(str(schema.relative_to(ROOT))), f".dockerignore drops {schema.name}"
