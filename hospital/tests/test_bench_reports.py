"""The benchmark and reliability reports render from their templates, and the scenario registry holds together."""

import datetime
from types import SimpleNamespace

import pytest

from bench import report, scenarios
from bench.reliability import report as reliability_report
from bench.result import BeforeAfter, Result

MACHINE = {
    "cpu": "Test CPU",
    "cores": "2",
    "memory": "1.0 GiB",
    "os": "Linux",
    "python": "3.11.7",
    "django": "5.2",
    "drf": "3.16",
    "psycopg2": "2.9",
    "gunicorn": "23.0",
    "postgresql": "15.20",
    "pg_settings": "autovacuum=off",
    "wrk": "wrk 4.1.0",
    "pgbench": "pgbench (PostgreSQL) 15.20",
    "gunicorn_command": "gunicorn hospital.wsgi:application",
}
RUN = report.Run(
    started=datetime.datetime(2026, 11, 27, 0, 15, tzinfo=datetime.UTC),
    seconds=312.0,
    command="make bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres",
    database="hospital_bench",
    reps=3,
    batch_size=100,
    clock="2026-11-30T00:00:00+03:00",
    load_at_start="1.00 2.00 3.00",
    load_at_end="4.00 5.00 6.00",
    machine=MACHINE,
)
RESULTS = [
    Result(number=2, scenario="generation, warm (nothing to change)", figure="0.411 s", target="<= 1 s", passed=True),
    Result(
        number=1,
        scenario="generation, cold (1,000 doctors, 14 days)",
        figure="3.89 s",
        floor="2.56 s",
        ratio="1.52x",
        target="<= 3x floor",
        passed=True,
    ),
    Result(number=3, scenario="generation, horizon +1 day", figure="0.735 s", target="<= 1.5x", passed=False),
]


def render_benchmarks(before_after: list[BeforeAfter]) -> str:
    return report.render(RUN, RESULTS, before_after, details={1: {"runs": [1.5]}}, notes="## How each figure\n")


def test_benchmarks_report_has_its_sections_in_order():
    text = render_benchmarks([])

    headings = [line for line in text.splitlines() if line.startswith("## ") or line.startswith("# ")]
    assert headings == ["# Benchmarks", "## Machine and versions", "## Figures", "## How each figure", "## Raw data"]
    assert text.startswith("# Benchmarks\n\nWritten by `bench/run.py` on 2026-11-27 00:15 UTC in 5.2 minutes;")
    assert text.endswith("```\n\n</details>\n")


def test_benchmarks_report_lists_results_by_number_with_their_verdicts():
    lines = render_benchmarks([]).splitlines()

    start = lines.index("| # | scenario | our figure | floor | ours / floor | target | result |")
    assert lines[start + 1 : start + 5] == [
        "|---|---|---|---|---|---|---|",
        "| 1 | generation, cold (1,000 doctors, 14 days) | 3.89 s | 2.56 s | 1.52x | <= 3x floor | pass |",
        "| 2 | generation, warm (nothing to change) | 0.411 s | - | - | <= 1 s | pass |",
        "| 3 | generation, horizon +1 day | 0.735 s | - | - | <= 1.5x | **miss** |",
    ]


def test_benchmarks_report_fills_machine_run_and_raw_data():
    text = render_benchmarks([])

    assert "| CPU | Test CPU, 2 cores |" in text
    assert "| PostgreSQL | 15.20 (autovacuum=off) |" in text
    assert "| load | wrk 4.1.0 (`bench/requests.lua`), pgbench (PostgreSQL) 15.20, psql `\\timing` |" in text
    assert "| generation | SLOT_GENERATION_BATCH_SIZE=100, clock fixed at 2026-11-30T00:00:00+03:00 |" in text
    assert "at the start: 1.00 2.00 3.00; at the end: 4.00 5.00 6.00" in text
    assert "Generation figures are the best of 3 runs" in text
    assert '"1": {\n  "runs": [\n   1.5\n  ]\n }' in text


def test_benchmarks_report_shows_before_and_after_only_when_measured():
    without = render_benchmarks([])
    with_lines = render_benchmarks([BeforeAfter("8, 31 days", "151 ms", "33 ms")])

    assert "| | before | after |" not in without
    assert "| | before | after |\n|---|---|---|\n| 8, 31 days | 151 ms | 33 ms |" in with_lines


def test_reliability_report_renders_its_tables():
    run = SimpleNamespace(
        args=SimpleNamespace(
            workers=3, database="hospital_reliability", interval=10, doctors=20, users=50, spawn_rate=10, seconds=180
        ),
        pg_version="15",
        timeline=[
            {"at": 0.0, "event": "load starts", "detail": "50 users"},
            {"at": 35.0, "event": "worker restarted", "detail": ""},
        ],
        edits=[{"status": 200, "seconds": 0.07}],
        probes=[{"what": "logins while Redis is down", "results": [(200, 0.23)]}],
    )
    figures = {
        "requests": 100,
        "rate": 5.0,
        "5xx": 1,
        "5xx outside the PostgreSQL restart": 0,
        "windows": [
            {"window": "Redis down", "seconds": 30.0, "requests": 90, "5xx": 0, "no answer": 0, "other failures": 0}
        ],
        "failures": {},
        "statuses": {"book": {201: 9, 409: 1}},
        "durations": {"book": {"count": 10, "median": 11, "p95": 22, "p99": 34, "max": 40}},
    }
    bookings = {"acknowledged": 9, "expected_held": 9, "found": 9, "missing_count": 0, "uncertain": 0, "held_at_end": 9}
    schedules = {"doctors": 20, "mismatched": [], "not_regenerated_since_last_edit": [], "booked_outside_plan": 0}
    checks = {
        "slots": 4813,
        "bookings": bookings,
        "schedules": schedules,
        "invariants": [{"name": "one row per doctor and start", "meaning": "the constraint held", "violations": 0}],
    }

    text = reliability_report.render(run, figures, checks, fuzz=None, audit=None)

    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == [
        "# Reliability: load with faults, fuzzing, dependency audit",
        "## Set-up",
        "## Fault timeline",
        "## Requests",
        "## Checks after the load",
        "## Fuzzing",
        "## Dependency audit",
    ]
    assert "|---:|---|---|\n| 0.0 | load starts | 50 users |\n| 35.0 | worker restarted |  |\n" in text
    assert "| Redis down | 30.0 | 90 | 0 | 0 | 0 |" in text
    assert "Failures by kind (anything but the expected answers above):\n\n- none\n" in text
    assert "- book: 201 x9, 409 x1" in text
    assert "| book | 10 | 11 | 22 | 34 | 40 |" in text
    assert (
        "| one row per doctor and start: the constraint held | 0 |\n\nlogins while Redis is down: 200 in 0.23 s."
        in text
    )
    assert "(The fuzz pass was skipped in this run: `--no-fuzz`.)" in text
    assert text.endswith("(Skipped: `--no-audit`.)\n")


def test_each_scenario_has_its_own_number_and_a_run():
    numbers = [scenario.NUMBER for scenario in scenarios.SCENARIOS]

    assert sorted(numbers) == list(range(1, len(numbers) + 1))
    assert all(callable(scenario.run) for scenario in scenarios.SCENARIOS)


def test_only_selects_scenarios_by_number_or_name_in_run_order():
    chosen = scenarios.select("8,generation_warm, 1")

    assert [scenario.NUMBER for scenario in chosen] == [1, 2, 8]


def test_only_refuses_an_unknown_scenario():
    with pytest.raises(SystemExit, match="unknown scenario"):
        scenarios.select("1,99")
