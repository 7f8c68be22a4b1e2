"""Identifiers the domain makes up: record ids and etags."""

from __future__ import annotations

import uuid


def new_id() -> str:
    """A run, transcript or checkpoint id (a random UUID)."""
    return str(uuid.uuid4())


def new_etag() -> str:
    """A session version's etag (changes with every committed change of the session)."""
    return uuid.uuid4().hex[:16]
