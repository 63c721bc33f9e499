"""The admin home page's dashboard: today's appointments, this week's utilisation, load charts.

A template tag rather than a custom AdminSite so that the project keeps Django's default site (and
Jazzmin's index page around it). Every figure is one query in appointments.statistics.
"""

from datetime import date, timedelta
from urllib.parse import urlencode

from django import forms, template
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appointments import statistics
from appointments.templatetags.charts import Bar, bar_chart, per_day_bars
from staff.models import User, full_name_of

register = template.Library()

DEFAULT_DAYS_BEFORE = DEFAULT_DAYS_AFTER = 7
MAX_RANGE_DAYS = 366
TODAY_LIMIT = 30
RANGE_REVERSED = _("The start of the range must not be after its end.")
RANGE_TOO_LONG = _("Choose a range of at most %(days)d days.")
FILTERS_NOT_APPLIED = _("The filters were not applied; the charts show the default range.")
FILTER_KEYS = ("date_from", "date_to", "doctor")


def _date_field(label) -> forms.DateField:
    """An optional end of the range, picked in the browser's date input."""
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}, format="%Y-%m-%d"),
    )


class DashboardFilterForm(forms.Form):
    date_from = _date_field(_("from"))
    date_to = _date_field(_("until"))
    doctor = forms.ModelChoiceField(
        label=_("doctor"),
        required=False,
        queryset=User.objects.doctors().order_by("last_name", "first_name"),
        empty_label=_("all doctors"),
        widget=forms.Select(attrs={"class": "form-control form-control-sm"}),
    )

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        # An empty end of the range keeps its default.
        date_from = cleaned["date_from"] = cleaned.get("date_from") or self.initial["date_from"]
        date_to = cleaned["date_to"] = cleaned.get("date_to") or self.initial["date_to"]
        if date_from > date_to:
            raise forms.ValidationError(RANGE_REVERSED, code="reversed")
        if (date_to - date_from).days + 1 > MAX_RANGE_DAYS:
            raise forms.ValidationError(RANGE_TOO_LONG % {"days": MAX_RANGE_DAYS}, code="too_long")
        return cleaned


def _doctor_bar(row: dict) -> Bar:
    initial = row["first_name"][:1] + "." if row["first_name"] else ""
    name = full_name_of(row["last_name"], row["first_name"])
    return Bar(
        full_name_of(row["last_name"], initial),
        row["utilisation"],
        f"{name}: {row['booked']}/{row['total']} ({row['utilisation']}%)",
    )


def _timetable_url(**params) -> str:
    return reverse("admin:appointments_timetable_changelist") + "?" + urlencode(params)


def _filter_form(request, today: date) -> tuple[DashboardFilterForm, bool]:
    """The filter form, bound only when the page was asked with a filter; and whether it was."""
    defaults = {
        "date_from": today - timedelta(days=DEFAULT_DAYS_BEFORE),
        "date_to": today + timedelta(days=DEFAULT_DAYS_AFTER),
    }
    bound = any(key in request.GET for key in FILTER_KEYS)
    return DashboardFilterForm(request.GET if bound else None, initial=defaults), bound


def _chosen_range(form: DashboardFilterForm, bound: bool) -> tuple[date, date, User | None]:
    """The range and doctor the filters ask for; the default range (all doctors) if they fail."""
    if bound and form.is_valid():
        return form.cleaned_data["date_from"], form.cleaned_data["date_to"], form.cleaned_data["doctor"]
    return form.initial["date_from"], form.initial["date_to"], None


def _today_context(today: date) -> dict:
    """Today's appointments (the first TODAY_LIMIT), how many more, and a link to them all."""
    rows = statistics.appointments_of_day(day=today, limit=TODAY_LIMIT)
    total = statistics.utilisation_total(date_from=today, date_to=today)
    return {
        "today": today,
        "today_total": total,
        "today_rows": [
            {
                "start": timezone.localtime(row["start_time"]),
                "stop": timezone.localtime(row["stop_time"]),
                "doctor": full_name_of(row["doctor__last_name"], row["doctor__first_name"], row["doctor__middle_name"]),
                "patient": full_name_of(
                    row["client__last_name"], row["client__first_name"], row["client__middle_name"]
                ),
                "conflict": row["conflict"],
            }
            for row in rows
        ],
        "today_more": max(total["booked"] - len(rows), 0),
        "today_url": _timetable_url(
            start_time__year=today.year, start_time__month=today.month, start_time__day=today.day, booked="booked"
        ),
    }


def _week_context(today: date) -> dict:
    """This week's (Monday to Sunday) utilisation, in total and day by day."""
    week_start = today - timedelta(days=today.weekday())
    week_end = week_start + timedelta(days=6)
    week_days = statistics.utilisation_per_day(date_from=week_start, date_to=week_end)
    return {
        "week": statistics.utilisation_total(date_from=week_start, date_to=week_end),
        "week_start": week_start,
        "week_end": week_end,
        "week_chart": bar_chart(
            per_day_bars(week_days, week_start, week_end, key="utilisation", unit="%"),
            title=_("Utilisation this week"),
            x_label=_("day"),
            y_label=_("booked slots, %"),
            max_value=100,
            unit="%",
        ),
    }


def _range_context(date_from: date, date_to: date, doctor: User | None) -> dict:
    """The charts of the chosen range: appointments per day (of one doctor or all), utilisation per doctor."""
    range_text = f"{date_from:%Y-%m-%d} – {date_to:%Y-%m-%d}"
    per_day_title = _("Appointments per day, %(range)s") % {"range": range_text}
    if doctor:
        per_day_title = _("Appointments per day of %(doctor)s, %(range)s") % {"doctor": doctor, "range": range_text}
    per_day = statistics.appointments_per_day(
        date_from=date_from, date_to=date_to, doctor_id=doctor.pk if doctor else None
    )
    per_doctor = statistics.utilisation_per_doctor(date_from=date_from, date_to=date_to)
    return {
        "per_day_chart": bar_chart(
            per_day_bars(per_day, date_from, date_to, key="count"),
            title=per_day_title,
            x_label=_("day"),
            y_label=_("appointments"),
        ),
        "per_doctor": [{**row, "name": full_name_of(row["last_name"], row["first_name"])} for row in per_doctor],
        "per_doctor_chart": bar_chart(
            [_doctor_bar(row) for row in per_doctor],
            title=_("Utilisation per doctor, %(range)s") % {"range": range_text},
            x_label=_("doctor"),
            y_label=_("booked slots, %"),
            max_value=100,
            unit="%",
        ),
    }


@register.inclusion_tag("appointments/admin/dashboard.html", takes_context=True)
def admin_dashboard(context):
    request = context["request"]
    if not request.user.has_perm("appointments.view_timetable"):
        return {"allowed": False}
    today = timezone.localdate()
    form, bound = _filter_form(request, today)
    date_from, date_to, doctor = _chosen_range(form, bound)
    return {
        "allowed": True,
        "form": form,
        "filters_failed": bound and not form.is_valid(),
        "filters_not_applied": FILTERS_NOT_APPLIED,
        **_today_context(today),
        **_week_context(today),
        "conflicts": statistics.conflicts_upcoming(),
        "conflicts_url": _timetable_url(conflict__exact=1, booked="booked"),
        **_range_context(date_from, date_to, doctor),
    }
