"""Pytest plugin loaded before Django: production settings plus a throwaway key and plain HTTP.

Static files are collected once per run (conftest's `_collected_static`) into a directory of the
run's own, removed at exit, so that tests render pages through the production manifest storage.
Tasks the tests enqueue go to Celery's in-memory transport, in the test process.
"""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-not-a-secret")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
# Debug off, as deployed: the storage is then the manifest one (hospital.storage).
os.environ["DJANGO_DEBUG"] = "0"
_static_root = tempfile.mkdtemp(prefix="hospital-test-static-")
os.environ["DJANGO_STATIC_ROOT"] = _static_root
atexit.register(shutil.rmtree, _static_root, ignore_errors=True)

# Celery reads CELERY_BROKER_URL from the environment before its own configuration, so the
# in-memory transport is chosen here, before Django and Celery load, whatever the caller set (CI
# sets Redis). The smoke suite starts its own stack on the caller's Redis: it reads the URL here.
CALLERS_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
os.environ["CELERY_BROKER_URL"] = "memory://"
