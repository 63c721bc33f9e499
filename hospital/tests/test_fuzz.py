"""Schemathesis against the OpenAPI schema on a live server over PostgreSQL, as each role and anonymously.

Every operation of /api/schema/ is fuzzed with Schemathesis's default checks (server errors, status
codes, content types, response schemas, negative data rejection, positive data acceptance, ignored
auth, ...) as anonymous, patient, doctor and administrator; a stateful run chains the operations
(create a user, then read, change, block it; add an absence, then delete it) so that the checks
that follow resources (use after free, resource availability) see real sequences.

Bounded for CI by a fixed seed and number of examples; `make fuzz` runs a longer pass. Environment:
FUZZ_SEED, FUZZ_MAX_EXAMPLES (per operation and phase) and FUZZ_STATEFUL_EXAMPLES.
"""

import datetime
import json
import os

import hypothesis
import pytest
import requests
import schemathesis
from django.contrib.auth.models import Group
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from hypothesis import strategies as st
from knox.models import AuthToken
from rest_framework.fields import DateTimeField
from schemathesis.core.failures import FailureGroup
from schemathesis.engine.errors import is_inconsistent_replay
from schemathesis.generation.meta import TestPhase
from schemathesis.openapi.checks import RejectedPositiveData

from appointments.filters import DATE_RANGE_REVERSED
from appointments.generation import slots_generate_for_doctor
from appointments.models import Absence, AbsenceKind, Closure, DateOverride, Timetable
from appointments.services import (
    ABSENCE_END_NOT_AFTER_START,
    CLOSURE_DATES_REVERSED,
    HOURS_END_NOT_AFTER_START,
    schedule_update,
    slot_book,
)
from staff.models import BIRTH_DATE_IN_FUTURE
from staff.roles import Role
from staff.serializers import USERNAME_TAKEN, WRONG_CREDENTIALS
from staff.tests.factories import UserFactory

# serialized_rollback: the flush after each test would otherwise drop the role groups the
# migrations created, which later tests in the same run rely on.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CI_SEED = 20250601
FUZZ_SEED = int(os.environ.get("FUZZ_SEED", CI_SEED))
FUZZ_MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "15"))
FUZZ_STATEFUL_EXAMPLES = int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", "15"))
ROLES = ["anonymous", "patient", "doctor", "administrator"]
HOURS = [(weekday, datetime.time(9), datetime.time(18)) for weekday in range(7)]

# Business rules that JSON Schema cannot state: one field against another (end after start,
# date_from not after date_to), against the database (a username taken, a slot that started) or
# against the caller (an administrator cannot block themselves; a password like the username). A
# schema-valid request that breaks one is rightly refused with a 400, so `positive_data_acceptance`
# is told so for exactly these answers: every message in the body is one of these rules.
BUSINESS_RULE_CODES = frozenset(
    {
        "date_range",
        "end_not_after_start",
        "overlapping_hours",
        "invalid_schedule",
        "cannot_block_self",
        "invalid_credentials",
        "slot_in_past",
        "appointment_started",
        # /api/slots/next needs `specialty` or `doctor`: "at least one of two query parameters"
        # is not something OpenAPI can state.
        "specialty_or_doctor_required",
        # The clinic's rules: the slot's time against the doctor's notice and cutoff, an outcome
        # step against the appointment's start.
        "too_late_to_book",
        "too_late_to_cancel",
        "not_started",
    }
)
BUSINESS_RULE_MESSAGES = frozenset(
    str(message)
    for message in (
        USERNAME_TAKEN,
        WRONG_CREDENTIALS,
        BIRTH_DATE_IN_FUTURE,
        DATE_RANGE_REVERSED,
        HOURS_END_NOT_AFTER_START,
        ABSENCE_END_NOT_AFTER_START,
        CLOSURE_DATES_REVERSED,
        # Not a rule but the calendar's edge: an instant near year 1 or 9999 whose UTC or local
        # time falls outside what Python's datetime holds (a valid RFC 3339 string nonetheless).
        DateTimeField.default_error_messages["overflow"],
    )
)
# Fields whose every message is a rule: the password's come from AUTH_PASSWORD_VALIDATORS (too
# common, all digits, too like the username), its length being in the schema.
BUSINESS_RULE_FIELDS = frozenset({"password"})


def _messages(errors):
    """Every message in a (possibly nested) `fields` value."""
    if isinstance(errors, str):
        yield errors
    elif isinstance(errors, dict):
        for value in errors.values():
            yield from _messages(value)
    elif isinstance(errors, list):
        for value in errors:
            yield from _messages(value)


def _only_business_rules(body: dict) -> bool:
    fields = body.get("fields")
    if not fields:
        return body.get("code") in BUSINESS_RULE_CODES
    return all(
        name in BUSINESS_RULE_FIELDS or all(message in BUSINESS_RULE_MESSAGES for message in _messages(errors))
        for name, errors in fields.items()
    )


def _generated_schema() -> dict:
    """The schema /api/schema/ serves, generated in process (collection needs it before any server runs)."""
    from drf_spectacular.generators import SchemaGenerator

    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(json.dumps(raw, cls=DjangoJSONEncoder))


def _load_schema():
    config = schemathesis.Config.from_dict(
        {
            "seed": FUZZ_SEED,
            "generation": {"max-examples": FUZZ_MAX_EXAMPLES, "database": "none"},
        }
    )
    return schemathesis.openapi.from_dict(_generated_schema(), config=config)


schema = _load_schema()


class World:
    """The seeded people and objects, and a fresh token per request for the role under test."""

    def __init__(self):
        self.patient = UserFactory(username="alice", last_name="Ivanova", roles=[Role.PATIENT])
        self.other_patient = UserFactory(username="bob", last_name="Petrov", roles=[Role.PATIENT])
        self.doctor = UserFactory(username="dr_carol", last_name="Smirnova", roles=[Role.DOCTOR])
        self.other_doctor = UserFactory(username="dr_dave", last_name="Sokolov", roles=[Role.DOCTOR])
        self.administrator = UserFactory(username="admin", last_name="Admin", roles=[Role.ADMINISTRATOR])
        self.blocked = UserFactory(username="blocked", roles=[Role.PATIENT], is_active=False)
        for doctor in (self.doctor, self.other_doctor):
            schedule_update(doctor=doctor, slot_minutes=30, horizon_days=7, working_hours=HOURS)
            slots_generate_for_doctor(doctor_id=doctor.pk)
        slots = list(Timetable.objects.filter(doctor=self.doctor).order_by("start_time"))
        # A few appointments of alice's and one of bob's, so that cancel and the lists find real rows.
        for slot in slots[5:8]:
            slot_book(slot_id=slot.pk, patient=self.patient)
        slot_book(slot_id=slots[10].pk, patient=self.other_patient)
        start = timezone.now().replace(microsecond=0) + datetime.timedelta(days=10)
        self.absence = Absence.objects.create(
            doctor=self.doctor, kind=AbsenceKind.VACATION, start=start, end=start + datetime.timedelta(days=2)
        )
        day = timezone.localdate() + datetime.timedelta(days=3)
        self.closure = Closure.objects.create(date_from=day, date_to=day, reason="Holiday")
        DateOverride.objects.create(doctor=self.doctor, date=day, intervals=[{"start": "10:00", "end": "12:00"}])
        users = [self.patient, self.other_patient, self.doctor, self.other_doctor, self.administrator, self.blocked]
        # Real ids for each path parameter, so that generated requests also reach real objects.
        self.ids = {
            "id": [user.pk for user in users],
            "doctor_pk": [self.doctor.pk, self.other_doctor.pk],
            "slot_pk": [slot.pk for slot in slots[:12]],
            "absence_pk": [self.absence.pk],
            "closure_pk": [self.closure.pk],
        }

    def headers(self, role: str) -> dict:
        """Authorization for one request, undoing what earlier requests did to the caller.

        A fuzzed request may log the caller out, change their password (which revokes their
        tokens), block them or change their roles: each request gets the caller back as seeded,
        with a new token.
        """
        user = {"patient": self.patient, "doctor": self.doctor, "administrator": self.administrator}.get(role)
        if user is None:
            return {}
        user.refresh_from_db()
        if not user.is_active:
            user.is_active = True
            user.save(update_fields=["is_active"])
        user.groups.set([Group.objects.get_or_create(name=role)[0]])
        _, token = AuthToken.objects.create(user)
        return {"Authorization": f"Token {token}"}


class Run:
    """State shared by the hooks and the tests of this module."""

    world: World | None = None
    cases = 0
    rotation = 0


@pytest.fixture
def world(transactional_db):
    Run.world = World()
    yield Run.world
    Run.world = None


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Offer the seeded world's ids next to the generated ones, so that requests also reach real objects."""
    if not path_parameters or Run.world is None:
        return st.just(path_parameters)
    choices = {}
    for name, value in path_parameters.items():
        known = Run.world.ids.get(name)
        # Only a valid integer is swapped: a deliberately invalid (negative) value stays invalid.
        if known and isinstance(value, int) and not isinstance(value, bool):
            choices[name] = st.sampled_from([*known, value])
        else:
            choices[name] = st.just(value)
    return st.fixed_dictionaries(choices)


@schema.hook
def filter_failure(context, failure, case, response):
    """Keep every failure except a 400 for a business rule that JSON Schema cannot express."""
    if not isinstance(failure, RejectedPositiveData) or response.status_code != 400:
        return True
    try:
        body = json.loads(response.content)
    except ValueError:
        return True
    return not (isinstance(body, dict) and _only_business_rules(body))


@pytest.fixture(scope="module", autouse=True)
def _report_cases(request):
    """Print how many cases ran: docs/reliability.md records the figure."""
    yield
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\nfuzz: {Run.cases} cases run (seed {FUZZ_SEED}, max examples {FUZZ_MAX_EXAMPLES})")


def test_the_fuzzed_schema_is_the_one_the_server_publishes(live_server):
    served = requests.get(f"{live_server.url}/api/schema/", params={"format": "json"}, timeout=30)
    assert served.status_code == 200
    assert served.json() == _generated_schema()


def _callers(case) -> list[str]:
    """Who sends this case: every role, except for the coverage phase's boundary cases.

    The coverage phase sends some hundred fixed cases per operation (each boundary of each
    parameter); as 403 or 401 most of them only prove the permission check again, so each goes
    out as one role in turn, while the generated (examples and fuzzing) cases go out as all four.
    """
    if case.meta is not None and case.meta.phase.name == TestPhase.COVERAGE:
        Run.rotation += 1
        return [ROLES[Run.rotation % len(ROLES)]]
    return ROLES


@schema.parametrize()
# One seeded world per operation, shared by its examples on purpose (each request gets the caller
# back as seeded and a fresh token; see World.headers).
@hypothesis.settings(suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
def test_api_conforms_to_its_schema(case, world, live_server):
    # The roles share the seeded world, which keeps the per-operation set-up (a database flush and
    # reseed) to one instead of four.
    for role in _callers(case):
        Run.cases += 1
        hypothesis.note(f"caller: {role}")
        case.call_and_validate(base_url=live_server.url, headers=world.headers(role))


@pytest.mark.parametrize("role", ["patient", "administrator"])
def test_api_sequences_conform_to_its_schema(role, world, live_server):
    """Chains of linked operations (inferred from the schema): book then cancel, create then read,
    change and block a user, add then delete an absence; checks that follow resources run here."""
    failures = []

    class Sequences(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            Run.cases += 1
            return {"base_url": live_server.url, "headers": world.headers(role)}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            try:
                super().validate_response(response, case, additional_checks=additional_checks, **kwargs)
            except FailureGroup as failure:
                failures.append(failure)
                raise

    try:
        Sequences.run(
            settings=hypothesis.settings(
                max_examples=FUZZ_STATEFUL_EXAMPLES,
                stateful_step_count=10,
                # CI's seed fixes the sequences too (Hypothesis takes no seed here); another seed,
                # as `make fuzz` gives, lets it choose them afresh.
                derandomize=FUZZ_SEED == CI_SEED,
                database=None,
                deadline=None,
                phases=[hypothesis.Phase.generate],
                suppress_health_check=list(hypothesis.HealthCheck),
            )
        )
    except (hypothesis.errors.Flaky, AssertionError) as error:
        # The live server keeps its state from one sequence to the next (users created, slots
        # booked), so Hypothesis replaying earlier choices may see other responses and call its own
        # generation flaky; Schemathesis's runner treats that the same way. What counts is
        # whether a check failed, and every check failure is kept above.
        if failures:
            raise failures[0] from error
        if isinstance(error, AssertionError) and not is_inconsistent_replay(error):
            raise
