"""Drive a device running mtsrnn over a serial line: the host side of
docs/protocol.md, board launchers (QEMU, the Linux device program) and
pyocd flashing. Needs pyserial."""

from .boards import (
    BOARDS,
    DEFAULT_BOARD,
    Board,
    BoardError,
    Session,
    connect,
    find_device_program,
    find_firmware,
    flash_real,
    get_board,
    live_children,
    open_board,
    start_host,
    start_qemu,
)
from .client import (
    Device,
    DeviceError,
    DeviceInfo,
    HarnessError,
    Line,
    ModelInfo,
    ProtocolError,
    VariantInfo,
    decode_payload,
    encode_payload,
    parse_line,
)
from .transport import LinkClosed, PipeTransport, SerialTransport, Transport

__all__ = [
    "BOARDS", "DEFAULT_BOARD", "Board", "BoardError", "Device", "DeviceError", "DeviceInfo",
    "HarnessError", "Line", "LinkClosed", "ModelInfo", "PipeTransport",
    "ProtocolError", "SerialTransport", "Session", "Transport", "VariantInfo", "connect",
    "decode_payload",
    "encode_payload",
    "find_device_program", "find_firmware", "flash_real", "get_board", "live_children",
    "open_board", "parse_line", "start_host", "start_qemu",
]
