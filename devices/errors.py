"""One error family for every device, with stable codes (documented in docs/devices.md).

Backends turn their driver library's exceptions into these; nothing else leaves `devices/`.
"""

from __future__ import annotations

from .state import DeviceState


class DeviceError(Exception):
    """Base of the family. `code` is stable and safe to log; `detail` is for the technician."""

    code = "device.error"
    state = DeviceState.HARDWARE_ERROR

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        if code is not None:
            self.code = code

    @property
    def detail(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


class DeviceTimeout(DeviceError):
    code = "device.timeout"


class DeviceOffline(DeviceError):
    code = "device.offline"
    state = DeviceState.OFFLINE


class DeviceBusy(DeviceError):
    code = "device.busy"
    state = DeviceState.BUSY


class UserActionError(DeviceError):
    """Something the user did: card taken away mid-read, paper pulled too early."""

    code = "device.user_error"
    state = DeviceState.USER_ERROR


class HardwareError(DeviceError):
    code = "device.hardware_error"


class ProtocolError(DeviceError):
    """Bytes from a device that do not follow its protocol (bad checksum, truncated frame)."""

    code = "device.protocol_error"


class InputRejected(DeviceError):
    """Well-formed input the kiosk must not accept (expired ID card, binary QR payload)."""

    code = "device.input_rejected"
    state = DeviceState.ONLINE


class ConfigError(DeviceError):
    code = "device.config_error"
    state = DeviceState.OFFLINE


class UnknownBackend(ConfigError):
    code = "device.unknown_backend"


class DriverMissing(ConfigError):
    code = "device.driver_missing"
