"""Models uploaded over the line (docs/protocol.md, "Uploading a model",
protocol 2.1): what a model file needs of a device (`ModelNeeds`), whether
it fits a device's upload arena and buffers (`upload_fit`), and the
`upload` command (`Device.upload`: a mixin of Device, client.py, like
session.py's). Which way a model reaches a board (upload, firmware built
with it, or the Linux device program's --model) is placement.py.
"""

from __future__ import annotations

import dataclasses
import os
import time
import zlib
from dataclasses import dataclass
from typing import Any

from .lines import (
    DeviceError,
    DeviceInfo,
    HarnessError,
    ModelInfo,
    ProtocolError,
    check_timeout,
    encode_payload,
)
from .session import SessionLost


class UploadError(HarnessError):
    """A model cannot be uploaded to this device (no `upload` command, no
    arena, or the model does not fit it); the device was not asked."""


def _align16(n: int) -> int:
    return (n + 15) // 16 * 16


@dataclass(frozen=True)
class ModelNeeds:
    """What a model file needs of a device, from the C loader (`_core`)
    through mtsfile.read: the file's bytes, its stages, its state and frame
    sizes, and `workspace(block, steps)` (mts_model_workspace_size)."""

    name: str
    image: bytes
    stages: tuple[str, ...]
    input: int
    output: int
    state_floats: int
    weight_bytes: int
    quantized: bool  # some stage has int8 weights
    kernel: Any  # the loader's model (_core), for workspace sizes

    @classmethod
    def of(cls, model: str | os.PathLike | bytes | bytearray | memoryview,
           name: str | None = None) -> ModelNeeds:
        """Read and validate a model (a path or the bytes of an .mts file);
        mtsrnn.ModelFileError when the loader rejects it."""
        from .. import mtsfile

        if isinstance(model, (bytes, bytearray, memoryview)):
            image, default = bytes(model), "model"
        else:
            with open(model, "rb") as f:
                image = f.read()
            default = os.path.basename(os.fspath(model))
        contents = mtsfile.read(image)
        return cls(name=name or default, image=image,
                   stages=tuple(stage.cell for stage in contents.stages),
                   input=contents.input_size, output=contents.output_size,
                   state_floats=contents.kernel.state_floats,
                   weight_bytes=contents.tensor_bytes,
                   quantized=any(stage.quantization for stage in contents.stages),
                   kernel=contents.kernel)

    def workspace(self, block: int, steps: int) -> int:
        return int(self.kernel.workspace_size(block, steps))

    def arena_bytes(self, stage_descriptor: int) -> int:
        """Bytes of an arena half the upload takes: the file, then its stage
        descriptors (16-byte aligned; mts_device_upload.c)."""
        return _align16(len(self.image)) + len(self.stages) * stage_descriptor


def upload_support(info: DeviceInfo) -> str | None:
    """None when the device takes uploads, else why not, in words."""
    if info.protocol_minor < 1:
        return (f"the device speaks protocol 2.{info.protocol_minor}, which has no upload "
                "(2.1 has: build and flash firmware of this version)")
    if info.arena == 0:
        return "the device has no upload arena (arena=0)"
    return None


def upload_fit(info: DeviceInfo, needs: ModelNeeds) -> str | None:
    """None when `needs` fits the device's upload arena and its buffers (at
    its max_block and max_steps, as the device checks them), else why not,
    in words (e.g. "bytes of the arena (file and stage descriptors): needs
    120016, the device has 65536")."""
    unsupported = upload_support(info)
    if unsupported is not None:
        return unsupported
    limits = info.limits
    wanted = [
        ("bytes of the arena (file and stage descriptors)",
         needs.arena_bytes(limits.get("stage_descriptor", 0)), info.arena),
        (f"workspace bytes at T = {info.max_block}, {info.max_steps} steps",
         needs.workspace(info.max_block, info.max_steps), limits.get("workspace_bytes", 0)),
        ("state floats", needs.state_floats, limits.get("state_floats", 0)),
        (f"input floats ({info.max_steps} frames)", needs.input * info.max_steps,
         limits.get("input_floats", 0)),
        (f"output floats ({info.max_steps} frames)", needs.output * info.max_steps,
         limits.get("output_floats", 0)),
    ]
    over = [f"{what}: needs {need}, the device has {have}"
            for what, need, have in wanted if need > have]
    return "; ".join(over) if over else None


class Uploading:
    """The `upload` half of Device (client.py)."""

    def upload(self, model: str | os.PathLike | bytes | bytearray | memoryview, *,
               check: bool = True, timeout: float | None = None) -> ModelInfo:
        """Upload an .mts model (a path or the file's bytes) into the device's
        arena; on success the device selects it (its state zeroed) and the
        returned ModelInfo describes it (`id` asked again). `check` first
        validates the file with the host's loader and checks that it fits
        (UploadError, mtsrnn.ModelFileError); check=False sends any bytes
        (the device's loader judges them: tests). A refused upload (DeviceError
        e-upload, e-bad-args, e-payload) changes nothing on the device: the
        previous model stays selected, its state kept. An upload that fails
        otherwise (no reply) is settled by the next call: the previous model
        and state when the device still reports them, else SessionLost
        until select() or reset()."""
        info = self.info
        if check:
            needs = ModelNeeds.of(model)
            reason = upload_fit(info, needs)
            if reason is not None:
                raise UploadError(f"{needs.name} cannot be uploaded to {info.board_name}: "
                                  f"{reason}")
            image = needs.image
        else:
            if isinstance(model, (bytes, bytearray, memoryview)):
                image = bytes(model)
            else:
                with open(model, "rb") as f:
                    image = f.read()
            unsupported = upload_support(info)
            if unsupported is not None:
                raise UploadError(f"cannot upload to {info.board_name}: {unsupported}")
        # The uploaded model comes after the built-in ones.
        index = info.limits.get("built_in", len(info.models))
        crc = zlib.crc32(image)
        command = f"upload {len(image)} {crc:08x}"
        if timeout is None:
            from .lines import MAX_TIMEOUT, SEND_SECONDS_PER_BYTE

            timeout = min(MAX_TIMEOUT, self.timeout + 4 * len(image) * SEND_SECONDS_PER_BYTE)
        end = time.monotonic() + check_timeout(timeout)  # the whole call
        self._settle_upload(end)  # an earlier upload's outcome, if unknown
        dirty = self._dirty
        prior = self._session or self._device_session()
        before = self._changing(model=index)
        self._info = None  # the model list changes (or may have)
        try:
            lines = self.command(command, timeout=self._left(end, command),
                                 data=encode_payload(image))
        except DeviceError as error:
            if error.code in ("bad-args", "upload", "payload"):
                self._session, self._dirty = before, dirty  # refused: nothing changed
            else:
                self._lost_upload(prior, crc)  # e.g. e-check: settled by the next call
            raise
        except ProtocolError:
            self._lost_upload(prior, crc)
            raise
        done = [line for line in lines if line.kind == "m" and line.tag == "upload"]
        expected = {"index": str(index), "bytes": str(len(image)), "crc32": f"{crc:08x}"}
        if len(done) != 1 or any(done[0].fields.get(k) != v for k, v in expected.items()):
            self._lost_upload(prior, crc)
            raise ProtocolError(f"{command!r}: the reply does not confirm it: "
                                f"{[line.raw for line in lines]}")
        try:
            self._check_selected(index, [line for line in lines if line.tag != "upload"])
            self._confirm(zero=True)
            # Which model the device lists at the index: this file, by its CRC.
            uploaded = self.identify(timeout=self._left(end, "'id' after the upload")
                                     ).model(index)
            if uploaded.crc32 is not None and \
                    (uploaded.crc32, uploaded.bytes) != (crc, len(image)):
                raise ProtocolError(f"{command!r}: the device lists model {index} as a file "
                                    f"of {uploaded.bytes} bytes with CRC-32 "
                                    f"{uploaded.crc32:08x}, the upload sent {len(image)} "
                                    f"bytes with {crc:08x}")
            if check and (uploaded.input, uploaded.output, uploaded.stages) != \
                    (needs.input, needs.output, needs.stages):
                raise ProtocolError(f"{command!r}: the device describes the uploaded model "
                                    f"as {uploaded}, the file has input {needs.input}, "
                                    f"output {needs.output}, stages {','.join(needs.stages)}")
        except HarnessError:
            # The device switched, but this call raises: the caller must not
            # go on believing the previous model runs, nor unknowingly on
            # this one. Settled by the next call (SessionLost "did complete").
            self._lost_upload(prior, crc)
            raise
        self._unannounced = None  # the caller knows the file now
        return uploaded

    def _lost_upload(self, prior: Any, crc: int) -> None:
        """An upload whose outcome is unknown (no reply, a damaged one): the
        next call that selects, resets or runs a model settles it first
        (_settle_upload). Until then the session is the one before the
        upload, never zero (re-selecting the upload's index could run
        either file)."""
        self._need_sync = True
        self._dirty = True
        self._upload_pending = (crc, prior)
        if prior is not None:
            self._session = dataclasses.replace(prior, zero=False)

    def _settle_upload(self, end: float) -> None:
        """After an upload whose outcome is unknown, before the next call: the
        device's m-ready unchanged (model, variant, state: an upload that
        switches moves the state on) means the upload never switched, and
        the session goes on with the previous model and state. Otherwise
        `id` tells which file the upload index holds (its crc32=): the host
        knows it from now on, and the caller is told (SessionLost, once) by
        the first call that would run or select that index (_announce)."""
        pending = self._upload_pending
        if pending is None:
            return
        crc, prior = pending
        if self._need_sync:
            self.resync(timeout=self._left(end, "resynchronising"))
        have = self._device_session()
        if prior is not None and have is not None and \
                (have.model, have.variant, have.state) == (prior.model, prior.variant,
                                                           prior.state):
            self._upload_pending = None
            self._session, self._dirty = prior, False  # it never switched
            return
        info = self.identify(timeout=self._left(end, "asking which file the device holds"))
        self._upload_pending = None
        index = info.limits.get("built_in", len(info.models))
        held = [m for m in info.models if m.index == index]
        if held and held[0].crc32 == crc:
            self._unannounced = index, (
                f"an upload whose reply was lost did complete: model {index} is that file "
                f"(crc32 {crc:08x}), not the model this session had; reset() or select() to "
                "go on with it, or upload the previous model again")
        else:
            holds = (f"a file with crc32 {held[0].crc32:08x}"
                     if held and held[0].crc32 is not None else "no uploaded file")
            self._unannounced = index, (
                f"after an upload whose reply was lost the device reports {self.status}, "
                f"not the session's model and state ({prior}) nor the upload (model {index} "
                f"holds {holds}); reset() or select() to start again")

    def _announce(self, index: int | None) -> None:
        """Raise SessionLost once, naming what _settle_upload found, before a
        call runs or selects the upload index (`index`; None: the selected
        model, as the device reports it)."""
        if self._unannounced is None:
            return
        if index is None:
            have = self._device_session()
            index = have.model if have is not None else None
        uploaded, message = self._unannounced
        if index is not None and index != uploaded:
            return
        self._unannounced = None
        raise SessionLost(message)
