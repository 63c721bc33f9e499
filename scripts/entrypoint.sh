#!/usr/bin/env bash
# One entry point for Docker, the Makefile and CI: `entrypoint.sh <command> [args]`.
#   setup        migrate, create the role groups, the superuser from DJANGO_SUPERUSER_* (if set);
#                run once per deploy, before web, worker and beat (compose's one-shot `migrate`)
#   collectstatic  collect and hash static files (the image does it at build time)
#   web          serve with gunicorn on :$PORT (8000); collects static files first if never collected
#   healthcheck  exit 0 when web answers the admin login page (compose's healthcheck)
#   worker  Celery worker (slot generation)
#   beat    Celery beat (the periodic sweep); run exactly one
#   flower  Flower on :5555 with basic auth from FLOWER_BASIC_AUTH
#   dev     setup + demo data, then runserver + worker + beat in one terminal (Ctrl-C stops all)
#   test    pytest with any extra arguments
#   *       run the command as given (e.g. `pytest -k booking`)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python}"

setup() {
  "$PYTHON" manage.py migrate --noinput
  "$PYTHON" manage.py add_groups
  if [[ -n "${DJANGO_SUPERUSER_USERNAME:-}" && -n "${DJANGO_SUPERUSER_PASSWORD:-}" ]]; then
    "$PYTHON" manage.py createsuperuser --noinput 2>/dev/null \
      && echo "Superuser ${DJANGO_SUPERUSER_USERNAME} created." \
      || echo "Superuser ${DJANGO_SUPERUSER_USERNAME} already exists."
  fi
}

command="${1:-web}"
shift || true

case "$command" in
  setup)
    setup
    ;;
  collectstatic)
    "$PYTHON" manage.py collectstatic --noinput --clear --verbosity 0
    ;;
  web)
    # Migrations are not run here: several web processes starting at once would race on them.
    if [[ ! -f "${DJANGO_STATIC_ROOT:-staticfiles}/staticfiles.json" ]]; then
      "$PYTHON" manage.py collectstatic --noinput --verbosity 0
    fi
    exec gunicorn hospital.wsgi:application \
      --bind "0.0.0.0:${PORT:-8000}" \
      --workers "${GUNICORN_WORKERS:-3}" \
      --threads "${GUNICORN_THREADS:-1}" \
      --timeout 30 --keep-alive 5 --access-logfile - "$@"
    ;;
  healthcheck)
    # The admin login page, asked for with a host the deployment allows (127.0.0.1 may not be one)
    # and as the TLS proxy in front would ask (so that DJANGO_SECURE_SSL_REDIRECT=1 answers 200 too).
    exec "$PYTHON" - <<'PY'
import os
import sys
import urllib.request

hosts = [h.strip().lstrip(".") for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",")]
host = next((h for h in hosts if h and h != "*"), "localhost")
request = urllib.request.Request(
    f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/admin/login/",
    headers={"Host": host, "X-Forwarded-Proto": "https"},
)
try:
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - a fixed local URL
        sys.exit(0 if response.status == 200 else 1)
except Exception as error:  # noqa: BLE001 - any failure is "unhealthy"
    print(f"unhealthy: {error}", file=sys.stderr)
    sys.exit(1)
PY
    ;;
  worker)
    exec celery -A hospital worker --loglevel "${LOG_LEVEL:-INFO}" --concurrency "${CELERY_CONCURRENCY:-2}" "$@"
    ;;
  beat)
    exec celery -A hospital beat --loglevel "${LOG_LEVEL:-INFO}" \
      --pidfile= --scheduler django_celery_beat.schedulers:DatabaseScheduler "$@"
    ;;
  flower)
    : "${FLOWER_BASIC_AUTH:?FLOWER_BASIC_AUTH (user:password) is required}"
    exec celery -A hospital flower --port="${FLOWER_PORT:-5555}" --basic-auth="$FLOWER_BASIC_AUTH" "$@"
    ;;
  dev)
    setup
    "$PYTHON" manage.py demo_admin
    "$PYTHON" manage.py load_demo
    pids=()
    cleanup() {
      trap - INT TERM EXIT
      kill "${pids[@]}" 2>/dev/null || true
      wait 2>/dev/null || true
    }
    trap cleanup INT TERM EXIT
    celery -A hospital worker --loglevel INFO --concurrency 2 --pool solo & pids+=($!)
    celery -A hospital beat --loglevel INFO --pidfile= \
      --scheduler django_celery_beat.schedulers:DatabaseScheduler & pids+=($!)
    "$PYTHON" manage.py runserver "${PORT:-127.0.0.1:8000}" & pids+=($!)
    wait -n "${pids[@]}"
    ;;
  test)
    exec "$PYTHON" -m pytest "$@"
    ;;
  *)
    exec "$command" "$@"
    ;;
esac
