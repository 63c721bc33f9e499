"""2. Generation, warm: the same sweep again with the same clock, nothing to insert, delete or flag."""

from bench.context import Context
from bench.result import Outcome, Result

NUMBER = 2


def run(bench: Context) -> Outcome:
    print("2. generation, warm: the same again, nothing to change", flush=True)
    bench.ensure_slots()
    runs = [bench.generate(bench.now) for _ in range(bench.args.reps)]
    best = min(runs, key=lambda run: run["seconds"])
    unchanged = all(run["created"] == run["deleted"] == 0 for run in runs)
    result = Result(
        number=NUMBER,
        scenario="generation, warm (nothing to change)",
        figure=f"{best['seconds']:.3f} s",
        target="<= 1 s",
        passed=best["seconds"] <= 1 and unchanged,
    )
    return Outcome([result], {"runs": runs})
