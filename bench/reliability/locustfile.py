"""Patients under load: 80% browse a doctor's free slots, 15% book one, 5% cancel one of theirs.

Run by bench/reliability/run.py (headless). Environment: RELIABILITY_WORLD (the seed's JSON) and
RELIABILITY_LOG (one JSON line per request: time, name, status, duration, error, slot, patient),
which run.py reads to count errors per fault window and to check that every acknowledged booking
is in the database.
"""

import itertools
import json
import os
import random
import time
from pathlib import Path

from locust import HttpUser, between, events, task

WORLD = json.loads(Path(os.environ["RELIABILITY_WORLD"]).read_text())
ACCOUNTS = itertools.cycle(WORLD["patients"])
# Open for the whole run (line-buffered); locust ends the process, which closes it.
LOG = Path(os.environ["RELIABILITY_LOG"]).open("a", buffering=1, encoding="utf-8")  # noqa: SIM115

# Answers that are part of the API's contract under contention, not failures:
# 409 the slot was taken (or overlaps one of the patient's), 404 it was regenerated away,
# 400 it started meanwhile.
BOOKING_REFUSALS = {400, 404, 409}


@events.request.add_listener
def _record(request_type, name, response_time, response_length, response=None, context=None, exception=None, **_):
    status = response.status_code if response is not None and response.status_code else 0
    line = {
        "t": time.time() - response_time / 1000,
        "name": name,
        "status": status,
        "ms": round(response_time, 1),
        "error": type(exception).__name__ if exception else None,
        **(context or {}),
    }
    LOG.write(json.dumps(line) + "\n")


class Patient(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self):
        self.account = next(ACCOUNTS)
        self.free: list[int] = []  # slot ids seen free at the last browse
        self.mine: list[int] = []  # slots booked (201) and not cancelled
        self.token = None
        self._log_in()

    def _log_in(self):
        # A login refused while a fault lasts (429, 503, no answer) is retried, a little later.
        for _ in range(30):
            with self.client.post(
                "/api/token",
                json={"username": self.account["username"], "password": WORLD["password"]},
                name="log in",
                catch_response=True,
                context={"kind": "login", "patient": self.account["id"]},
            ) as response:
                if response.status_code == 200:
                    self.token = response.json()["token"]
                    response.success()
                    return
                response.failure(f"log in: {response.status_code}")
            time.sleep(1)

    def _headers(self):
        return {"Authorization": f"Token {self.token}"}

    @task(80)
    def browse(self):
        doctor = random.choice(WORLD["doctors"])
        with self.client.get(
            f"/api/doctor/slots/get/{doctor}",
            headers=self._headers(),
            name="browse free slots",
            catch_response=True,
            context={"kind": "browse", "patient": self.account["id"]},
        ) as response:
            if response.status_code == 200:
                slots = response.json()
                # Near-future slots are where patients collide, as they do in a clinic.
                self.free = [slot["id"] for slot in slots[:40]]
                response.success()
            else:
                response.failure(f"browse: {response.status_code}")

    @task(15)
    def book(self):
        if not self.free:
            return self.browse()
        slot = self.free.pop(random.randrange(len(self.free)))
        context = {"kind": "book", "slot": slot, "patient": self.account["id"]}
        with self.client.post(
            f"/api/doctor/appointment/{slot}",
            headers=self._headers(),
            name="book",
            catch_response=True,
            context=context,
        ) as response:
            if response.status_code == 201:
                self.mine.append(slot)
                response.success()
            elif response.status_code in BOOKING_REFUSALS:
                response.success()
            else:
                response.failure(f"book: {response.status_code}")

    @task(5)
    def cancel(self):
        if not self.mine:
            return None
        slot = self.mine.pop(random.randrange(len(self.mine)))
        with self.client.post(
            f"/api/doctor/appointment/undo/{slot}",
            headers=self._headers(),
            name="cancel",
            catch_response=True,
            context={"kind": "cancel", "slot": slot, "patient": self.account["id"]},
        ) as response:
            if response.status_code == 200:
                response.success()
            else:
                # Not cancelled (as far as we know): the slot stays the patient's.
                self.mine.append(slot)
                response.failure(f"cancel: {response.status_code}")
        return None
