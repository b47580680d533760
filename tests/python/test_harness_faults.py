"""The harness through a link that damages bytes (fault_link.py: a proxy on
127.0.0.1 that flips, drops and inserts bytes in both directions, seeded and
bounded), against the Linux device program and one QEMU board: no wrong
result is accepted (outputs against the host model, bench and selftest text
against a fault-free run), every failure is a HarnessError with a message,
and no call outlasts its timeout. Also the issue's two regression scenarios:
a `model 0` flipped into `model 1`, a `reset` damaged into `reseu`, and an
infer whose reply is lost. Counts are printed (pytest -s)."""

from __future__ import annotations

import contextlib
import importlib.util
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

serial = pytest.importorskip("serial", reason="the harness needs pyserial")

from fault_link import FaultLink  # noqa: E402
from harness_devices import DEVICE_PROGRAM, _firmware, needs_device, needs_qemu  # noqa: E402
from mtsrnn.harness import BOARDS, Device, DeviceError, HarnessError  # noqa: E402
from mtsrnn.harness.client import SessionLost  # noqa: E402
from mtsrnn.harness.launch import qemu_command  # noqa: E402
from mtsrnn.harness.peers import list_peers, probe  # noqa: E402
from mtsrnn.harness.processes import ChildProcess, free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TOL = 1e-4
SLACK = 0.5  # seconds a call may take beyond its timeout (scheduling)


def _demo_twins() -> dict:
    spec = importlib.util.spec_from_file_location(
        "make_demo_models", ROOT / "firmware" / "common" / "make_demo_models.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {name: make() for name, make in module.DEMO_MODELS.items()}


@contextlib.contextmanager
def _linux_device():
    """mtsrnn-device on a TCP port; yields the port."""
    port = free_port()
    child = ChildProcess([DEVICE_PROGRAM, "--tcp", str(port)], "mtsrnn-device",
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        yield port
    finally:
        child.close()


@contextlib.contextmanager
def _qemu_device(board: str):
    port = free_port()
    child = ChildProcess(qemu_command(BOARDS[board], _firmware(board), port), "qemu",
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        yield port
    finally:
        child.close()


@contextlib.contextmanager
def _through_link(port: int, seed: int, rate: float = 0.0, max_faults: int = 0,
                  timeout: float = 2.0):
    with FaultLink(port, seed=seed, rate=rate, max_faults=max_faults) as link:
        link.enabled = False  # a clean start
        dev = Device.open(link.url, timeout=timeout, connect_timeout=20.0)
        try:
            yield dev, link
        finally:
            dev.close()


def _x(rng, steps: int, width: int) -> np.ndarray:
    return rng.standard_normal((steps, width)).astype(np.float32)


# ------------------------------------------------------ the scenarios

@needs_device
def test_flipped_model_command_is_refused_and_the_next_call_reestablishes():
    twins = _demo_twins()
    rng = np.random.default_rng(1)
    with _linux_device() as port, _through_link(port, seed=1) as (dev, link):
        info = dev.identify()
        sru, qrnn = (twins[info.models[i].name] for i in (0, 1))
        dev.select(1)
        dev.infer(_x(rng, 3, 64), block=2)          # model 1 with a non-zero state
        link.rewrite("to-device", b"model 0", b"model 1")  # one bit: '0' -> '1'
        with pytest.raises(DeviceError) as caught:
            dev.select(0)
        assert caught.value.code == "check" and "not executed" in caught.value.reason
        # The caller carries on: the host selects model 0 again first.
        x = _x(rng, 4, 64)
        h, _ = dev.infer(x, block=2)
        np.testing.assert_allclose(h, sru.forward(x, block=2)[0], atol=TOL, rtol=0)
        assert dev.status["model"] == "0"
        assert not np.allclose(h, qrnn.forward(x, block=2)[0], atol=TOL)


@needs_device
def test_a_damaged_first_select_is_reestablished_too():
    """The session's very first call fails: the next still runs on the model
    asked for, not on whatever the device had selected."""
    twins = _demo_twins()
    with _linux_device() as port, _through_link(port, seed=5) as (dev, link):
        qrnn = twins[dev.identify().models[1].name]
        link.rewrite("to-device", b"model 1", b"model 0")
        with pytest.raises(DeviceError):
            dev.select(1)
        x = _x(np.random.default_rng(5), 3, 64)
        h, _ = dev.infer(x, block=3)
        np.testing.assert_allclose(h, qrnn.forward(x, block=3)[0], atol=TOL, rtol=0)


@needs_device
def test_reset_damaged_into_reseu_is_refused_and_the_next_call_reestablishes():
    twins = _demo_twins()
    rng = np.random.default_rng(2)
    with _linux_device() as port, _through_link(port, seed=2) as (dev, link):
        sru = twins[dev.identify().models[0].name]
        dev.select(0)
        dev.infer(_x(rng, 5, 64), block=4)          # a non-zero state
        link.rewrite("to-device", b"reset", b"reseu")
        with pytest.raises(DeviceError) as caught:
            dev.reset()
        assert caught.value.code == "check"
        x = _x(rng, 3, 64)
        h, _ = dev.infer(x, block=1)                 # from zeros, not the stale state
        np.testing.assert_allclose(h, sru.forward(x, block=1)[0], atol=TOL, rtol=0)


@needs_device
def test_a_lost_infer_reply_makes_the_next_infer_raise_until_reset():
    twins = _demo_twins()
    rng = np.random.default_rng(3)
    with _linux_device() as port, _through_link(port, seed=3) as (dev, link):
        sru = twins[dev.identify().models[0].name]
        dev.select(0)
        first = _x(rng, 2, 64)
        dev.infer(first, block=2)
        link.rewrite("to-host", b"m-payload", b"m-paylaod")  # the reply damaged
        with pytest.raises(HarnessError):
            dev.infer(_x(rng, 2, 64), block=2)       # it ran: the state moved on
        with pytest.raises(SessionLost, match="reset"):
            dev.infer(_x(rng, 2, 64), block=2)
        with pytest.raises(SessionLost):             # whatever the caller does
            dev.infer(_x(rng, 2, 64), block=2)
        dev.reset()
        h, _ = dev.infer(first, block=2)
        np.testing.assert_allclose(h, sru.forward(first, block=2)[0], atol=TOL, rtol=0)


@needs_device
def test_a_damaged_command_is_shown_not_turned_into_a_bare_timeout():
    with _linux_device() as port, _through_link(port, seed=4, timeout=1.0) as (dev, link):
        dev.identify()
        link.rewrite("to-device", b"reset #", b"reset!#")   # its check unreadable
        start = time.monotonic()
        with pytest.raises(HarnessError, match="e-check missing") as caught:
            dev.reset()
        assert time.monotonic() - start < 1.0 + SLACK
        assert "damaged on the way" in str(caught.value)
        dev.reset()


# ------------------------------------------------------------ random faults

class _CallBounds:
    """Every call through the damaging link must end within its bound (its
    limit plus SLACK); the worst fraction of a bound seen goes into the
    counts when the link is switched off."""

    def __init__(self, link: FaultLink) -> None:
        self.link = link
        self.worst = 0.0

    def check(self, what: str, start: float, limit: float) -> None:
        elapsed = time.monotonic() - start
        self.worst = max(self.worst, elapsed / limit)
        assert elapsed <= limit + SLACK, f"{what} took {elapsed:.2f} s, bound {limit:.2f} s"

    def finish(self, counts: dict) -> dict:
        self.link.enabled = False
        counts["faults"] = self.link.injected
        counts["worst_fraction_of_bound"] = round(self.worst, 2)
        return counts


def _hammer(dev: Device, link: FaultLink, twins: dict, calls: int, seed: int,
            blocks: list[int], bench_exact: bool) -> dict:
    """`calls` random calls through the damaging link; returns the counts.
    The reference mirrors what the host promises: after a failed reset,
    select, bench or selftest the next infer runs from zeros; after a
    failed infer from the state before it, or raises SessionLost."""
    rng = np.random.default_rng(seed)
    info = dev.identify()
    models = [m for m in info.models if m.name in twins][:2]
    dev.select(models[0].index)
    baseline_selftest = dev.selftest()
    baseline_bench = {m.index: None for m in models}
    for m in models:
        dev.select(m.index)
        baseline_bench[m.index] = dev.bench(blocks, steps=4)
    # A bench-only peer's probe (protocol 2.2), where the firmware has one:
    # it never touches the state.
    peer_names = [p.name for p in list_peers(dev)]
    baseline_probe = {name: probe(dev, name)["y"].tolist() for name in peer_names}
    current = models[0]
    dev.select(current.index)
    state = twins[current.name].initial_state()
    counts = {"calls": 0, "failed": 0, "wrong": 0, "session_lost": 0}
    bounds = _CallBounds(link)
    link.enabled = True
    for _ in range(calls):
        op = rng.choice(["infer"] * 5 + ["reset", "select", "bench", "selftest"]
                        + (["peer"] if peer_names else []))
        twin = twins[current.name]
        counts["calls"] += 1
        start = time.monotonic()
        try:
            if op == "infer":
                x = _x(rng, int(rng.integers(1, 5)), current.input)
                block = int(rng.integers(1, 5))
                limit = dev.timeout + 4 * x.nbytes / 10000
                h, _ = dev.infer(x, block=block)
                expected, new_state = twin.forward(x, state, block=block)
                if not np.allclose(h, expected, atol=TOL, rtol=0):
                    counts["wrong"] += 1
                state = new_state
            elif op == "reset":
                limit = dev.timeout
                state = twin.initial_state()  # wanted, whatever happens
                dev.reset()
            elif op == "select":
                current = models[int(rng.integers(len(models)))]
                state = twins[current.name].initial_state()
                limit = dev.timeout
                dev.select(current.index)
            elif op == "bench":
                state = twin.initial_state()
                limit = dev.timeout * (1 + len(blocks))
                rows = dev.bench(blocks, steps=4)
                expected_rows = baseline_bench[current.index]
                same = [(r["block"], r["steps"], set(r)) for r in rows] == \
                    [(r["block"], r["steps"], set(r)) for r in expected_rows]
                if not same or (bench_exact and rows != expected_rows):
                    counts["wrong"] += 1
            elif op == "peer":
                limit = dev.timeout
                name = peer_names[int(rng.integers(len(peer_names)))]
                if probe(dev, name)["y"].tolist() != baseline_probe[name]:
                    counts["wrong"] += 1
            else:
                state = twin.initial_state()
                limit = dev.timeout * 3
                if dev.selftest() != baseline_selftest:
                    counts["wrong"] += 1
        except SessionLost:
            counts["failed"] += 1
            counts["session_lost"] += 1
        except HarnessError as error:
            counts["failed"] += 1
            assert str(error), "an error without a message"
        bounds.check(op, start, limit)
    return bounds.finish(counts)


@needs_device
def test_random_faults_on_the_linux_device():
    twins = _demo_twins()
    with _linux_device() as port, \
            _through_link(port, seed=11, rate=1e-4, max_faults=400, timeout=1.0) as (dev, link):
        counts = _hammer(dev, link, twins, calls=200, seed=11, blocks=[1, 4],
                         bench_exact=False)
    print(f"\nfault link, linux device: {counts}, by direction {link.counts}")
    assert counts["wrong"] == 0, counts
    assert counts["faults"] >= 20 and counts["failed"] >= 5, counts  # faults did happen


@needs_qemu[0]
@needs_qemu[1]
def test_random_faults_on_a_qemu_board():
    board = "qemu-mps2-an386"
    twins = _demo_twins()
    with _qemu_device(board) as port, \
            _through_link(port, seed=12, rate=1e-4, max_faults=200, timeout=4.0) as (dev, link):
        counts = _hammer(dev, link, twins, calls=30, seed=12, blocks=[1, 8],
                         bench_exact=True)   # instruction counts are deterministic
    print(f"\nfault link, {board}: {counts}, by direction {link.counts}")
    assert counts["wrong"] == 0, counts
    assert counts["faults"] >= 3, counts


# ------------------------------------------------------- uploads under faults

def _head_like(seed: int):
    """A whole model of demo_head's shape (norm, SRU, dense relu, dense,
    softmax) with other weights: a wrong one of the two cannot pass."""
    import mtsrnn

    rng = np.random.default_rng(seed)
    return mtsrnn.sequential(
        mtsrnn.norm(rng.uniform(0.5, 2.0, 16), rng.normal(0.0, 0.1, 16)),
        mtsrnn.random_sru(16, 48, num_layers=1, seed=seed),
        mtsrnn.dense(rng.normal(0.0, 0.2, (32, 48)), rng.normal(0.0, 0.1, 32),
                     activation="relu"),
        mtsrnn.dense(rng.normal(0.0, 0.3, (8, 32)), rng.normal(0.0, 0.1, 8)),
        mtsrnn.softmax(8))


@needs_device
def test_random_faults_during_uploads_on_the_linux_device():
    """Uploads of two whole models of one shape, alternating, through the
    damaging link, each followed by an infer: every accepted output is the
    model the host believes is loaded (the last upload that succeeded); an
    upload whose outcome is unknown makes the next infer raise SessionLost
    unless the device still runs the previous model."""
    import mtsrnn

    models = [_head_like(21), _head_like(22)]
    images = [bytes(m.image) for m in models]
    twins = [mtsrnn.load(image) for image in images]
    rng = np.random.default_rng(13)
    counts = {"uploads": 0, "upload_failed": 0, "infers": 0, "failed": 0, "wrong": 0,
              "session_lost": 0}
    with _linux_device() as port, \
            _through_link(port, seed=13, rate=1e-5, max_faults=300, timeout=1.0) as (dev, link):
        dev.upload(images[0])
        current = 0
        link.enabled = True
        for step in range(40):
            target = (current + 1) % 2 if step % 3 else current  # some re-uploads of the same
            counts["uploads"] += 1
            try:
                dev.upload(images[target])
                current = target
            except HarnessError as error:
                counts["upload_failed"] += 1
                assert str(error)
            counts["infers"] += 1
            x = _x(rng, 3, 16)
            try:
                dev.reset()
                h, _ = dev.infer(x, block=2)
                if not np.allclose(h, twins[current].forward(x, block=2)[0], atol=TOL, rtol=0):
                    counts["wrong"] += 1
            except SessionLost:
                counts["session_lost"] += 1
                link.enabled = False  # the caller starts again from a known model
                dev.upload(images[current])
                link.enabled = True
            except HarnessError as error:
                counts["failed"] += 1
                assert str(error)
        link.enabled = False
        counts["faults"] = link.injected
        dev.reset()  # the device still answers, on the model the host knows
        x = _x(rng, 4, 16)
        h, _ = dev.infer(x, block=4)
        np.testing.assert_allclose(h, twins[current].forward(x, block=4)[0], atol=TOL, rtol=0)
    print(f"\nfault link, uploads to the linux device: {counts}, by direction {link.counts}")
    assert counts["wrong"] == 0, counts
    assert counts["faults"] >= 10 and counts["upload_failed"] >= 3, counts


# --------------------------------------------- eval and uploads under faults

EVAL_INPUT, EVAL_CLASSES = 6, 4


def _classifier(seed: int):
    """A whole classifier (norm, SRU, dense relu, dense); two seeds give two
    models of one shape, so running the wrong one cannot pass."""
    import mtsrnn

    rng = np.random.default_rng(seed)
    return mtsrnn.sequential(
        mtsrnn.norm(rng.uniform(0.5, 2.0, EVAL_INPUT), rng.normal(0.0, 0.5, EVAL_INPUT)),
        mtsrnn.random_sru(EVAL_INPUT, 12, num_layers=1, seed=seed),
        mtsrnn.dense(rng.normal(0.0, 0.5, (12, 12)), rng.normal(0.0, 0.1, 12),
                     activation="relu"),
        mtsrnn.dense(rng.normal(0.0, 0.5, (EVAL_CLASSES, 12)), np.zeros(EVAL_CLASSES)))


def _eval_data(seed: int, count: int = 6, longest: int = 20):
    from mtsrnn.evaluate import dataset

    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, longest + 1, count)
    x = np.zeros((count, longest, EVAL_INPUT), np.float32)
    for i, n in enumerate(lengths):
        x[i, :n] = rng.standard_normal((n, EVAL_INPUT))
    return dataset(x, rng.integers(0, EVAL_CLASSES, count), lengths)


def _hammer_eval(dev: Device, link: FaultLink, runs: int, seed: int, block: int) -> dict:
    """`runs` rounds through the damaging link, each an upload of one of two
    classifiers of one shape (alternating, some re-uploads of the same),
    then an evaluation of the data set on the device (evaluate.device_outputs:
    reset, then infer in pieces, per sequence). The host believes the last
    upload that returned; an upload whose reply was lost is settled by the
    next call (SessionLost, after which the caller uploads its model again).
    Every evaluation that completes must give the believed model's outputs
    and scores; every failure a HarnessError with a message; no upload or
    evaluation past its bound."""
    import mtsrnn
    from mtsrnn.evaluate import device_outputs, host_outputs, score

    models = [_classifier(31 + seed), _classifier(32 + seed)]
    images = [bytes(m.image) for m in models]
    data = _eval_data(seed)
    expected = [host_outputs(mtsrnn.load(image), data, block) for image in images]
    scores = [score(outputs, data, EVAL_CLASSES) for outputs in expected]
    counts = {"uploads": 0, "upload_failed": 0, "evals": 0, "eval_failed": 0,
              "session_lost": 0, "wrong": 0}
    dev.upload(images[0])
    believed = 0
    bounds = _CallBounds(link)
    upload_limit = dev.timeout + 4 * max(map(len, images)) * 1e-4
    # reset, then one infer per sequence (every sequence fits max_steps here)
    eval_limit = data.count * (2 * dev.timeout + 4 * 4 * 20 * EVAL_INPUT * 1e-4)
    link.enabled = True
    for run in range(runs):
        target = (believed + 1) % 2 if run % 3 else believed
        counts["uploads"] += 1
        start = time.monotonic()
        try:
            dev.upload(images[target])
            believed = target
        except HarnessError as error:
            counts["upload_failed"] += 1
            assert str(error), "an error without a message"
        bounds.check("upload", start, upload_limit)
        counts["evals"] += 1
        start = time.monotonic()
        try:
            outputs, _ = device_outputs(dev, data, block)
            same = all(np.allclose(h, e, atol=TOL, rtol=0)
                       for h, e in zip(outputs, expected[believed], strict=True))
            if not same or score(outputs, data, EVAL_CLASSES) != scores[believed]:
                counts["wrong"] += 1
        except SessionLost as error:
            counts["session_lost"] += 1
            assert str(error)
            link.enabled = False  # the caller starts again from a known model
            dev.upload(images[believed])
            link.enabled = True
        except HarnessError as error:
            counts["eval_failed"] += 1
            assert str(error), "an error without a message"
        bounds.check("eval", start, eval_limit)
    bounds.finish(counts)
    # The device still answers, with the model the host believes.
    outputs, _ = device_outputs(dev, data, block)
    for h, e in zip(outputs, expected[believed], strict=True):
        np.testing.assert_allclose(h, e, atol=TOL, rtol=0)
    return counts


@needs_device
def test_random_faults_during_uploads_and_eval_on_the_linux_device():
    start = time.monotonic()
    with _linux_device() as port, \
            _through_link(port, seed=14, rate=3e-5, max_faults=300, timeout=1.0) as (dev, link):
        counts = _hammer_eval(dev, link, runs=40, seed=14, block=3)
    print(f"\nfault link, upload + eval, linux device: {counts}, by direction "
          f"{link.counts}, {time.monotonic() - start:.1f} s")
    assert counts["wrong"] == 0, counts
    assert counts["faults"] >= 20, counts
    assert counts["upload_failed"] + counts["eval_failed"] + counts["session_lost"] >= 5, counts


@needs_qemu[0]
@needs_qemu[1]
def test_random_faults_during_uploads_and_eval_on_a_qemu_board():
    board = "qemu-mps2-an386"
    start = time.monotonic()
    with _qemu_device(board) as port, \
            _through_link(port, seed=15, rate=3e-5, max_faults=100, timeout=4.0) as (dev, link):
        counts = _hammer_eval(dev, link, runs=10, seed=15, block=4)
    print(f"\nfault link, upload + eval, {board}: {counts}, by direction {link.counts}, "
          f"{time.monotonic() - start:.1f} s")
    assert counts["wrong"] == 0, counts
    assert counts["faults"] >= 3, counts


@needs_device
def test_eval_cli_through_a_damaging_link_never_reports_a_wrong_accuracy(tmp_path):
    """`mtsrnn eval --port` (upload, then the evaluation) through the damaging
    link, a few seeds: it either reports the host's accuracy with no
    disagreement, or fails with one line naming a link error, never a
    traceback and never "the device's predictions differ"."""
    import json
    import sys

    from mtsrnn.evaluate import host_outputs, save_data, score

    model = _classifier(40)
    model.save(str(tmp_path / "m.mts"))
    data = _eval_data(40, count=8)
    save_data(tmp_path / "d.npz", data.x, data.y, data.lengths)
    accuracy = score(host_outputs(model, data, 4), data, EVAL_CLASSES)["accuracy"]
    outcomes = {"passed": 0, "failed": 0}
    with _linux_device() as port:
        for seed in range(6):
            with FaultLink(port, seed=100 + seed, rate=1e-5, max_faults=3) as link:
                done = subprocess.run(
                    [sys.executable, "-m", "mtsrnn", "eval", "--port", link.url, "--model",
                     str(tmp_path / "m.mts"), "--data", str(tmp_path / "d.npz"), "--block",
                     "4", "--timeout", "2", "--no-progress", "--json",
                     str(tmp_path / "r.json")],
                    capture_output=True, text=True, timeout=120)
            if done.returncode == 0:
                written = json.loads((tmp_path / "r.json").read_text())
                assert written["accuracy"] == accuracy, written
                assert written["agreement"]["disagreements"] == 0, written
                outcomes["passed"] += 1
            else:
                message = done.stderr.strip()
                # Progress lines ("uploading ..."), then one error line.
                assert "Traceback" not in message, message
                assert message.splitlines()[-1].startswith("mtsrnn eval: error:"), message
                assert "differ" not in message, message
                outcomes["failed"] += 1
            (tmp_path / "r.json").unlink(missing_ok=True)
    print(f"\nfault link, mtsrnn eval --port: {outcomes}")
    assert outcomes["passed"] >= 1, outcomes
