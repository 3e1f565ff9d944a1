"""The associated data that binds each encrypted part of a booking to its place: answers
decrypt only as the booking, the partner and the field they were written for."""

from __future__ import annotations


def couple_context(reference: str) -> str:
    """Associated data binding the couple's encrypted answers to their booking."""
    return f"intake:{reference}:couple"


def partner_context(reference: str, position: int) -> str:
    """Associated data binding a partner's encrypted answers to them."""
    return f"intake:{reference}:partner:{position}"


def cancel_reason_context(reference: str) -> str:
    """Associated data binding a booking's encrypted cancel reason to it."""
    return f"booking:{reference}:cancel-reason"
