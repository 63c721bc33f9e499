"""Paths of the scheduling API (the user's paths, slash optional)."""

from hospital.routes import both_slashes

from .api import (
    AbsenceDetailView,
    AbsenceListView,
    AppointmentViewSet,
    BookView,
    DoctorFreeSlotsView,
    DoctorViewSet,
    NextFreeSlotsView,
    ScheduleView,
    SlotViewSet,
    SpecialtyListView,
    UndoView,
)
from .stats_api import AppointmentsPerDayView, UtilisationView

urlpatterns = [
    *both_slashes("doctor/slots/get/<int:doctor_pk>", DoctorFreeSlotsView.as_view, "doctor-free-slots"),
    *both_slashes("doctor/appointment/<int:slot_pk>", BookView.as_view, "appointment-book"),
    *both_slashes("doctor/appointment/undo/<int:slot_pk>", UndoView.as_view, "appointment-undo"),
    *both_slashes("doctors/", lambda: DoctorViewSet.as_view({"get": "list"}), "doctor-list"),
    *both_slashes("doctors/<int:pk>/", lambda: DoctorViewSet.as_view({"get": "retrieve"}), "doctor-detail"),
    *both_slashes("doctors/<int:doctor_pk>/schedule", ScheduleView.as_view, "doctor-schedule"),
    *both_slashes("doctors/<int:doctor_pk>/absences", AbsenceListView.as_view, "doctor-absences"),
    *both_slashes(
        "doctors/<int:doctor_pk>/absences/<int:absence_pk>",
        AbsenceDetailView.as_view,
        "doctor-absence-detail",
    ),
    *both_slashes("specialties/", SpecialtyListView.as_view, "specialty-list"),
    *both_slashes("slots/", lambda: SlotViewSet.as_view({"get": "list"}), "slot-list"),
    *both_slashes("slots/next", NextFreeSlotsView.as_view, "slot-next"),
    *both_slashes("appointments/", lambda: AppointmentViewSet.as_view({"get": "list"}), "appointment-list"),
    *both_slashes("doctor/entries/all", AppointmentsPerDayView.as_view, "statistics-entries"),
    *both_slashes("stats/utilisation", UtilisationView.as_view, "statistics-utilisation"),
]
