"""The benchmark scenarios, one module each, named for what it measures.

A scenario module has NUMBER (its row in the report's tables, and what `--only` selects) and
`run(bench: bench.context.Context) -> bench.result.Outcome`. To add one: write the module, list it in
SCENARIOS below where it should run, and add its line to "How each figure is measured" in
bench/notes.md.
"""

from types import ModuleType

from bench.scenarios import (
    booking_http,
    contention,
    free_slots_http,
    generation_cold,
    generation_memory,
    generation_warm,
    horizon_moves,
    statistics_http,
)

# The order they run in. generation_memory (10,000 doctors) and statistics_http (a year of bookings)
# replace the slots the others share, so they come last.
SCENARIOS: tuple[ModuleType, ...] = (
    generation_cold,
    generation_warm,
    horizon_moves,
    free_slots_http,
    booking_http,
    contention,
    generation_memory,
    statistics_http,
)


def name(scenario: ModuleType) -> str:
    return scenario.__name__.rsplit(".", 1)[-1]


def select(only: str) -> list[ModuleType]:
    """The scenarios `--only` names (numbers or module names, comma-separated), in the order they run."""
    wanted = {part.strip() for part in only.split(",") if part.strip()}
    known = {str(scenario.NUMBER) for scenario in SCENARIOS} | {name(scenario) for scenario in SCENARIOS}
    if unknown := wanted - known:
        raise SystemExit(f"unknown scenario(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    return [scenario for scenario in SCENARIOS if {str(scenario.NUMBER), name(scenario)} & wanted]
