"""docs/reliability.md, rendered from bench/templates/reliability.md with the run's figures and checks."""

import datetime
import os
import platform
from pathlib import Path
from typing import Any

from bench import markdown

COMMAND = "make reliability  # = .venv/bin/python -m bench.reliability.run"


def render(run: Any, figures: dict, checks: dict, fuzz: dict | None, audit: dict | None) -> str:
    """The whole of docs/reliability.md; `run` is bench.reliability.run.Run (args, timeline, edits, probes)."""
    args = run.args
    return markdown.render(
        "reliability.md",
        command=COMMAND,
        finished=f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M}",
        node=platform.node() or "this machine",
        cores=os.cpu_count(),
        python=platform.python_version(),
        postgresql=run.pg_version,
        load_average=" ".join(Path("/proc/loadavg").read_text().split()[:3]),
        workers=args.workers,
        database=args.database,
        interval=args.interval,
        doctors=args.doctors,
        slots=checks["slots"],
        users=args.users,
        spawn_rate=args.spawn_rate,
        seconds=args.seconds,
        timeline=markdown.rows((entry["at"], entry["event"], entry["detail"]) for entry in run.timeline),
        **requests(figures),
        **bookings(checks["bookings"]),
        **edits(run.edits),
        **schedules(checks["schedules"]),
        invariants=markdown.rows(
            (f"{item['name']}: {item['meaning']}", item["violations"]) for item in checks["invariants"]
        ),
        probes=probes(run.probes),
        fuzz_result=fuzz_result(fuzz),
        audit_result=audit_result(audit),
    )


def requests(figures: dict) -> dict[str, object]:
    """The "Requests" section: totals, the windows around the faults, failures, answers, durations."""
    window_cells = ("window", "seconds", "requests", "5xx", "no answer", "other failures")
    duration_cells = ("count", "median", "p95", "p99", "max")
    return {
        "requests": figures["requests"],
        "rate": figures["rate"],
        "answered_5xx": figures["5xx"],
        "outside_restart": figures["5xx outside the PostgreSQL restart"],
        "windows": markdown.rows([window[cell] for cell in window_cells] for window in figures["windows"]),
        "failures": markdown.bullets(f"{kind}: {count}" for kind, count in figures["failures"].items()) or "- none",
        "answers": markdown.bullets(
            f"{name}: " + ", ".join(f"{status or 'no answer'} x{count}" for status, count in codes.items())
            for name, codes in figures["statuses"].items()
        ),
        "durations": markdown.rows(
            [name, *(duration[cell] for cell in duration_cells)] for name, duration in figures["durations"].items()
        ),
    }


def bookings(found: dict) -> dict[str, object]:
    return {
        "acknowledged": found["acknowledged"],
        "expected_held": found["expected_held"],
        "found": found["found"],
        "missing": found["missing_count"],
        "uncertain": found["uncertain"],
        "held_at_end": found["held_at_end"],
    }


def edits(made: list[dict]) -> dict[str, object]:
    return {"edit_statuses": [edit["status"] for edit in made], "edit_seconds": [edit["seconds"] for edit in made]}


def schedules(found: dict) -> dict[str, object]:
    return {
        "schedule_doctors": found["doctors"],
        "mismatched_count": len(found["mismatched"]),
        "mismatched": found["mismatched"] or "",
        "not_regenerated": len(found["not_regenerated_since_last_edit"]),
        "booked_outside_plan": found["booked_outside_plan"],
    }


def fuzz_result(fuzz: dict | None) -> str:
    if not fuzz:
        return "(The fuzz pass was skipped in this run: `--no-fuzz`.)"
    return f"Last CI-sized pass (in this run): {fuzz['cases']}; {fuzz['outcome']}; {fuzz['seconds']} s in all."


def audit_result(audit: dict | None) -> str:
    if not audit:
        return "(Skipped: `--no-audit`.)"
    return f"Result in this run: `{audit['result']}` (exit {audit['exit']})."


def probes(made: list[dict]) -> str:
    """A paragraph per probe (e.g. logins while Redis is down), each after a blank line."""
    return "".join(
        f"\n\n{probe['what']}: " + ", ".join(f"{status} in {seconds} s" for status, seconds in probe["results"]) + "."
        for probe in made
    )
