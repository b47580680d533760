"""Protocol 2's checks against the real mtsrnn-device (docs/protocol.md,
"Checks"): every line the device sends carries the CRC-32 of its text (the
conftest client verifies each one), a command may carry one and must once
the device is in checked mode, a damaged command is refused and never run,
and replies name what produced them (model, variant, T, state generation)."""

from __future__ import annotations

import numpy as np

from .conftest import (
    NEEDS_DEVICE,
    checked,
    crc_hex,
    encode_payload,
    fields,
    frames,
    infer,
)

pytestmark = NEEDS_DEVICE


def test_ready_names_model_variant_state_and_the_line_it_answers(device):
    assert device.command("") == []
    assert set(device.ready) == {"model", "variant", "state", "re"}
    assert device.ready["re"] == "-" and device.ready["model"] == "0"
    state = int(device.ready["state"])
    assert device.command("model 1") == ["m-selected index=1"]
    assert device.ready["model"] == "1" and int(device.ready["state"]) == state + 1
    assert device.command("reset") == ["m-reset"]
    assert int(device.ready["state"]) == state + 2
    assert device.command(checked("reset")) == ["m-reset"]
    assert device.ready["re"] == crc_hex(b"reset")
    reply = device.command(checked("variant tiled"))
    assert len(reply) == 1 and reply[0].endswith(" name=tiled")
    assert device.ready["variant"] == "tiled"


def test_a_damaged_command_is_refused_not_run(device):
    assert device.command(checked("model 0")) == ["m-selected index=0"]
    state = device.ready["state"]
    # `model 0` with its check, one bit flipped on the way: `model 1`.
    damaged = checked("model 0").replace("model 0", "model 1")
    reply = device.command(damaged)
    assert len(reply) == 1 and reply[0].startswith("e-check mismatch: the line model ")
    assert reply[0].endswith("; not executed")
    assert device.ready["model"] == "0" and device.ready["state"] == state
    assert device.ready["re"] == damaged[-8:]   # the check it carried: the host pairs it
    # `reset` damaged into `reseu`: refused, the state untouched.
    reply = device.command(checked("reset").replace("reset", "reseu"))
    assert reply[0].startswith("e-check mismatch") and device.ready["state"] == state


def test_checked_mode_refuses_unchecked_commands_until_interactive(device):
    assert device.command("model 1") == ["m-selected index=1"]   # interactive at boot
    assert device.command(checked("id"))[0].startswith("m-fw ")  # now checked mode
    reply = device.command("model 0")
    assert reply == ["e-check missing: in checked mode a command ends with #<crc32>; not "
                     "executed: model"]
    assert device.ready["model"] == "1"
    # A check that is not 8 hex digits is no check.
    assert device.command("reset #1234567g")[0].startswith("e-check missing")
    assert device.command(checked("interactive")) == ["m-interactive"]
    assert device.command("model 0") == ["m-selected index=0"]


def test_replies_name_what_produced_them(device, demo_models):
    model = demo_models["demo_qrnn"]
    device.command("model 1")
    device.command("variant reference")
    x = frames(np.random.default_rng(9), 3, model.input_size)
    start = int(device.ready["state"])
    infer(device, x, 2, model.output_size)
    data = x.astype("<f4").tobytes()
    reply = device.command(f"infer 3 2 {len(data)} {crc_hex(data)}", encode_payload(data))
    assert fields(reply[0], "m-infer") == {"model": "1", "variant": "reference", "block": "2",
                                           "steps": "3", "from": str(start + 1),
                                           "state": str(start + 2)}
    rows = [fields(line, "m-bench") for line in device.command("bench 1,4 steps=3 variant=tiled")]
    assert [(r["model"], r["variant"], r["block"], r["steps"]) for r in rows] == \
        [("1", "tiled", "1", "3"), ("1", "tiled", "4", "3")]
    assert device.ready["variant"] == "reference"  # bench variant= does not choose


def test_every_reply_line_fits_with_its_check(device):
    """The longest lines (selftest, id) keep every field and their check."""
    for command in ("id", "selftest", "variant"):
        for line in device.command(command):
            assert "=" in line and len(line) < 240, line
