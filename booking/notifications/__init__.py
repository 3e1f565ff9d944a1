"""Outgoing notifications: email composition, calendar files, the outbox and its worker."""
