"""The admin's look: Jazzmin's menus, icons and theme (read by settings.py)."""

from django.utils.translation import gettext_lazy as _

JAZZMIN_SETTINGS = {
    "site_title": _("Hospital admin"),
    "site_header": _("Hospital"),
    "site_brand": _("Hospital back office"),
    "welcome_sign": _("Clinic back office: people, schedules and appointments"),
    "copyright": "Hospital",
    "search_model": ["staff.User", "appointments.Doctor"],
    "topmenu_links": [
        {"name": _("Dashboard"), "url": "admin:index"},
        {"model": "appointments.Doctor"},
        {"model": "appointments.Timetable"},
        {"name": _("API docs"), "url": "/api/docs/", "new_window": True},
    ],
    # The doctors' section opens the appointments menu: schedules, then the slots they make.
    "order_with_respect_to": [
        "staff",
        "staff.User",
        "appointments",
        "appointments.Doctor",
        "appointments.Specialty",
        "appointments.Timetable",
        "appointments.Absence",
        "appointments.Closure",
        "appointments.AppointmentEvent",
        "appointments.ClinicBookingRules",
        "auth",
        "knox",
        "axes",
        "django_celery_beat",
    ],
    "custom_links": {
        "appointments": [
            {
                "name": _("Import doctors"),
                "url": "admin:appointments_doctor_import",
                "icon": "fas fa-file-import",
                "permissions": ["appointments.add_doctor"],
            },
        ],
        "staff": [
            {
                "name": _("Import patients"),
                "url": "admin:staff_user_import",
                "icon": "fas fa-file-import",
                "permissions": ["staff.add_user"],
            },
        ],
    },
    "icons": {
        "staff": "fas fa-id-card",
        "staff.User": "fas fa-user",
        "staff.AuditEvent": "fas fa-clipboard-list",
        "appointments": "fas fa-hospital",
        "appointments.Doctor": "fas fa-user-md",
        "appointments.Specialty": "fas fa-stethoscope",
        "appointments.Timetable": "fas fa-calendar-alt",
        "appointments.Absence": "fas fa-umbrella-beach",
        "appointments.Closure": "fas fa-door-closed",
        "appointments.AppointmentEvent": "fas fa-history",
        "appointments.ClinicBookingRules": "fas fa-sliders-h",
        "auth": "fas fa-shield-alt",
        "auth.Group": "fas fa-users",
        "knox": "fas fa-key",
        "knox.AuthToken": "fas fa-key",
        "axes": "fas fa-user-lock",
        "axes.AccessAttempt": "fas fa-user-lock",
        "axes.AccessLog": "fas fa-sign-in-alt",
        "axes.AccessFailureLog": "fas fa-user-times",
        "django_celery_beat": "fas fa-stopwatch",
        "django_celery_beat.PeriodicTask": "fas fa-tasks",
        "django_celery_beat.IntervalSchedule": "fas fa-hourglass-half",
        "django_celery_beat.CrontabSchedule": "fas fa-calendar",
        "django_celery_beat.ClockedSchedule": "fas fa-clock",
        "django_celery_beat.SolarSchedule": "fas fa-sun",
    },
    "default_icon_parents": "fas fa-folder",
    "default_icon_children": "fas fa-circle",
    "show_ui_builder": False,
    "changeform_format": "horizontal_tabs",
    # Pages with one group of fields read better without tabs.
    "changeform_format_overrides": {
        "appointments.timetable": "single",
        "appointments.absence": "single",
        "appointments.closure": "single",
        "appointments.specialty": "single",
        "appointments.appointmentevent": "single",
        "appointments.clinicbookingrules": "single",
    },
    "language_chooser": False,
    # The admin works offline: no font from fonts.googleapis.com (the system sans-serif is used).
    "use_google_fonts_cdn": False,
}
JAZZMIN_UI_TWEAKS = {
    # Bootswatch's "flatly" @imports its font from Google; "cerulean" reads alike and loads nothing
    # from outside (the smoke suite fails on any request leaving the machine).
    "theme": "cerulean",
    # Light: Jazzmin 3 draws "navbar-primary navbar-dark" links white on white.
    "navbar": "navbar-white navbar-light",
    "sidebar": "sidebar-dark-primary",
}
