# One image for web, worker, beat and flower; scripts/entrypoint.sh picks the role.
#   docker build .                 -> the production image (runtime dependencies only)
#   docker build --target test .   -> the same plus the test tools (compose's `test` service)
FROM python:3.11-slim-bookworm AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOSPITAL_VAR_DIR=/app/var \
    DJANGO_STATIC_ROOT=/app/staticfiles

WORKDIR /app

COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# Static files are collected and hashed once, at build time (settings load without a secret).
# Never run as root; the app may write only to var/ and staticfiles/.
RUN useradd --create-home --uid 10001 hospital \
    && mkdir -p /app/var /app/staticfiles \
    && scripts/entrypoint.sh collectstatic \
    && chown -R hospital:hospital /app/var /app/staticfiles

EXPOSE 8000 5555
ENTRYPOINT ["scripts/entrypoint.sh"]
CMD ["web"]

# `docker compose run --rm test`: the suite on the production image plus the test tools.
FROM base AS test
COPY requirements-dev.txt ./
RUN pip install -r requirements-dev.txt
USER hospital
CMD ["test"]

# The default target, last: what compose's web, worker, beat and flower run.
FROM base AS production
USER hospital
