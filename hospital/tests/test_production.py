"""Production configuration: safe defaults, secrets only from the environment, security headers, no leaks."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from staff.tests.factories import PASSWORD

ROOT = Path(settings.BASE_DIR)


def run_django(code: str, **env) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter with exactly the given environment."""
    clean = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "hospital.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120, check=False
    )


def test_debug_is_off_and_a_secret_is_required_to_serve_by_default(tmp_path):
    result = run_django("import hospital.wsgi", HOSPITAL_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_the_deployment_check_reports_a_missing_secret(tmp_path):
    result = run_django(
        "import django; django.setup(); from django.core.management import call_command;"
        "call_command('check', '--deploy')",
        HOSPITAL_VAR_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "hospital.E001" in result.stderr


def test_commands_that_sign_nothing_run_without_a_secret(tmp_path):
    result = run_django(
        "import django; django.setup(); from django.core.management import call_command;"
        "call_command('makemigrations', '--check', '--dry-run')",
        HOSPITAL_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr


def test_importing_the_settings_creates_nothing_and_setting_up_makes_the_local_folders(tmp_path):
    var = tmp_path / "var"
    imported = run_django("from django.conf import settings; settings.DATABASES", HOSPITAL_VAR_DIR=str(var))
    assert imported.returncode == 0, imported.stderr
    assert not var.exists()

    set_up = run_django("import django; django.setup()", HOSPITAL_VAR_DIR=str(var))
    assert set_up.returncode == 0, set_up.stderr
    assert sorted(path.relative_to(var).as_posix() for path in var.rglob("*")) == [
        "celery",
        "celery/control",
        "celery/processed",
        "celery/queue",
    ]


def test_debug_defaults_to_off():
    result = run_django("from django.conf import settings; print(settings.DEBUG)", DJANGO_SECRET_KEY="k" * 50)
    assert result.stdout.strip() == "False"


def test_the_deployment_check_passes_with_production_variables(tmp_path):
    result = run_django(
        "import django, sys; django.setup(); from django.core.management import call_command;"
        "call_command('check', '--deploy', '--fail-level', 'WARNING')",
        DJANGO_SECRET_KEY="a-production-like-secret-key-with-enough-entropy-0123456789abcdef",
        DJANGO_ALLOWED_HOSTS="clinic.example",
        HOSPITAL_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_responses_carry_security_headers(login, alice, settings):
    response = login(alice).get("/api/me", secure=True)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "max-age=31536000" in response["Strict-Transport-Security"]


def test_production_settings_keep_cookies_secure_and_redirect_to_https():
    result = run_django(
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT)",
        DJANGO_SECRET_KEY="k" * 50,
    )
    assert result.stdout.split() == ["True", "True", "True"]


@pytest.mark.django_db
def test_no_password_hash_or_token_reaches_a_response_or_a_log_line(api, admin_user, caplog):
    caplog.set_level(logging.DEBUG)
    token = api.post("/api/token", {"username": "admin", "password": PASSWORD}, format="json").json()["token"]
    api.post("/api/token", {"username": "admin", "password": "wrong-" + PASSWORD}, format="json")
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    responses = [api.get("/api/me"), api.get("/api/users/"), api.get(f"/api/users/{admin_user.pk}/")]
    admin_user.refresh_from_db()
    secrets = [PASSWORD, admin_user.password, token]
    for response in responses:
        for secret in secrets:
            assert secret not in response.content.decode()
    for record in caplog.records:
        line = record.getMessage()
        for secret in secrets:
            assert secret not in line


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [True, False])
def test_an_unknown_api_path_answers_the_json_404_with_debug_on_and_off(client, settings, alice, debug):
    settings.DEBUG = debug
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")  # a session cookie

    for method in ("get", "post", "delete"):
        response = getattr(client, method)("/api/no/such/thing")
        assert response.status_code == 404, method
        assert response.json() == {"detail": "Not found.", "code": "not_found"}
