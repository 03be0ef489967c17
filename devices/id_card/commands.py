"""The GA/T 467 commands this driver sends and what the reader's SW3 status byte means.

Command bytes and SW3 values are the public SAM module protocol (the same table ships with every
reader's SDK manual); see docs/devices/id_card.md for sources.
"""

from __future__ import annotations

import enum

from ..errors import DeviceError, HardwareError, InputRejected, ProtocolError, UserActionError
from .frame import encode_command


class Command(enum.Enum):
    """(CMD, PARA) of each command; `.frame` is the complete bytes on the wire."""

    RESET_SAM = (0x10, 0xFF)
    SAM_STATUS = (0x11, 0xFF)
    FIND_CARD = (0x20, 0x01)
    SELECT_CARD = (0x20, 0x02)
    READ_BASE_INFO = (0x30, 0x01)

    @property
    def frame(self) -> bytes:
        cmd, para = self.value
        return encode_command(cmd, para)

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def lookup(cls, cmd: int, para: int) -> Command | None:
        for command in cls:
            if command.value == (cmd, para):
                return command
        return None


# SW3 values (the reader's own status byte)
SW3_OK = 0x90
SW3_CARD_FOUND = 0x9F
SW3_FIND_FAILED = 0x80
SW3_SELECT_FAILED = 0x81
SW3_READ_FAILED = 0x41
SW3_BAD_CHECKSUM = 0x10
SW3_BAD_LENGTH = 0x11
SW3_BAD_COMMAND = 0x21

SW3_MEANING: dict[int, str] = {
    0x90: "操作成功 (ok)",
    0x9F: "寻找证/卡成功 (card found)",
    0x10: "接收业务终端数据的校验和错 (reader got a bad checksum)",
    0x11: "接收业务终端数据的长度错 (reader got a bad length)",
    0x21: "接收业务终端的命令错误 (reader rejected the command)",
    0x23: "越权操作 (operation not permitted)",
    0x24: "无法识别的错误 (unrecognised error)",
    0x31: "证/卡认证机具失败 (card failed to authenticate the reader)",
    0x32: "机具认证证/卡失败 (reader failed to authenticate the card)",
    0x33: "信息验证错误 (card data failed verification)",
    0x40: "无法识别的卡类型 (not an ID card)",
    0x41: "读证/卡操作失败 (read failed: card moved or removed)",
    0x47: "取随机数失败 (random number failed)",
    0x60: "SAM 自检失败，不能接收命令 (SAM self-test failed)",
    0x66: "SAM 未经授权，无法使用 (SAM not authorised)",
    0x80: "寻找证/卡失败 (no card in the field)",
    0x81: "选取证/卡失败 (select failed)",
    0x91: "证/卡中此项无内容 (no such item on the card)",
}

_HOST_FRAME_REJECTED = {0x10, 0x11, 0x21}
_NOT_AUTHENTIC = {0x31, 0x32, 0x33}


def describe_sw3(sw3: int) -> str:
    return f"SW3=0x{sw3:02X} {SW3_MEANING.get(sw3, '(unknown status)')}"


def error_for(command: Command, sw3: int) -> DeviceError:
    """The family error for an unexpected SW3 in the reply to `command` (never PII: codes only)."""
    what = f"{command.label}: {describe_sw3(sw3)}"
    if sw3 in _HOST_FRAME_REJECTED:
        return ProtocolError(what, code="id_card.command_rejected")
    if sw3 == SW3_READ_FAILED:
        return UserActionError(what, code="id_card.removed_mid_read")
    if sw3 in _NOT_AUTHENTIC:
        return InputRejected(what, code="id_card.card_not_authentic")
    if sw3 == 0x40:
        return InputRejected(what, code="id_card.not_an_id_card")
    if command is Command.SAM_STATUS or sw3 in (0x60, 0x66):
        return HardwareError(what, code="id_card.sam_error")
    return HardwareError(what, code="id_card.reader_error")
