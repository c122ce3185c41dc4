"""Claim VG3 of the notes (see ../shared/CLAIMS.md): being built this round; registered empty until then."""

from __future__ import annotations

from core.claims.base import Claim

CLAIMS: tuple[Claim, ...] = ()
