"""4. Generation memory: one sweep over 10,000 doctors x 14 days (2.4 million slots) in one process; ru_maxrss."""

from bench.context import Context
from bench.result import Outcome, Result

NUMBER = 4


def run(bench: Context) -> Outcome:
    total = bench.args.memory_doctors
    print(f"4. generation memory: {total:,} doctors x 14 days", flush=True)
    bench.seed_doctors(total, schedules=True)
    bench.reset_timetable()
    run = bench.generate(bench.now)
    result = Result(
        number=NUMBER,
        scenario=f"generation memory ({run['doctors']:,} doctors, 14 days)",
        figure=f"peak RSS {run['peak_rss_mb']:.0f} MB ({run['rss_before_mb']:.0f} MB after start-up); "
        f"{run['created']:,} slots in {run['seconds']:.1f} s",
        target="<= 300 MB",
        passed=run["peak_rss_mb"] <= 300 and run["doctors"] == total,
    )
    return Outcome([result], {"runs": [run]})
