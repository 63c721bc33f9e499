"""7. Contention: 64 patients each POST the same 200 slots in the same order; exactly one winner per slot."""

from bench.context import Context
from bench.result import Outcome, Result

NUMBER = 7
RACERS, RACED_SLOTS = 64, 200


def run(bench: Context) -> Outcome:
    print(f"7. contention: {RACERS} clients racing for each of {RACED_SLOTS} slots", flush=True)
    bench.ensure_slots()
    racers = bench.patient_ids[128 : 128 + RACERS]
    raced = bench.slot_ids_by_doctor()[bench.doctor_ids[-1]][:RACED_SLOTS]
    lines = [[f"POST /api/doctor/appointment/{slot} {bench.tokens[patient]}" for slot in raced] for patient in racers]
    bench.gunicorn()
    result = bench.load(lines, seconds=300, once=True)
    holders, events = holders_and_events(bench, raced)
    statuses = result["statuses"]
    winners = statuses.get("201", 0)
    others = sum(count for status, count in statuses.items() if status not in {"201", "409"})
    one_each = holders == RACED_SLOTS and events == [str(RACED_SLOTS), "1"]
    row = Result(
        number=NUMBER,
        scenario=f"contention ({RACERS} clients x {RACED_SLOTS} slots)",
        figure=f"{winners} successes, {statuses.get('409', 0):,} x 409, {others} other; {result['elapsed']:.1f} s",
        target=f"exactly {RACED_SLOTS}, one winner per slot",
        passed=winners == RACED_SLOTS and one_each and others == 0 and sum(result["errors"].values()) == 0,
    )
    return Outcome([row], {"wrk": result, "holders": holders, "events": events})


def holders_and_events(bench: Context, raced: list[int]) -> tuple[int, list[str]]:
    """How many raced slots have a holder; how many have a 'booked' event and the most events any one has."""
    listed = ",".join(map(str, raced))
    holders = int(
        bench.sql(f"SELECT count(*) FROM appointments_timetable WHERE id IN ({listed}) AND client_id IS NOT NULL")
    )
    events = bench.sql(
        "SELECT count(*) || ' ' || coalesce(max(n), 0) FROM (SELECT slot_id, count(*) AS n "
        "FROM appointments_appointmentevent "
        f"WHERE action = 'booked' AND slot_id IN ({listed}) GROUP BY slot_id) AS e"
    ).split()
    return holders, events
