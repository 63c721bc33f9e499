"""README's walk-through, run verbatim against a fresh `make run`, so that README cannot drift.

The fenced shell block under "Walk-through with curl" is extracted from README.md and run by bash
against `scripts/entrypoint.sh dev` (what `make run` runs: debug on, SQLite and Celery's filesystem
transport under a fresh var/ directory, demo data loaded, runserver, worker and beat). The only
inputs from outside the block are the two it reads from the environment itself: `API` (this run's
port) and `HOSPITAL_VAR_DIR` (this run's var/).
"""

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
README = ROOT / "README.md"

pytestmark = pytest.mark.skipif(not shutil.which("curl"), reason="needs curl")


def walk_through() -> str:
    text = README.read_text()
    section = text[text.index("### Walk-through with curl") :]
    match = re.search(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    assert match, "README has no shell block under the walk-through heading"
    return match.group(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    """`make run` on a fresh var/ directory: the demo administrator, the demo data, the worker."""
    var = tmp_path_factory.mktemp("var")
    port = free_port()
    env = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "HOME": os.environ.get("HOME", str(var)),
        "LANG": "C.UTF-8",
        "PYTHON": sys.executable,
        "DJANGO_DEBUG": "1",  # as the Makefile's `run` sets it
        "HOSPITAL_VAR_DIR": str(var),
        "PORT": f"127.0.0.1:{port}",
    }
    log = var / "make-run.log"
    process = subprocess.Popen(
        [str(ROOT / "scripts" / "entrypoint.sh"), "dev"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, log.read_text()
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(f"{api}/schema/", timeout=5).status_code == 200:
                    break
            assert time.monotonic() < deadline, f"make run never answered:\n{log.read_text()}"
            time.sleep(1)
        yield {"API": api, "HOSPITAL_VAR_DIR": str(var), "env": env, "log": log}
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def test_the_walk_through_block_is_there():
    block = walk_through()
    assert "POST $API/doctor/appointment/$SLOT" in block
    assert "<" not in block, "the block must run as is: no placeholders"


def test_readme_walk_through_runs_verbatim_against_make_run(make_run):
    env = {**make_run["env"], "API": make_run["API"], "HOSPITAL_VAR_DIR": make_run["HOSPITAL_VAR_DIR"]}
    result = subprocess.run(
        [shutil.which("bash"), "-euo", "pipefail", "-c", walk_through()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    lines = result.stdout.strip().splitlines()
    statuses = [line.rsplit(" -> HTTP ", 1)[1] for line in lines]
    # search, update, block, unblock, re-password, schedule, book, book again, cancel, statistics
    assert statuses == ["200", "200", "200", "200", "200", "200", "201", "409", "200", "200"], result.stdout
    found, block, unblock = lines[0], lines[2], lines[3]
    assert '"username":"m.kuznetsova"' in found and '"count":1' in found
    assert '"is_active":false' in block and '"is_active":true' in unblock
    assert '"code":"slot_taken"' in lines[7]
    assert '"client":null' in lines[8]
    assert '"count":' in lines[9]
