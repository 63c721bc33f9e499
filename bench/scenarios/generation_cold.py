"""1. Generation, cold: 1,000 doctors x 14 days on an empty timetable, against one INSERT of the same rows."""

from bench.context import LOGS, Context
from bench.result import Outcome, Result

NUMBER = 1


def run(bench: Context) -> Outcome:
    print("1. generation, cold: 1,000 doctors x 14 days", flush=True)
    floors, runs, same = [], [], True
    for _ in range(bench.args.reps):
        bench.reset_timetable()
        floors.append(bench.server.timed([bench.generation_floor_sql(0, 13)], bench.database)[0] / 1000)
        floor_print = bench.fingerprint()
        bench.reset_timetable()
        profile = str(LOGS / "generation-cold.txt") if bench.args.profile else None
        runs.append(bench.generate(bench.now, profile=profile))
        same = same and bench.fingerprint() == floor_print
    best = min(runs, key=lambda run: run["seconds"])
    floor = min(floors)
    ratio = best["seconds"] / floor
    result = Result(
        number=NUMBER,
        scenario="generation, cold (1,000 doctors, 14 days)",
        figure=f"{best['seconds']:.2f} s, {best['created']:,} slots, {best['created'] / best['seconds']:,.0f} slots/s",
        floor=f"{floor:.2f} s ({best['created'] / floor:,.0f} slots/s)",
        ratio=f"{ratio:.2f}x",
        target="<= 3x floor",
        passed=ratio <= 3 and same and best["created"] == 240 * len(bench.doctor_ids),
    )
    return Outcome([result], {"runs": runs, "floors": floors, "same_rows": same})
