"""Drive a device running mtsrnn over a serial line: the host side of
docs/protocol.md (client.py, transport.py), the board registry (boards.py),
where a board's program comes from (firmware.py), starting and reaching a
board (launch.py) and the child processes it runs (processes.py); models
uploaded over the line (upload.py) and the one decision of how a model file
reaches a board (placement.py: open_with_model). Needs
pyserial. What the host guarantees on a damaged link: docs/protocol.md."""

from .boards import BOARDS, DEFAULT_BOARD, Board, BoardError, get_board
from .client import (
    Device,
    DeviceError,
    DeviceInfo,
    HarnessError,
    Line,
    ModelInfo,
    ProtocolError,
    SessionLost,
    VariantInfo,
    check_timeout,
    decode_payload,
    encode_payload,
    parse_line,
)
from .firmware import (
    build_firmware,
    find_device_program,
    find_firmware,
    find_linux_program,
    firmware_candidates,
    linux_program_candidates,
)
from .flashing import flash_real
from .launch import Session, connect, open_board, start_host, start_qemu
from .placement import PlacedModel, check_firmware_fit, open_with_model
from .processes import free_port, live_children
from .transport import LinkClosed, PipeTransport, SerialTransport, Transport
from .upload import ModelNeeds, UploadError, upload_fit

__all__ = [
    "BOARDS", "DEFAULT_BOARD", "Board", "BoardError", "Device", "DeviceError", "DeviceInfo",
    "HarnessError", "Line", "LinkClosed", "ModelInfo", "ModelNeeds", "PipeTransport",
    "PlacedModel", "ProtocolError",
    "SerialTransport", "Session", "SessionLost", "Transport", "VariantInfo", "build_firmware",
    "UploadError", "check_firmware_fit", "check_timeout", "connect",
    "decode_payload", "encode_payload", "find_device_program", "find_firmware",
    "find_linux_program", "firmware_candidates", "flash_real", "free_port", "get_board",
    "linux_program_candidates", "live_children", "open_board", "open_with_model", "parse_line",
    "start_host", "start_qemu", "upload_fit",
]
