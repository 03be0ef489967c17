"""Verify a printed report: hold its QR code to the camera (the runner watches the camera)."""

from __future__ import annotations

from .base import KioskScreen


class VerifyScanScreen(KioskScreen):
    headline_id = "verify.title"
