"""Paths of the scheduling API (the user's paths, slash optional)."""

from django.urls import register_converter

from hospital.routes import IsoDateConverter, both_slashes

from .api import (
    AbsenceDetailView,
    AbsenceListView,
    AppointmentViewSet,
    AvailabilityView,
    BookView,
    ClosureDetailView,
    ClosureListView,
    DateOverrideDetailView,
    DateOverrideListView,
    DoctorFreeSlotsView,
    DoctorViewSet,
    NextFreeSlotsView,
    ScheduleView,
    SlotViewSet,
    SpecialtyListView,
    UndoView,
)
from .outcomes_api import ArriveView, ClinicCancelView, FulfilView, NoShowView
from .rules_api import ClinicRulesView, DoctorRulesView
from .stats_api import AppointmentsPerDayView, OutcomesView, UtilisationView

register_converter(IsoDateConverter, "isodate")

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
    *both_slashes("doctors/<int:doctor_pk>/date-overrides", DateOverrideListView.as_view, "doctor-date-overrides"),
    *both_slashes(
        "doctors/<int:doctor_pk>/date-overrides/<isodate:date>",
        DateOverrideDetailView.as_view,
        "doctor-date-override-detail",
    ),
    *both_slashes("doctors/<int:doctor_pk>/availability", AvailabilityView.as_view, "doctor-availability"),
    *both_slashes("closures", ClosureListView.as_view, "closure-list"),
    *both_slashes("closures/<int:closure_pk>", ClosureDetailView.as_view, "closure-detail"),
    *both_slashes("specialties/", SpecialtyListView.as_view, "specialty-list"),
    *both_slashes("slots/", lambda: SlotViewSet.as_view({"get": "list"}), "slot-list"),
    *both_slashes("slots/next", NextFreeSlotsView.as_view, "slot-next"),
    *both_slashes("appointments/", lambda: AppointmentViewSet.as_view({"get": "list"}), "appointment-list"),
    *both_slashes("doctor/entries/all", AppointmentsPerDayView.as_view, "statistics-entries"),
    *both_slashes("stats/utilisation", UtilisationView.as_view, "statistics-utilisation"),
    # The clinic's rules: outcomes, booking rules.
    *both_slashes("appointments/<int:slot_pk>/arrive", ArriveView.as_view, "appointment-arrive"),
    *both_slashes("appointments/<int:slot_pk>/fulfil", FulfilView.as_view, "appointment-fulfil"),
    *both_slashes("appointments/<int:slot_pk>/no-show", NoShowView.as_view, "appointment-no-show"),
    *both_slashes("appointments/<int:slot_pk>/cancel", ClinicCancelView.as_view, "appointment-cancel"),
    *both_slashes("stats/outcomes", OutcomesView.as_view, "statistics-outcomes"),
    *both_slashes("booking-rules", ClinicRulesView.as_view, "booking-rules"),
    *both_slashes("doctors/<int:doctor_pk>/booking-rules", DoctorRulesView.as_view, "doctor-booking-rules"),
]
