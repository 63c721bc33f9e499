"""Dockerfile and docker-compose.yml: what can be checked without a Docker engine."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
ENTRYPOINT = (ROOT / "scripts" / "entrypoint.sh").read_text()


def entrypoint_commands() -> set[str]:
    return set(re.findall(r"^  ([a-z]+)\)$", ENTRYPOINT, flags=re.MULTILINE))


def compose() -> dict:
    # No Docker engine (nor the compose v2 plugin) runs here, so `docker compose config` cannot;
    # the file is checked as YAML against the roles the smoke suite runs (test_smoke.py).
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_every_service_through_the_entrypoint():
    services = compose()["services"]
    assert set(services) == {"migrate", "web", "worker", "beat", "flower", "test", "postgres", "redis"}
    roles = {"migrate": "setup", "web": "web", "worker": "worker", "beat": "beat", "flower": "flower", "test": "test"}
    for name, role in roles.items():
        assert services[name]["command"] == [role], f"{name} runs {services[name]['command']}"
        assert role in entrypoint_commands()
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["flower"]["ports"] == ["5555:5555"]
    assert "FLOWER_BASIC_AUTH" in services["flower"]["environment"]
    assert services["beat"]["deploy"]["replicas"] == 1
    assert services["web"]["environment"]["CELERY_BROKER_URL"].startswith("redis://")


def test_migrations_run_once_before_the_app_starts():
    services = compose()["services"]
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat", "flower"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    web_role = ENTRYPOINT[ENTRYPOINT.index("  web)") : ENTRYPOINT.index(";;", ENTRYPOINT.index("  web)"))]
    assert "setup" not in web_role and "migrate" not in web_role.replace("Migrations are not run", "")


def test_the_healthcheck_is_the_entrypoints_and_asks_for_an_allowed_host():
    web = compose()["services"]["web"]
    assert web["healthcheck"]["test"] == ["CMD", "scripts/entrypoint.sh", "healthcheck"]
    check = ENTRYPOINT[ENTRYPOINT.index("  healthcheck)") :]
    assert "/admin/login/" in check and "DJANGO_ALLOWED_HOSTS" in check and '"Host": host' in check


def test_tests_run_on_their_own_image_target_and_production_carries_no_test_tools():
    services = compose()["services"]
    assert services["test"]["profiles"] == ["test"]
    assert services["test"]["build"]["target"] == "test"
    assert services["web"]["build"]["target"] == "production"
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", dockerfile, flags=re.MULTILINE)[1:]
    by_name = {stage.split()[2]: stage for stage in stages}
    assert set(by_name) == {"base", "test", "production"}
    assert "requirements-dev.txt" not in by_name["base"] + by_name["production"]
    assert "requirements-dev.txt" in by_name["test"]
    assert stages[-1].startswith("base AS production"), "production must be the default (last) stage"
    runtime = (ROOT / "requirements.txt").read_text().lower()
    for tool in ("pytest", "playwright", "schemathesis", "ruff", "hypothesis"):
        assert tool not in runtime


def test_base_images_are_pinned_to_a_minor_version():
    dockerfile = (ROOT / "Dockerfile").read_text()
    images = re.findall(r"^FROM (\S+)", dockerfile, flags=re.MULTILINE)
    images += [service["image"] for service in compose()["services"].values() if "build" not in service]
    for image in images:
        if image in {"base"}:
            continue
        assert re.search(r":\d+\.\d+", image), f"{image} is not pinned to a minor version"


def test_a_dockerignore_keeps_local_state_and_secrets_out_of_the_image():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", ".env", "var/*", "staticfiles", "artifacts"):
        assert entry in ignored


def test_env_example_describes_a_localhost_http_deployment_with_a_superuser():
    example = dict(re.findall(r"^([A-Z][A-Z0-9_]+)=(\S*)", (ROOT / ".env.example").read_text(), flags=re.MULTILINE))
    assert example["DJANGO_SECURE_SSL_REDIRECT"] == "0" and example["DJANGO_SECURE_COOKIES"] == "0"
    assert "DJANGO_SUPERUSER_USERNAME" in example and "DJANGO_SUPERUSER_PASSWORD" in example
    readme = (ROOT / "README.md").read_text()
    docker = readme[readme.index("With Docker") : readme.index("## Test")]
    required = re.findall(r"\$\{([A-Z_]+):\?", (ROOT / "docker-compose.yml").read_text())
    for variable in {*required, "DJANGO_SUPERUSER_USERNAME", "DJANGO_SUPERUSER_PASSWORD"}:
        assert variable in docker, f"README's Docker section does not say to fill {variable}"


def test_compose_holds_no_secrets():
    text = (ROOT / "docker-compose.yml").read_text()
    for variable in ("DJANGO_SECRET_KEY", "POSTGRES_PASSWORD", "FLOWER_BASIC_AUTH"):
        for value in re.findall(rf"{variable}: (.+)", text):
            assert value.startswith("${"), f"{variable} must come from the environment, not {value!r}"


def test_the_image_runs_the_entrypoint_as_a_non_root_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER (\S+)", dockerfile, flags=re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    assert 'ENTRYPOINT ["scripts/entrypoint.sh"]' in dockerfile
    assert "SECRET" not in dockerfile


def test_every_setting_in_env_example_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    example = (ROOT / ".env.example").read_text()
    names = re.findall(r"^([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE)
    assert len(names) > 20
    missing = [name for name in names if name not in readme]
    assert not missing, f"README's configuration table lacks {missing}"


def test_every_variable_the_settings_read_is_documented():
    source = (ROOT / "hospital" / "settings.py").read_text()
    read = set(re.findall(r'env_(?:str|bool|int|list)\("([A-Z0-9_]+)"', source))
    example = (ROOT / ".env.example").read_text()
    assert read, "no variables found"
    missing = sorted(name for name in read if f"{name}=" not in example)
    assert not missing, f".env.example lacks {missing}"


def run_healthcheck(port: int, allowed_hosts: str) -> subprocess.CompletedProcess:
    """compose's healthcheck (`entrypoint.sh healthcheck`) against a server on 127.0.0.1:port."""
    env = {
        "PATH": os.environ["PATH"],
        "PYTHON": sys.executable,
        "PORT": str(port),
        "DJANGO_ALLOWED_HOSTS": allowed_hosts,
    }
    command = [str(ROOT / "scripts" / "entrypoint.sh"), "healthcheck"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)


# The live server makes the test transactional; serialized_rollback keeps its flush from
# re-creating content types under new ids, which the next serialized-rollback test would trip on.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_healthcheck_passes_when_only_the_real_domain_is_allowed_and_tls_is_required(live_server, settings):
    # Production behind TLS: only the real domain is allowed, and plain HTTP would redirect.
    settings.ALLOWED_HOSTS = ["clinic.example"]
    settings.SECURE_SSL_REDIRECT = True
    port = live_server.url.rsplit(":", 1)[1]

    healthy = run_healthcheck(port, "clinic.example")
    # Had it asked with Host: 127.0.0.1 (as before), Django would have answered 400.
    unhealthy = run_healthcheck(port, "127.0.0.1")

    assert healthy.returncode == 0, healthy.stderr
    assert unhealthy.returncode == 1 and "400" in unhealthy.stderr
