"""The exit statuses of `kiosk-provision` and its one error family.

Every refusal is a `ProvisionError`: one line saying what is wrong and one saying what to do, and
the exit status of its kind. Library errors (kiosk, devices, offline cache, OS) are mapped to it at
the command boundary (`cli.py`), so a technician never sees a traceback.
"""

from __future__ import annotations

import enum


class Exit(enum.IntEnum):
    OK = 0
    CHECK_FAILED = 1  # a self-test check or a device failed
    USAGE = 2  # wrong flags, bad input, a config the kiosk would not load
    PLATFORM_REFUSED = 3  # the platform answered no: token used/expired/wrong, terminal revoked
    NOTHING_TO_DO = 4  # already done: enrolled (without --force), a wiped terminal
    UNREACHABLE = 5  # the platform could not be reached (network, DNS, TLS)
    REFUSED = 6  # refused to protect data: undelivered requests, a file not ours


EXIT_MEANINGS: dict[Exit, str] = {
    Exit.OK: "done; every check passed",
    Exit.CHECK_FAILED: "a check failed (self-test, status, diagnostics scan)",
    Exit.USAGE: "usage: a wrong option, bad input, or a config the kiosk would not load",
    Exit.PLATFORM_REFUSED: "the platform refused: token used, expired or wrong; terminal revoked",
    Exit.NOTHING_TO_DO: "nothing to do: already enrolled, already wiped",
    Exit.UNREACHABLE: "the platform could not be reached (network, DNS, TLS certificate)",
    Exit.REFUSED: "refused to protect data: undelivered requests, files that are not ours",
}


class ProvisionError(Exception):
    """A refusal for the technician: `message` what is wrong, `step` what to do next."""

    def __init__(self, message: str, step: str = "", exit: Exit = Exit.USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.step = step
        self.exit = exit

    def as_dict(self) -> dict[str, object]:
        return {"error": self.message, "step": self.step, "exit": int(self.exit)}
