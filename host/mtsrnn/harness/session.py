"""What a Device session has confirmed the device runs on (model, variant,
state generation), and how a call re-establishes it after a failure
(docs/protocol.md, "What the host guarantees", 5). A mixin of Device
(client.py): it uses the Device's command(), resync() and status.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from .lines import DeviceError, ProtocolError


class SessionLost(ProtocolError):
    """The device's state is no longer the one the host confirmed (an infer
    ran but its reply was lost, or another client changed it): call reset()
    or select() to start again from a known state."""


@dataclass
class _Session:
    """What the host last confirmed the device runs on: model, variant, the
    state's generation, and whether that state is the zero state (after
    model, reset, bench or selftest) and so can be re-established."""

    model: int
    variant: str
    state: int | None  # None: unknown (a reset or select that failed)
    zero: bool


class SessionTracking:
    """The session half of Device (client.py)."""

    # ---- the session: what the device runs on ---------------------------------
    def _device_session(self) -> _Session | None:
        """The model, variant and state the last m-ready reported."""
        try:
            return _Session(int(self.status["model"]), self.status["variant"],
                            int(self.status["state"]), zero=False)
        except (KeyError, ValueError):
            return None  # a device answering e-init: no selection to speak of

    def _confirm(self, zero: bool) -> None:
        """The device's state (the last m-ready) is now the one the caller has."""
        self._session = self._device_session()
        if self._session is not None:
            self._session.zero = zero
        self._dirty = False

    def _changing(self, model: int | None = None, variant: str | None = None,
                  zero: bool = False) -> _Session | None:
        """A command that changes the selection or state is about to be sent:
        until it is confirmed, the session is unsynchronised, and what the
        caller wants is recorded (so the next call can re-establish it).
        Returns the session as it was (see _refused)."""
        self._dirty = True
        before = self._session
        # Before the first confirmed call: start from what the device runs on.
        s = before if before is not None else self._device_session()
        if s is None:
            return before
        self._session = s = dataclasses.replace(s)
        if model is not None:
            s.model, zero = model, True
        if variant is not None:
            s.variant = variant
        if zero:
            s.state, s.zero = None, True
        return before

    def _refused(self, error: DeviceError, before: _Session | None, dirty: bool) -> None:
        """A command the device understood and refused (e-bad-args: no such
        model or variant) changed nothing: the session is as it was. Any
        other failure (a damaged command, e-check, no reply) leaves what the
        caller asked for to be re-established."""
        if error.code == "bad-args":
            self._session, self._dirty = before, dirty

    def _left(self, end: float, what: str) -> float:
        """The seconds left until `end`, the deadline of the whole call."""
        left = end - time.monotonic()
        if left <= 0:
            self._need_sync = True
            raise ProtocolError(f"{what}: no time left of the call's timeout")
        return left

    def _settle(self, end: float) -> None:
        """Before a command that runs on the selection or the state: make sure
        the device runs on the model, variant and state the host confirmed;
        re-establish them after a failure, or raise SessionLost. Done by
        `end`, the deadline of the whole call."""
        self._settle_upload(end)  # upload.py: an upload whose outcome is unknown
        self._announce(self._session.model if self._session is not None else None)
        if self._need_sync:
            self.resync(timeout=self._left(end, "resynchronising"))
        want, have = self._session, self._device_session()
        if have is None:
            return
        if want is None:  # the first call: take the device as it is
            self._session, self._dirty = have, False
            return
        if (have.model, have.variant, have.state) == (want.model, want.variant, want.state):
            self._dirty = False
            return
        if not want.zero:
            raise SessionLost(
                f"the device's state is no longer the one this session confirmed (model "
                f"{want.model}, variant {want.variant}, state {want.state}; the device "
                f"reports model {have.model}, variant {have.variant}, state {have.state}): "
                "an earlier command failed after changing it; reset() or select() to start "
                "again")
        # The caller wants the zero state of a model: select it again (which
        # zeroes its state), then its variant.
        self._trace("  (re-establishing)", f"model {want.model} variant {want.variant}")
        self._dirty = True
        lines = self.command(f"model {want.model}", timeout=self._left(end, "re-establishing"))
        self._check_selected(want.model, lines)
        if self.status.get("variant") != want.variant:
            self._variant_command(want.variant, self._left(end, "re-establishing"))
        have = self._device_session()
        if have is None or (have.model, have.variant) != (want.model, want.variant):
            raise SessionLost(f"cannot re-establish model {want.model} with variant "
                              f"{want.variant}: the device reports {self.status}")
        want.state = have.state
        self._dirty = False
