"""Voice prompts for elderly mode: espeak-ng in a child process, never waited on by the UI thread."""

from __future__ import annotations

import logging
import shutil
import subprocess

log = logging.getLogger(__name__)

# UI language -> espeak-ng voice
VOICES = {"zh_CN": "cmn", "en": "en"}
SPEED_WPM = "140"  # a little slower than espeak-ng's 175 default, for older listeners


class Voice:
    """Speaks one prompt at a time; a new prompt cuts the previous one off."""

    def __init__(self, binary: str | None) -> None:
        self.binary = binary
        self._current: subprocess.Popen[bytes] | None = None
        self._stopping: list[subprocess.Popen[bytes]] = []

    @classmethod
    def find(cls) -> Voice:
        """The installed espeak-ng, or a silent voice when there is none."""
        return cls(shutil.which("espeak-ng"))

    @property
    def available(self) -> bool:
        return self.binary is not None

    def say(self, text: str, language: str) -> bool:
        """Start speaking `text`; returns False when nothing could be started."""
        if self.binary is None or not text.strip():
            return False
        self.stop()
        command = [self.binary, "-v", VOICES.get(language, "cmn"), "-s", SPEED_WPM, "--", text]
        try:
            self._current = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except OSError as exc:  # a broken install must not take the screen down
            log.warning("voice prompt failed to start: %s", type(exc).__name__)
            self._current = None
            return False
        return True

    def stop(self) -> None:
        """Cut the current prompt off; finished children are reaped without waiting."""
        if self._current is not None and self._current.poll() is None:
            self._current.terminate()
            self._stopping.append(self._current)
        self._current = None
        self._stopping = [p for p in self._stopping if p.poll() is None]

    @property
    def speaking(self) -> bool:
        return self._current is not None and self._current.poll() is None
