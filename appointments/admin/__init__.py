"""The clinic administrators' admin: doctors' schedules, absences, date overrides and specialties, clinic
closures, the Timetable, booking history, rules.

Every write goes through the services (schedule_update, absence_create/delete, date_override_set/delete,
closure_create/delete, specialty_create, doctor_specialties_set, slot_book, the outcomes, the booking rules):
the admin validates input, calls them and turns their refusals into messages. Importing the modules registers
their admins.
"""

from . import closures, doctors, rules, specialties, timetable  # noqa: F401
