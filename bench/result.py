"""What a scenario gives back: the rows of the figures table, its raw data, before-and-after lines."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Result:
    """One row of the figures table: our figure, PostgreSQL's floor, their ratio and the target it meets or not."""

    number: int
    scenario: str
    figure: str
    target: str
    passed: bool
    floor: str = "-"
    ratio: str = "-"

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "**miss**"

    def cells(self) -> list[object]:
        return [self.number, self.scenario, self.figure, self.floor, self.ratio, self.target, self.verdict]


@dataclass(frozen=True)
class BeforeAfter:
    """A figure measured in the run both the old way and the new way (e.g. a statement that was replaced)."""

    what: str
    before: str
    after: str


@dataclass
class Outcome:
    """One scenario's run: its rows (one or more), its raw data for the report, its before-and-after lines."""

    results: list[Result]
    details: dict[str, Any]
    before_after: list[BeforeAfter] = field(default_factory=list)
