"""Dockerfile and docker-compose.yml: what can be checked without a Docker engine."""

import re
from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
ENTRYPOINT = (ROOT / "scripts" / "entrypoint.sh").read_text()


def entrypoint_commands() -> set[str]:
    return set(re.findall(r"^  ([a-z]+)\)$", ENTRYPOINT, flags=re.MULTILINE))


def test_compose_runs_every_service_through_the_entrypoint():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"web", "worker", "beat", "flower", "postgres", "redis"}
    for name in ("web", "worker", "beat", "flower"):
        command = services[name]["command"]
        assert command[0] in entrypoint_commands(), f"{name} runs {command}"
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["flower"]["ports"] == ["5555:5555"]
    assert "FLOWER_BASIC_AUTH" in services["flower"]["environment"]
    assert services["beat"]["deploy"]["replicas"] == 1
    assert services["web"]["environment"]["CELERY_BROKER_URL"].startswith("redis://")


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
