"""docs/benchmarks.md, rendered from bench/templates/benchmarks.md with the scenarios' results."""

import datetime
import json
from dataclasses import dataclass
from typing import Any

from bench import markdown
from bench.result import BeforeAfter, Result

BEFORE_AFTER_HEADER = (
    "Measured in this run, before and after the changes described below:\n\n| | before | after |\n|---|---|---|"
)
FIGURES_HEADER = "| # | scenario | our figure | floor | ours / floor | target | result |\n|---|---|---|---|---|---|---|"


@dataclass(frozen=True)
class Run:
    """What the report says about the run itself: when, how it was started, on what, under what load."""

    started: datetime.datetime
    seconds: float
    command: str
    database: str
    reps: int
    batch_size: int
    clock: str
    load_at_start: str
    load_at_end: str
    machine: dict[str, str]


def figures_table(results: list[Result]) -> str:
    """The figures table, by scenario number (also what the run prints at the end)."""
    ordered = sorted(results, key=lambda result: result.number)
    return FIGURES_HEADER + "\n" + markdown.rows(result.cells() for result in ordered)


def before_after_table(lines: list[BeforeAfter]) -> str:
    if not lines:
        return ""
    return BEFORE_AFTER_HEADER + "\n" + markdown.rows((line.what, line.before, line.after) for line in lines)


def render(
    run: Run, results: list[Result], before_after: list[BeforeAfter], details: dict[Any, Any], notes: str
) -> str:
    """The whole of docs/benchmarks.md."""
    return markdown.render(
        "benchmarks.md",
        started=f"{run.started:%Y-%m-%d %H:%M %Z}",
        minutes=f"{run.seconds / 60:.1f}",
        command=run.command,
        database=run.database,
        **run.machine,
        batch_size=run.batch_size,
        clock=run.clock,
        load_at_start=run.load_at_start,
        load_at_end=run.load_at_end,
        figures=figures_table(results),
        reps=run.reps,
        before_after=before_after_table(before_after),
        notes=notes,
        details=json.dumps(details, indent=1, default=str),
    )
