# One image for web, worker, beat and flower; scripts/entrypoint.sh picks the role.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOSPITAL_VAR_DIR=/app/var \
    DJANGO_STATIC_ROOT=/app/staticfiles

WORKDIR /app

# Test tools are included so that `docker compose run --rm web pytest` works on the same image.
COPY requirements.txt requirements-dev.txt ./
RUN pip install -r requirements-dev.txt

COPY . .

# Never run as root; the app may write only to var/ and staticfiles/.
RUN useradd --create-home --uid 10001 hospital \
    && mkdir -p /app/var /app/staticfiles \
    && chown -R hospital:hospital /app/var /app/staticfiles
USER hospital

EXPOSE 8000 5555
ENTRYPOINT ["scripts/entrypoint.sh"]
CMD ["web"]
