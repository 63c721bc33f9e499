"""The machine a run measured on: CPU, memory, versions, PostgreSQL's settings, the load on it."""

import os
import platform
import re
import subprocess
from pathlib import Path

# The PostgreSQL settings that move the figures, as the report lists them.
PG_SETTINGS_SQL = (
    "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings "
    "WHERE name IN ('shared_buffers', 'work_mem', 'synchronous_commit', 'autovacuum', 'max_connections', "
    "'jit', 'max_parallel_workers_per_gather', 'max_wal_size')"
)


def load_average() -> str:
    """The machine's 1-, 5- and 15-minute load averages: other work on it shows in every figure."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def memory() -> str:
    found = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
    assert found, "no MemTotal in /proc/meminfo"
    memory_kb = int(found.group(1))
    return f"{memory_kb / 1024 / 1024:.1f} GiB"


def tool_version(*command: str) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    return result.stdout + result.stderr


def describe(*, sql, gunicorn_command: str) -> dict[str, str]:
    """Every line of the report's "Machine and versions" table; `sql` runs a statement on the bench database."""
    import django
    import gunicorn
    import psycopg2
    import rest_framework

    return {
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": memory(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "drf": rest_framework.VERSION,
        "psycopg2": psycopg2.__version__.split()[0],
        "gunicorn": gunicorn.__version__,
        "postgresql": sql("SHOW server_version").strip(),
        "pg_settings": sql(PG_SETTINGS_SQL).strip(),
        "wrk": tool_version("wrk", "-v").splitlines()[0].split(" Copyright")[0],
        "pgbench": tool_version("pgbench", "--version").strip(),
        "gunicorn_command": gunicorn_command,
    }
