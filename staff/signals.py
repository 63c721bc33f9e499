"""Facts about people that other apps act on. staff sends them and knows nothing of who listens.

Sent inside the service's transaction, with `sender=User`, `user=` and `actor=`; a receiver that
raises rolls the whole operation back. `appointments.receivers` is the listener today.
"""

from django.dispatch import Signal

# The user was blocked (is_active is now False). A receiver may return how many future
# appointments it released: the block's audit row records the sum.
user_blocked = Signal()

# What the user may do changed: blocked, unblocked, or roles changed.
user_access_changed = Signal()
