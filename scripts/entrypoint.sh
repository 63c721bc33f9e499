#!/usr/bin/env bash
# One entry point for Docker, the Makefile and CI: `entrypoint.sh <command> [args]`.
#   setup   migrate, create the role groups, the superuser from DJANGO_SUPERUSER_* (if set)
#   web     setup, collect static files, serve with gunicorn on :8000
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
  web)
    setup
    "$PYTHON" manage.py collectstatic --noinput --verbosity 0
    exec gunicorn hospital.wsgi:application \
      --bind "0.0.0.0:${PORT:-8000}" \
      --workers "${GUNICORN_WORKERS:-3}" \
      --threads "${GUNICORN_THREADS:-1}" \
      --timeout 30 --keep-alive 5 --access-logfile - "$@"
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
