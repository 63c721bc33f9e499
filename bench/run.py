"""Benchmarks against PostgreSQL's own floor; prints a table and rewrites docs/benchmarks.md.

DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.run [--only 1,2,5] [--seconds 30]

Everything runs on a database of its own (hospital_bench, dropped and created again), seeded with
plain SQL where a scenario is not itself about seeding. Each scenario (bench/scenarios/, one module
each) also measures the floor, PostgreSQL doing exactly the statements the path needs (psql or
pgbench), and reports our figure as a ratio to it. HTTP load comes from wrk (bench/requests.lua)
against gunicorn with the production settings. `make bench` is the way in: it installs
bench/requirements.txt and passes ARGS here.
"""

import argparse
import datetime
import os
import time
from pathlib import Path
from types import ModuleType

from bench import machine, pg, report
from bench.context import LOGS, ROOT, Context
from bench.result import Outcome
from bench.scenarios import SCENARIOS, select

DOCS = ROOT / "docs" / "benchmarks.md"
NOTES = Path(__file__).resolve().parent / "notes.md"
ALL = ",".join(str(scenario.NUMBER) for scenario in sorted(SCENARIOS, key=lambda scenario: scenario.NUMBER))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=ALL, help="scenarios to run, by number or module name, e.g. 1,2,3 (all)")
    parser.add_argument("--seconds", type=int, default=30, help="duration of each HTTP load and its floor")
    parser.add_argument("--reps", type=int, default=3, help="runs of each generation scenario and its floor")
    parser.add_argument("--database", default="hospital_bench", help="the benchmark's own database")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (gthread)")
    parser.add_argument("--memory-doctors", type=int, default=10_000, help="doctors in scenario 4")
    parser.add_argument("--profile", action="store_true", help="also save pyinstrument / py-spy profiles to var/bench")
    parser.add_argument("--keep-database", action="store_true", help="leave the database for inspection")
    parser.add_argument("--no-docs", action="store_true", help="print the table, leave docs/benchmarks.md alone")
    return parser.parse_args()


def run_scenario(bench: Context, scenario: ModuleType) -> Outcome:
    """One scenario, with the machine's load average before and after it in its raw data."""
    before = machine.load_average()
    outcome = scenario.run(bench)
    outcome.details["load average before, after"] = [before, machine.load_average()]
    for result in outcome.results:
        print(
            f"  #{result.number} {result.scenario}: {result.figure} | floor {result.floor} | {result.ratio} "
            f"| {result.target} | {result.verdict}",
            flush=True,
        )
    return outcome


def write_docs(bench: Context, outcomes: dict[int, Outcome], started: datetime.datetime, seconds: float) -> None:
    command = "make bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres"
    if set(outcomes) != {scenario.NUMBER for scenario in SCENARIOS}:
        command += f' ARGS="--only {bench.args.only}"'
    run = report.Run(
        started=started,
        seconds=seconds,
        command=command,
        database=bench.database,
        reps=bench.args.reps,
        batch_size=bench.batch_size,
        clock=bench.now.isoformat(),
        load_at_start=bench.load_at_start,
        load_at_end=machine.load_average(),
        machine=machine.describe(sql=bench.sql, gunicorn_command=bench.gunicorn_command()),
    )
    text = report.render(
        run,
        results=[result for outcome in outcomes.values() for result in outcome.results],
        before_after=[line for outcome in outcomes.values() for line in outcome.before_after],
        details={number: outcome.details for number, outcome in outcomes.items()},
        notes=NOTES.read_text() if NOTES.exists() else "",
    )
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(text)
    print(f"Wrote {DOCS.relative_to(ROOT)}")


def main() -> None:
    args = parse_args()
    chosen = select(args.only)
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        raise SystemExit("DATABASE_URL must point at PostgreSQL, e.g. postgres://postgres@127.0.0.1:5432/postgres")
    bench = Context(args, pg.Server.from_url(url))
    started = datetime.datetime.now().astimezone()
    clock = time.perf_counter()
    LOGS.mkdir(parents=True, exist_ok=True)
    try:
        bench.setup()
        outcomes = {scenario.NUMBER: run_scenario(bench, scenario) for scenario in chosen}
        print()
        print(report.figures_table([result for outcome in outcomes.values() for result in outcome.results]))
        if not args.no_docs:
            write_docs(bench, outcomes, started, time.perf_counter() - clock)
    finally:
        bench.close()


if __name__ == "__main__":
    main()
