"""The clinic administrators' admin: doctors' schedules, absences and date overrides, clinic closures, the
Timetable, booking history.

Every write goes through the services (schedule_update, absence_create/delete, date_override_set/delete,
closure_create/delete, slot_book/cancel): the admin validates input, calls them and turns their refusals
into messages. Importing the modules registers their admins.
"""

from . import closures, doctors, timetable  # noqa: F401
