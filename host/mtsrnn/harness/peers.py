"""Bench-only peers (docs/protocol.md, "Peers"; protocol 2.2): products a
device measures beside its int8-wa variants (`bench ... peer=<name>`) but
never runs a model with otherwise: their outputs are not the model's. The
Cortex-M firmware built with CMSIS-DSP offers `cmsis-dsp-q7`, CMSIS-DSP's
arm_mat_vec_mult_q7 once per time step, whose outputs are the int8-wa
product's int32 sums shifted right by 7 and saturated to q7.

    for peer in list_peers(device):           # [] on a device without peers
        device.bench([1, 16], peer=peer.name)  # its cost beside the variants
    probe(device, "cmsis-dsp-q7")["y"]         # its output on the fixed probe
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .lines import DeviceError, ProtocolError

# What a peer's outputs are, as the reports say it; a peer not named here
# gets the generic note.
PEER_OUTPUTS = {
    "cmsis-dsp-q7": "q7 outputs (the int32 sums >> 7, saturated to -128..127), not the "
                    "int8-wa product's: compare its cost only",
}
GENERIC_OUTPUT = "a bench-only peer: its outputs are not the model's; compare its cost only"


@dataclass(frozen=True)
class PeerInfo:
    """A bench-only peer a device offers (`peer`)."""

    index: int
    name: str
    weights: str  # the scheme whose product it replaces: int8-wa


def peer_output(name: str) -> str:
    """What the peer `name` computes instead of the model's product."""
    return PEER_OUTPUTS.get(name, GENERIC_OUTPUT)


def list_peers(device) -> list[PeerInfo]:
    """The peers `device` (a harness Device) offers: [] for a device older
    than protocol 2.2 or without any."""
    if device.info.protocol_minor < 2:
        return []
    try:
        lines = device.command("peer")
    except DeviceError as error:
        if error.code == "unknown-command":
            return []
        raise
    peers = []
    for line in lines:
        if line.kind != "m" or line.tag != "peer" or not line.fields.get("name"):
            raise ProtocolError(f"'peer': expected m-peer lines, got {line.raw!r}")
        peers.append(PeerInfo(line.int("index"), line.fields["name"],
                              line.fields.get("weights", "")))
    return peers


def probe(device, name: str) -> dict[str, Any]:
    """The peer `name` on the device's fixed probe (`peer <name>`): rows,
    depth, steps and y, the (steps, rows) outputs (integers when the peer
    computes q7 results; docs/protocol.md gives the probe's inputs)."""
    lines = device.command(f"peer {name}")
    if len(lines) != 1 or lines[0].tag != "peer-probe" or lines[0].fields.get("name") != name:
        raise ProtocolError(f"'peer {name}': expected one m-peer-probe line, got "
                            f"{[line.raw for line in lines]}")
    line = lines[0]
    rows, depth, steps = line.int("rows"), line.int("depth"), line.int("steps")
    try:
        y = np.array([float(v) for v in line["y"].split(",")], dtype=np.float64)
    except (KeyError, ValueError):
        raise ProtocolError(f"'peer {name}': malformed y= in {line.raw!r}") from None
    if y.size != rows * steps:
        raise ProtocolError(f"'peer {name}': {y.size} outputs, expected {steps} x {rows}")
    return {"rows": rows, "depth": depth, "steps": steps, "y": y.reshape(steps, rows)}
