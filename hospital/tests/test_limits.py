"""Caps on what a request may carry: body size, page size, string lengths. Over a cap: 4xx, no change."""

import pytest

from appointments.models import Absence
from hospital.errors import BODY_TOO_LARGE
from staff.models import User

pytestmark = pytest.mark.django_db


def test_a_body_over_the_limit_gets_413_and_writes_nothing(admin_api, settings):
    before = User.objects.count()
    body = {
        "username": "big",
        "password": "a long and unusual passphrase 42",
        "last_name": "y" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
        "first_name": "Big",
        "sex": "male",
        "birth_date": "1990-01-01",
        "groups": ["patient"],
    }
    response = admin_api.post("/api/user/create", body, format="json")
    assert response.status_code == 413
    assert response.json() == {"detail": str(BODY_TOO_LARGE), "code": "too_large"}
    assert User.objects.count() == before


def test_a_page_size_over_the_cap_gets_400(admin_api, settings):
    assert admin_api.get("/api/users/", {"page_size": settings.API_MAX_PAGE_SIZE + 1}).status_code == 400
    assert admin_api.get("/api/users/", {"page_size": settings.API_MAX_PAGE_SIZE}).status_code == 200
    assert admin_api.get("/api/slots/", {"page_size": 0}).status_code == 400


@pytest.mark.parametrize(
    ("path", "field", "cap"),
    [
        ("/api/users/", "search", 150),
        ("/api/doctors/", "search", 150),
    ],
)
def test_an_overlong_search_gets_400(admin_api, path, field, cap):
    assert admin_api.get(path, {field: "x" * cap}).status_code == 200
    assert admin_api.get(path, {field: "x" * (cap + 1)}).status_code == 400


def test_an_overlong_comment_gets_400_and_writes_nothing(admin_api, dr_carol):
    body = {"kind": "other", "start": "2030-01-01T10:00:00Z", "end": "2030-01-01T11:00:00Z", "comment": "c" * 501}
    response = admin_api.post(f"/api/doctors/{dr_carol.pk}/absences", body, format="json")
    assert response.status_code == 400
    assert "comment" in response.json()["fields"]
    assert not Absence.objects.exists()


@pytest.mark.parametrize("field", ["username", "last_name", "first_name", "middle_name"])
def test_overlong_names_get_400(admin_api, alice, field):
    response = admin_api.patch(f"/api/user/update/{alice.pk}", {field: "n" * 151}, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    alice.refresh_from_db()
    assert len(getattr(alice, field)) <= 150


def test_an_overlong_password_gets_400(admin_api, alice):
    response = admin_api.patch(f"/api/user/update/{alice.pk}", {"password": "p" * 129}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()["fields"]


def test_too_many_working_intervals_get_400(admin_api, dr_carol):
    hours = [{"weekday": i % 7, "start": "09:00", "end": "10:00"} for i in range(7 * 24 + 1)]
    response = admin_api.put(
        f"/api/doctors/{dr_carol.pk}/schedule",
        {"slot_minutes": 20, "horizon_days": 7, "working_hours": hours},
        format="json",
    )
    assert response.status_code == 400
