"""The variant commands (docs/protocol.md, "Variants" and "Versions") against
the real mtsrnn-device: `variant` lists and selects, `bench ... variant=`
measures one, `selftest` names them; the protocol 1.0 alias `kernel` (and
`kernel=`) answers in 1.0's words and shares the choice (conftest.py says
how the device is run)."""

from __future__ import annotations

import pytest

from .conftest import DEMOS, MAX_BLOCK, NEEDS_DEVICE, fields

pytestmark = NEEDS_DEVICE


def listed(reply: list[str], tag: str) -> list[str]:
    """The names of the `m-<tag>` lines, checked to be indexed 0, 1, ..."""
    lines = [fields(line, f"m-{tag}") for line in reply[:-1]]
    assert [line["index"] for line in lines] == [str(i) for i in range(len(lines))], reply
    return [line["name"] for line in lines]


def test_variant_lists_and_selects(device):
    reply = device.command("variant")
    names = listed(reply, "variant")
    assert len(names) >= 2 and len(set(names)) == len(names), reply
    assert "reference" in names and "tiled" in names
    assert reply[-1] == f"m-selected-variant index=0 name={names[0]}"
    assert device.command(f"variant {names[1]}") == [f"m-selected-variant index=1 name={names[1]}"]
    assert device.command("variant")[-1] == f"m-selected-variant index=1 name={names[1]}"
    # The choice is by name and survives a change of model.
    assert device.command("model 1") == ["m-selected index=1"]
    assert device.command("model 0") == ["m-selected index=0"]
    assert device.command("variant")[-1] == f"m-selected-variant index=1 name={names[1]}"


def test_kernel_alias_answers_in_1_0_words(device):
    variant = device.command("variant")
    kernel = device.command("kernel")
    assert kernel == [line.replace("m-variant ", "m-kernel ")
                      .replace("m-selected-variant ", "m-selected-kernel ") for line in variant]
    names = listed(kernel, "kernel")
    last = len(names) - 1
    # One choice, whichever word made it.
    assert device.command(f"kernel {names[last]}") == \
        [f"m-selected-kernel index={last} name={names[last]}"]
    assert device.command("variant")[-1] == f"m-selected-variant index={last} name={names[last]}"
    assert device.command(f"variant {names[0]}") == [f"m-selected-variant index=0 name={names[0]}"]
    assert device.command("kernel")[-1] == f"m-selected-kernel index=0 name={names[0]}"


@pytest.mark.parametrize("text,error", [
    ("variant nosuch", "e-bad-args no variant nosuch for model 0 (`variant` lists them)"),
    ("variant tiled x", "e-bad-args variant takes no argument or a variant name"),
    ("variant ", "e-bad-args no variant  for model 0 (`variant` lists them)"),
    ("kernel nosuch", "e-bad-args no kernel nosuch for model 0 (`kernel` lists its products)"),
    ("kernel tiled x", "e-bad-args kernel takes no argument or a kernel name"),
    ("bench 1 variant=nosuch",
     "e-bad-args no variant nosuch for model 0 (`variant` lists them)"),
    ("bench 1 kernel=nosuch",
     "e-bad-args no kernel nosuch for model 0 (`kernel` lists its products)"),
])
def test_unknown_variant_changes_nothing(device, text, error):
    before = device.command("variant")
    assert device.command(text) == [error]
    assert device.command("variant") == before


@pytest.mark.parametrize("text", ["bench 1 variant=tiled variant=tiled",
                                  "bench 1 variant=tiled kernel=tiled",
                                  "bench 1 kernel=tiled variant=tiled",
                                  "bench 1 variants=tiled", "bench 1 kernels=tiled"])
def test_bench_takes_one_variant_option(device, text):
    assert device.command(text) == [
        "e-bad-args bench needs <T1,T2,...> [steps=<n>] [variant=<name>] [product=1] "
        "[peer=<name>], T in 1..max_block, n in 1..max_steps"]


@pytest.mark.parametrize("option", ["variant", "kernel"])
def test_bench_with_a_variant_keeps_the_choice(device, option):
    names = listed(device.command("variant"), "variant")
    reply = device.command(f"bench 1,4 steps=8 {option}={names[-1]}")
    assert [fields(line, "m-bench")["block"] for line in reply] == ["1", "4"]
    assert all(int(fields(line, "m-bench")["ns"]) > 0 for line in reply)
    assert device.command("variant")[-1] == f"m-selected-variant index=0 name={names[0]}"


def test_selftest_names_variants(device):
    offered = []
    for index in range(len(DEMOS)):
        device.command(f"model {index}")
        offered.append(listed(device.command("variant"), "variant"))
    device.command("model 0")
    reply = device.command("selftest")
    assert len(reply) == len(DEMOS)
    for index, line in enumerate(reply):
        values = fields(line, "m-selftest")
        assert list(values) == ["index", "name", "max_abs_err", "tolerance", "variants",
                                "block", "steps", "worst_variant", "result"], line
        assert values["block"] == str(MAX_BLOCK)
        assert values["variants"] == str(len(offered[index]))
        assert values["worst_variant"] in offered[index]
