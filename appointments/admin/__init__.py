"""The clinic administrators' admin: doctors' schedules, absences and specialties, the Timetable, history, rules.

Every write goes through the services (schedule_update, absence_create/delete, specialty_create,
doctor_specialties_set, slot_book, the outcomes, the booking rules): the admin validates input,
calls them and turns their refusals into messages. Importing the modules registers their admins.
"""

from . import doctors, rules, specialties, timetable  # noqa: F401
