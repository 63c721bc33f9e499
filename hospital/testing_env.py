"""Pytest plugin loaded before Django: production settings plus a throwaway key and plain HTTP."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-not-a-secret")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
