"""Which way a model file reaches a board, decided in one place for every
command that runs a given model (`mtsrnn run | bench device | selftest |
eval --model`):

1. uploaded over the line into the RAM arena (protocol 2.1, `upload`),
   when it fits the arena and the device's buffers: QEMU boards,
   mtsrnn-device and real boards at a port alike, with no cross compiler;
2. otherwise, on a board this host starts: mtsrnn-device loads the file
   itself (`--model`), and a QEMU board gets firmware built with the model
   in flash (build_firmware), once its flash, RAM and workspace needs were
   compared with the board's budgets (check_firmware_fit: a one-line error
   rather than a linker error);
3. a board at a port runs the firmware it was flashed with: a model that
   does not fit its arena is an error saying so. A built-in model of the
   same shape is never used in its place.

    with open_with_model("m.mts", "qemu-mps2-an386") as placed:
        h, _ = placed.session.device.infer(x, block=8)   # runs m.mts
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import Any

from .boards import DEFAULT_BOARD, Board, BoardError, get_board
from .client import DEFAULT_TIMEOUT, ModelInfo
from .firmware import build_firmware
from .launch import Session, open_board
from .upload import ModelNeeds, UploadError, upload_fit

# What a firmware image holds beside its models, measured on the mps2-an386
# build (arm-none-eabi-nm: 90 KB of code and constants without the models);
# taken a little low, so that the check never refuses a model that links.
FIRMWARE_CODE_BYTES = 80 * 1024
# The RAM every image needs beside the model's buffers and the arena: the
# device context, the variant table, the C library's data (the stack is
# the board's: Board.stack_bytes).
FIRMWARE_RAM_BYTES = 4 * 1024
FIRMWARE_GOLDEN_STEPS = 16


@dataclass
class PlacedModel:
    """An open board running a model file: `session` (close it, or use
    `with`), `model` (the device's description of it, selected, its state
    zero), `how` it got there ("upload", "firmware": built into firmware,
    "program": loaded by mtsrnn-device), and `needs` (the file, read)."""

    session: Session
    model: ModelInfo
    how: str
    needs: ModelNeeds
    _stack: contextlib.ExitStack = field(repr=False, default_factory=contextlib.ExitStack)

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> PlacedModel:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def firmware_needs(needs: ModelNeeds, max_block: int, max_steps: int) -> dict[str, int]:
    """Bytes of flash and RAM a firmware image with this model alone built in
    needs (estimates from the kernels' sizes: weights, golden vectors, the
    workspace at max_block and max_steps, state, input and output
    buffers), without the board's arena and stack."""
    golden = 4 * FIRMWARE_GOLDEN_STEPS * (needs.input + needs.output)
    workspace = needs.workspace(max_block, max_steps)
    buffers = 4 * (needs.state_floats + max_steps * (needs.input + needs.output))
    return {"flash": FIRMWARE_CODE_BYTES + needs.weight_bytes + golden,
            "workspace": workspace, "ram": FIRMWARE_RAM_BYTES + workspace + buffers}


def check_firmware_fit(board: Board, needs: ModelNeeds, max_block: int | None = None) -> None:
    """BoardError (one line: the sizes and what would fit) when firmware for
    `board` with this model built in cannot fit its flash or RAM budget
    (Board.flash_bytes, ram_bytes; 0: unknown, not checked), its buffers
    sized for max_block (default: the board's firmware limit,
    Board.max_block) and Board.max_steps frames."""
    max_block = board.max_block if max_block is None else min(max_block, board.max_block)
    max_steps = board.max_steps
    need = firmware_needs(needs, max_block, max_steps)
    ram_left = board.ram_bytes - board.arena_bytes - board.stack_bytes
    over = []
    if board.flash_bytes and need["flash"] > board.flash_bytes:
        over.append(f"flash: about {need['flash']} bytes ({needs.weight_bytes} of weights), "
                    f"the board has {board.flash_bytes}")
    if board.ram_bytes and need["ram"] > ram_left:
        over.append(f"RAM: about {need['ram']} bytes (workspace {need['workspace']} at T = "
                    f"{max_block}, {max_steps} steps), the board has {ram_left} beside its "
                    f"upload arena and stack")
    if not over:
        return
    from .boards import BOARDS

    def fits(other: Board) -> bool:
        there = firmware_needs(needs, min(max_block, other.max_block), other.max_steps)
        return (there["flash"] <= other.flash_bytes
                and there["ram"] <= other.ram_bytes - other.arena_bytes - other.stack_bytes)

    larger = [b.name for b in BOARDS.values()
              if b.kind == "qemu" and b.name != board.name and fits(b)]
    fixes = ([] if needs.quantized else ["quantize it (mtsrnn convert --quantize int8-wa, or "
                                   "mtsrnn.quantize(model, 'int8-wa'): about 4x fewer weight "
                                   "bytes)"])
    fixes += [f"use a larger board ({', '.join(larger)})"] if larger else []
    raise BoardError(f"{needs.name} does not fit {board.name} firmware: {'; '.join(over)}"
                     + (f": {' or '.join(fixes)}" if fixes else ""))


def firmware_max_block(board: Board, needs: ModelNeeds, block: int | None) -> int:
    """The max_block to build `board`'s firmware with for this model: the
    board's firmware limit (Board.max_block) when the model fits there, else
    `block` (the largest T the caller runs) when it fits at that T;
    otherwise the BoardError of check_firmware_fit at the limit (or at
    `block`, when the smaller T does not fit either)."""
    try:
        check_firmware_fit(board, needs)
        return board.max_block
    except BoardError:
        if block is None or block >= board.max_block:
            raise
    check_firmware_fit(board, needs, max_block=block)
    return block


def _select_last(session: Session, needs: ModelNeeds) -> ModelInfo:
    """The model a file put last in the device's list (mtsrnn-device
    --model, firmware built with it), selected, checked against the file."""
    device = session.device
    info = device.identify()
    chosen = info.models[-1]
    if (chosen.input, chosen.output, chosen.stages) != (needs.input, needs.output,
                                                         needs.stages):
        raise BoardError(f"the device's last model {chosen.name} is not {needs.name} (input "
                         f"{chosen.input}, output {chosen.output}, stages "
                         f"{','.join(chosen.stages)})")
    device.select(chosen.index)
    return chosen


def open_with_model(model: str | os.PathLike, board: str | None = None, *,
                    port: str | None = None, firmware: str | os.PathLike | None = None,
                    timeout: float = DEFAULT_TIMEOUT, baudrate: int = 115200,
                    device_args: list[str] | None = None, emulator_args: Any = None,
                    block: int | None = None, log: Any = None) -> PlacedModel:
    """Open `board` (or the board at `port`) running the model file `model`,
    selected with its state zero: uploaded when it fits the device's arena,
    else loaded by mtsrnn-device or built into QEMU firmware (see the
    module's text). `firmware` is the board's program to start (and to
    upload to); given, it is never rebuilt. `block` is the largest block
    size T the caller will run: firmware built for a board whose RAM cannot
    hold the model's workspace at the firmware's default T = 32 is built
    with max_block = `block` instead, and says so. `log` (a callable taking
    a str) hears what is done. Raises mtsrnn.ModelFileError for a file the loader
    rejects, UploadError when a board at a port cannot take the model,
    BoardError when firmware cannot hold it, HarnessError otherwise."""
    path = os.fspath(model)
    if not os.path.isfile(path):
        raise BoardError(f"{path}: no such file")
    needs = ModelNeeds.of(path)
    say = log or (lambda _text: None)
    target = get_board(board or DEFAULT_BOARD) if port is None else None
    stack = contextlib.ExitStack()
    try:
        try:
            session = stack.enter_context(open_board(
                board, port=port, firmware=firmware, timeout=timeout, baudrate=baudrate,
                device_args=device_args, emulator_args=emulator_args))
        except BoardError as error:
            # A QEMU board without built firmware: building it is the way on.
            if target is None or target.kind != "qemu" or firmware is not None:
                raise
            session, reason = None, f"its firmware does not start: {error}"
        if session is not None:
            info = session.device.identify()
            reason = upload_fit(info, needs) or ""
            if not reason:
                say(f"uploading {needs.name} ({len(needs.image)} bytes) into the arena of "
                    f"{info.board_name} ({info.arena} bytes)")
                chosen = session.device.upload(needs.image)
                return PlacedModel(session, chosen, "upload", needs, stack)
            if port is not None:
                raise UploadError(
                    f"{needs.name} does not fit the board at {port}: {reason}; a board at "
                    "a port runs the firmware it was flashed with: build firmware with the "
                    "model (cmake -DMTSRNN_FW_MODEL=...; docs/boards.md), flash it and pick "
                    "it with --index, or make the model smaller (--quantize int8-wa)")
            stack.close()
        assert target is not None
        if target.runs_linux_program:
            say(f"{needs.name} cannot be uploaded ({reason}): mtsrnn-device loads it "
                "(--model)")
            session = stack.enter_context(open_board(
                target.name, firmware=firmware, timeout=timeout,
                device_args=[*(device_args or []), "--model", path],
                emulator_args=emulator_args))
            return PlacedModel(session, _select_last(session, needs), "program", needs, stack)
        if target.kind != "qemu":
            raise BoardError(f"{target.name} is a real board: flash it, then give its port "
                             "with --port")
        if firmware is not None:
            raise UploadError(f"{needs.name} does not fit the upload arena of {firmware}: "
                              f"{reason}; without --firmware, firmware is built with it")
        max_block = firmware_max_block(target, needs, block)
        # Not "building": when the per-user cache has it, nothing is built
        # (build_firmware then says "using the cached firmware").
        say(f"{needs.name} cannot be uploaded ({reason}): {target.name} firmware with it, "
            "from the per-user cache or built now" + (
                f", max_block {max_block}: its workspace at T = {target.max_block} does not "
                "fit the RAM" if max_block != target.max_block else ""))
        elf = build_firmware(target, [path], log=log,
                             max_block=None if max_block == target.max_block else max_block)
        session = stack.enter_context(open_board(
            target.name, firmware=elf, timeout=timeout, emulator_args=emulator_args))
        return PlacedModel(session, _select_last(session, needs), "firmware", needs, stack)
    except BaseException:
        stack.close()
        raise
