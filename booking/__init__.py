"""Consultation booking and couples intake for a counselling practice."""

import os

# Piccolo finds its configuration through this variable, for its own CLI and for migrations.
os.environ.setdefault("PICCOLO_CONF", "booking.piccolo_conf")
