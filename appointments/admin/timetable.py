"""The Timetable (book and cancel through the services), absences and the booking history."""

from collections import defaultdict

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AutocompleteSelect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin

from appointments import outcomes, services
from appointments.models import Absence, AppointmentEvent, AppointmentStatus, Timetable
from appointments.resources import AbsenceResource, AppointmentEventResource, TimetableResource
from hospital.admin_base import ReadOnlyAdmin
from hospital.errors import ServiceError
from hospital.imports import FILE_FORMATS
from staff.models import User

from .common import DoctorListFilter

PATIENT_PLACEHOLDER = _("patient to book for")
CHOOSE_PATIENT = _("Choose an active patient in the field next to the action to book for.")
FREE_NOT_CANCELLED = _("%(count)d selected slot(s) were free: nothing to cancel.")
SLOTS_REFUSED = _("%(reason)s %(slots)s")
SLOTS_BOOKED = _("%(count)d slot(s) booked for %(patient)s.")
APPOINTMENTS_CANCELLED = _("%(count)d appointment(s) cancelled.")
REASON_PLACEHOLDER = _("reason to cancel")
GIVE_A_REASON = _("Give the reason for cancelling in the field next to the action.")
APPOINTMENTS_MARKED = _("%(count)d appointment(s) marked %(status)s.")
FREE_SKIPPED = _("%(count)d selected slot(s) were free: skipped.")


class BookedFilter(admin.SimpleListFilter):
    title = _("free or booked")
    parameter_name = "booked"

    def lookups(self, request, model_admin):
        return (("free", _("free")), ("booked", _("booked")))

    def queryset(self, request, queryset):
        if self.value() == "free":
            return queryset.filter(client__isnull=True)
        if self.value() == "booked":
            return queryset.filter(client__isnull=False)
        return queryset


class PatientPicker(AutocompleteSelect):
    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs)
        # The autocomplete widget blanks the placeholder; the action bar shows no label, so say it here.
        attrs["data-placeholder"] = str(PATIENT_PLACEHOLDER)
        return attrs


class SlotActionForm(helpers.ActionForm):
    # Any user is a valid choice here so that a wrong pick gets the action's own message, not
    # Django's "No action selected"; the action books only for an active patient.
    patient = forms.ModelChoiceField(
        queryset=User.objects.all(),
        required=False,
        label=_("patient"),
        widget=PatientPicker(Timetable._meta.get_field("client"), admin.site, attrs={"style": "min-width: 18em"}),
    )
    # The clinic's cancel needs a reason, kept in the booking history.
    reason = forms.CharField(
        required=False,
        max_length=outcomes.REASON_MAX_LENGTH,
        label=_("reason"),
        widget=forms.TextInput(attrs={"placeholder": REASON_PLACEHOLDER, "style": "min-width: 18em"}),
    )


def _refusals_message(refusals: dict) -> list[str]:
    """One message per reason, naming up to five slots."""
    lines = []
    for reason, slots in refusals.items():
        shown = ", ".join(str(slot) for slot in slots[:5]) + (" ..." if len(slots) > 5 else "")
        lines.append(str(SLOTS_REFUSED % {"reason": reason, "slots": f"({shown})"}))
    return lines


@admin.register(Timetable)
class TimetableAdmin(ExportMixin, admin.ModelAdmin):
    formats = FILE_FORMATS
    resource_classes = [TimetableResource]
    action_form = SlotActionForm
    actions = ("book_for_patient", "cancel_appointments", "mark_arrived", "mark_fulfilled", "mark_no_show")
    list_display = ("start", "stop", "doctor", "client", "state", "conflict", "booked_at")
    list_filter = (DoctorListFilter, BookedFilter, "status", "conflict")
    date_hierarchy = "start_time"
    search_fields = ("client__username", "client__last_name", "client__first_name", "client__middle_name")
    search_help_text = _("Search by the patient's name or username.")
    list_select_related = ("doctor", "client")
    fields = ("doctor", "start_time", "stop_time", "client", "status", "booked_at", "conflict")
    readonly_fields = fields
    list_per_page = 50
    # The Timetable grows by every doctor's every slot: skip the unfiltered COUNT(*) on each page.
    show_full_result_count = False

    def has_add_permission(self, request):
        return False  # the generator makes slots

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # A slot changes only by booking and cancelling (the actions); its own page is read-only.
        return obj is None and super().has_change_permission(request)

    @admin.display(description=_("start"), ordering="start_time")
    def start(self, slot):
        return f"{timezone.localtime(slot.start_time):%Y-%m-%d %H:%M}"

    @admin.display(description=_("end"), ordering="stop_time")
    def stop(self, slot):
        return f"{timezone.localtime(slot.stop_time):%H:%M}"

    @admin.display(description=_("status"), ordering="status")
    def state(self, slot):
        if slot.is_free:
            return format_html('<span class="badge text-bg-success">{}</span>', _("free"))
        return format_html('<span class="badge text-bg-secondary">{}</span>', slot.get_status_display())

    @admin.action(description=_("Book the selected slots for the chosen patient"), permissions=["change"])
    def book_for_patient(self, request, queryset):
        chosen = request.POST.get("patient", "")
        patient = None
        if chosen.isdigit() and len(chosen) < 19:
            patient = User.objects.patients().filter(pk=int(chosen), is_active=True).first()
        if patient is None:
            self.message_user(request, CHOOSE_PATIENT, messages.ERROR)
            return
        booked, refusals = 0, defaultdict(list)
        for slot in queryset.select_related("doctor").order_by("start_time"):
            try:
                services.slot_book(slot_id=slot.pk, patient=patient, actor=request.user)
            except ServiceError as error:
                refusals[str(error.message)].append(slot)
            else:
                booked += 1
        for line in _refusals_message(refusals):
            self.message_user(request, line, messages.ERROR)
        if booked:
            self.message_user(request, SLOTS_BOOKED % {"count": booked, "patient": patient}, messages.SUCCESS)

    @admin.action(description=_("Cancel the selected appointments (the clinic cancels)"), permissions=["change"])
    def cancel_appointments(self, request, queryset):
        reason = request.POST.get("reason", "").strip()[: outcomes.REASON_MAX_LENGTH]
        if not reason:
            self.message_user(request, GIVE_A_REASON, messages.ERROR)
            return
        self._each_appointment(
            request,
            queryset,
            lambda slot: outcomes.appointment_cancel(slot_id=slot.pk, actor=request.user, reason=reason),
            APPOINTMENTS_CANCELLED,
            free_message=FREE_NOT_CANCELLED,
        )

    @admin.action(description=_("Mark the selected appointments arrived"), permissions=["change"])
    def mark_arrived(self, request, queryset):
        self._each_appointment(
            request,
            queryset,
            lambda slot: outcomes.appointment_arrive(slot_id=slot.pk, actor=request.user),
            APPOINTMENTS_MARKED,
            AppointmentStatus.ARRIVED,
        )

    @admin.action(description=_("Mark the selected appointments fulfilled"), permissions=["change"])
    def mark_fulfilled(self, request, queryset):
        self._each_appointment(
            request,
            queryset,
            lambda slot: outcomes.appointment_fulfil(slot_id=slot.pk, actor=request.user),
            APPOINTMENTS_MARKED,
            AppointmentStatus.FULFILLED,
        )

    @admin.action(description=_("Mark the selected appointments no-show"), permissions=["change"])
    def mark_no_show(self, request, queryset):
        self._each_appointment(
            request,
            queryset,
            lambda slot: outcomes.appointment_no_show(slot_id=slot.pk, actor=request.user),
            APPOINTMENTS_MARKED,
            AppointmentStatus.NOSHOW,
        )

    def _each_appointment(self, request, queryset, service, done_message, status=None, free_message=FREE_SKIPPED):
        """One service call per selected appointment; free slots are skipped, refusals reported."""
        done, free, refusals = 0, 0, defaultdict(list)
        for slot in queryset.select_related("doctor", "client").order_by("start_time"):
            if slot.client is None:
                free += 1
                continue
            try:
                service(slot)
            except ServiceError as error:
                refusals[str(error.message)].append(slot)
            else:
                done += 1
        for line in _refusals_message(refusals):
            self.message_user(request, line, messages.ERROR)
        if free:
            self.message_user(request, free_message % {"count": free}, messages.WARNING)
        if done:
            params = {"count": done} if status is None else {"count": done, "status": AppointmentStatus(status).label}
            self.message_user(request, done_message % params, messages.SUCCESS)


# --- absences and booking history: lists and exports ---------------------------------------------


@admin.register(Absence)
class AbsenceAdmin(ExportMixin, ReadOnlyAdmin):
    """All absences, past ones included; they are added and changed on the doctor's page."""

    formats = FILE_FORMATS

    resource_classes = [AbsenceResource]
    list_display = ("doctor_page", "kind", "start", "end", "comment")
    list_filter = (DoctorListFilter, "kind")
    date_hierarchy = "start"
    search_fields = ("doctor__username", "doctor__last_name", "doctor__first_name", "comment")
    list_select_related = ("doctor",)

    @admin.display(description=_("doctor"), ordering="doctor__last_name")
    def doctor_page(self, absence):
        url = reverse("admin:appointments_doctor_change", args=[absence.doctor_id])
        return format_html('<a href="{}">{}</a>', url, absence.doctor)


@admin.register(AppointmentEvent)
class AppointmentEventAdmin(ExportMixin, ReadOnlyAdmin):
    """Booking history: read-only, exportable."""

    formats = FILE_FORMATS

    resource_classes = [AppointmentEventResource]
    list_display = ("at", "action", "cancelled_by", "slot_start", "doctor", "patient", "actor", "reason", "slot_id")
    list_filter = ("action", "cancelled_by", DoctorListFilter)
    date_hierarchy = "at"
    search_fields = ("patient__username", "patient__last_name", "patient__first_name")
    list_select_related = ("doctor", "patient", "actor")
    show_full_result_count = False

    @admin.display(description=_("slot start"), ordering="start_time")
    def slot_start(self, event):
        return f"{timezone.localtime(event.start_time):%Y-%m-%d %H:%M}"
