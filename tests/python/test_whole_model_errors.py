"""Whole models (issue 14): every construct from_torch cannot import gets an
UnsupportedModuleError naming it and its fx node; `mtsrnn convert` of whole-model
state dicts never assumes silently (notes, one-line errors, --check)."""

import os
import subprocess
import sys
from pathlib import Path

import mtsrnn
import numpy as np
import pytest
from mtsrnn import cli_common
from mtsrnn.torch_import import UnsupportedModuleError, from_torch
from test_torch_import import needs_sru, nn, sru, torch
from test_whole_model import randomise

F = torch.nn.functional
N = 6


def chain(forward, **modules):
    """A module whose forward is `forward(self, x)` over the given submodules."""
    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            for name, module in modules.items():
                setattr(self, name, module)

    Custom.forward = forward
    return Custom().eval()


def srus():
    return sru.SRU(N, N, num_layers=1) if sru is not None else nn.Identity()


UNSUPPORTED = {
    "gru": (lambda s, x: s.head(s.gru(x)[0]), dict(gru=nn.GRU(N, N), head=nn.Linear(N, 2)),
            r"unsupported module torch\.nn\.modules\.rnn\.GRU .*fx node 'gru'"),
    "conv1d": (lambda s, x: s.head(s.conv(x.transpose(1, 2)).transpose(1, 2)),
               dict(conv=nn.Conv1d(N, N, 3), head=nn.Linear(N, 2)),
               r"unsupported module torch\.nn\.modules\.conv\.Conv1d .*'conv'"),
    "branch": (lambda s, x: s.a(x) * 1.0 if False else s.b(F.relu(s.a(x))) + s.a(x),
               dict(a=nn.Linear(N, N), b=nn.Linear(N, N)), r"a branch|2 tensors"),
    "residual_add": (lambda s, x: x + s.a(x), dict(a=nn.Linear(N, N)),
                     r"a branch: the result is used by 2 operations"),
    "concatenation": (lambda s, x: s.b(torch.cat([s.a(x), s.a(x)], dim=-1)),
                      dict(a=nn.Linear(N, N), b=nn.Linear(2 * N, 2)), r"branch|tensors"),
    "softmax_over_time": (lambda s, x: F.softmax(s.a(x), dim=0), dict(a=nn.Linear(N, 3)),
                          r"softmax over dim=0, which is not the feature axis.*'softmax'"),
    "activation_alone": (lambda s, x: s.b(torch.tanh(s.n(x))),
                         dict(n=nn.LayerNorm(N), b=nn.Linear(N, 2)),
                         r"tanh that does not directly follow an nn.Linear.*'tanh'"),
    "gelu": (lambda s, x: F.gelu(s.a(x)), dict(a=nn.Linear(N, 3)),
             r"unsupported call function gelu .*'gelu'"),
    "scaling": (lambda s, x: s.a(x) * 2.0, dict(a=nn.Linear(N, 3)),
                r"unsupported call function mul"),
    "reshape": (lambda s, x: s.a(x).reshape(-1, 3), dict(a=nn.Linear(N, 3)),
                r"unsupported call method reshape"),
    "last_step_only": (lambda s, x: s.a(x[:, -1]), dict(a=nn.Linear(N, 3)),
                       r"indexing or slicing a tensor"),
    "parameter_use": (lambda s, x: x @ s.w, dict(), r"direct use of a parameter"),
    "batch_norm_training": (lambda s, x: s.bn(x), dict(bn=nn.BatchNorm1d(N)),
                            r"BatchNorm1d in training mode"),
    "batch_norm_features_last": (lambda s, x: s.bn(s.a(x).permute(0, 2, 1).transpose(0, 1)),
                                 dict(a=nn.Linear(N, N), bn=nn.BatchNorm1d(N)),
                                 r"BatchNorm1d over axis 1 of a tensor whose features"),
    "layer_norm_2d": (lambda s, x: s.n(x), dict(n=nn.LayerNorm((4, N))),
                      r"LayerNorm over \(4, 6\)"),
    "two_inputs": (lambda s, x, y: s.a(x), dict(a=nn.Linear(N, 3)),
                   r"forward takes 2 tensors"),
    "returns_tuple": (lambda s, x: (s.a(x), s.b(x)), dict(a=nn.Linear(N, 3), b=nn.Linear(N, 3)),
                      r"branch|does not return one tensor"),
    "dropout_training": (lambda s, x: s.d(s.a(x)), dict(a=nn.Linear(N, 3), d=nn.Dropout(0.5)),
                         r"Dropout\(p=0.5\) in training mode"),
    "nothing": (lambda s, x: x.transpose(0, 1), dict(), r"holds no stage"),
}


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_constructs_are_named(name):
    forward, modules, message = UNSUPPORTED[name]
    module = chain(forward, **modules)
    if name == "parameter_use":
        module.w = nn.Parameter(torch.ones(N, 3))
    if name.endswith("_training"):
        module.train()
    with pytest.raises(UnsupportedModuleError, match=message) as error:
        from_torch(module)
    assert "\n" not in str(error.value)
    assert str(error.value).startswith("Custom")  # where: the module's class


@needs_sru
def test_recurrent_misuse_is_named():
    initial_state = chain(lambda s, x: s.rnn(x, torch.zeros(1, 1, N))[0], rnn=srus())
    with pytest.raises(UnsupportedModuleError, match="more than the input.*'rnn'"):
        from_torch(initial_state)
    final_state = chain(lambda s, x: s.head(s.rnn(x)[1]), rnn=srus(), head=nn.Linear(N, 2))
    with pytest.raises(UnsupportedModuleError, match="final state"):
        from_torch(final_state)
    tuple_used = chain(lambda s, x: s.head(s.rnn(x)), rnn=srus(), head=nn.Linear(N, 2))
    with pytest.raises(UnsupportedModuleError, match="tuple that .*SRU returns"):
        from_torch(tuple_used)
    # Two recurrent modules that disagree on which axis is time.
    axes = chain(lambda s, x: s.b(s.a(x)[0].transpose(0, 1))[0], a=srus(), b=srus())
    with pytest.raises(UnsupportedModuleError, match="sees input axis 'b' as time"):
        from_torch(axes)
    with pytest.raises(TypeError, match="overrides"):
        from_torch(chain(lambda s, x: s.a(x), a=nn.Linear(N, 2)), use_tanh=True)


def test_dynamic_forward_is_named():
    def forward(s, x):
        if x.sum() > 0:
            return s.a(x)
        return x
    with pytest.raises(UnsupportedModuleError, match="torch.fx cannot trace"):
        from_torch(chain(forward, a=nn.Linear(N, 2)))


# ---- mtsrnn convert of state dicts ------------------------------------------------------

HERE = str(Path(__file__).parent)


def run(*args, importable=False):
    """`mtsrnn ARGS`; importable: this directory on PYTHONPATH, so that a module
    saved by these tests (a class defined here) can be unpickled."""
    env = dict(os.environ)
    if importable:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [HERE, env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "mtsrnn", *map(str, args)],
                          capture_output=True, text=True, env=env)


def error_line(result, status, *fragments):
    assert result.returncode == status and status in cli_common.EXIT_CODES, (
        result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines()
             if not line.startswith("mtsrnn convert: note: ")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


class KWS(nn.Module):
    def __init__(self, **options):
        super().__init__()
        self.rnn = sru.SRU(N, 4, num_layers=2, **options)
        out = 8 if options.get("bidirectional") else 4
        self.head = nn.Sequential(nn.Linear(out, 5), nn.ReLU(), nn.Linear(5, 3))

    def forward(self, x):
        return self.head(self.rnn(x)[0])


@needs_sru
def test_convert_whole_state_dict_needs_the_activations(tmp_path):
    """The issue's case: a custom module's state dict (the `rnn.` prefix)."""
    torch.save(randomise(KWS(), 1).state_dict(), tmp_path / "kws.pt")
    out = tmp_path / "kws.mts"
    error_line(run("convert", tmp_path / "kws.pt", "-o", out), cli_common.EXIT_USER_ERROR,
               "2 dense layer(s) (head.0, head.2)", "--activations A1,...,A2")
    error_line(run("convert", tmp_path / "kws.pt", "--activations", "relu", "-o", out),
               cli_common.EXIT_USER_ERROR, "lists 1 activation(s) for 2 dense layer(s)")
    result = run("convert", tmp_path / "kws.pt", "--activations", "relu,gelu", "-o", out)
    assert result.returncode == cli_common.EXIT_USER_ERROR and "'relu,gelu'" in result.stderr
    error_line(run("convert", tmp_path / "kws.pt", "--cell", "qrnn", "--activations",
                   "relu,identity", "-o", out), cli_common.EXIT_USER_ERROR,
               "--cell qrnn, but the keys show sru")
    torch.save({"enc.conv.weight": torch.ones(3, 3, 3), "enc.conv.bias": torch.ones(3),
                "enc.conv.extra": torch.ones(3)}, tmp_path / "conv.pt")
    error_line(run("convert", tmp_path / "conv.pt", "-o", out), cli_common.EXIT_USER_ERROR,
               "cannot tell which module 'enc.conv' is")
    assert not out.exists()


@needs_sru
def test_convert_whole_state_dict_and_module(tmp_path):
    module = randomise(KWS(), 2)
    x = np.random.default_rng(0).standard_normal((50, N)).astype(np.float32)
    with torch.no_grad():
        y = module(torch.from_numpy(x)[:, None])[:, 0].numpy()
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    torch.save(module.state_dict(), tmp_path / "kws.pt")
    result = run("convert", tmp_path / "kws.pt", "--activations", "relu,identity", "--check",
                 tmp_path / "x.npy", tmp_path / "y.npy", "-o", tmp_path / "a.mts")
    assert result.returncode == 0 and "assumed" in result.stderr, result.stderr
    torch.save(module, tmp_path / "module.pt")
    result = run("convert", tmp_path / "module.pt", "--check", tmp_path / "x.npy",
                 tmp_path / "y.npy", "-o", tmp_path / "b.mts", importable=True)
    assert result.returncode == 0 and "stages sru x2, dense x2" in result.stdout, result.stderr


@needs_sru
@pytest.mark.parametrize("option", ["bidirectional", "use_tanh"])
def test_convert_without_the_flag_prints_the_assumption_and_check_fails(option, tmp_path):
    """The issue's bad cases: a bidirectional / use_tanh SRU state dict converted
    without the flag. The assumed options are printed; --check exits 1 and writes
    nothing; with the flag, --check passes."""
    module = randomise(sru.SRU(N, 4, num_layers=2, **{option: True}), 3)
    x = np.random.default_rng(1).standard_normal((40, N)).astype(np.float32)
    with torch.no_grad():
        y = module(torch.from_numpy(x)[:, None])[0][:, 0].numpy()
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    torch.save(module.state_dict(), tmp_path / "sd.pt")
    out = tmp_path / "m.mts"
    result = run("convert", tmp_path / "sd.pt", "--check", tmp_path / "x.npy",
                 tmp_path / "y.npy", "-o", out)
    error_line(result, cli_common.EXIT_FAILED, "differs from", "more than --tolerance 0.0001")
    assert f"{option}=False" in result.stderr and "assumed" in result.stderr
    assert not out.exists()
    flag = "--" + option.replace("_", "-")
    result = run("convert", tmp_path / "sd.pt", flag, "--check", tmp_path / "x.npy",
                 tmp_path / "y.npy", "-o", out)
    assert result.returncode == 0 and "--check: max abs error" in result.stdout, result.stderr
    assert mtsrnn.load(out).config[option] is True


class WithGRU(nn.Module):
    """A saved whole module with an unsupported layer (importable: a module-level class)."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(N, N)
        self.head = nn.Linear(N, 2)

    def forward(self, x):
        return self.head(self.gru(x)[0])


def test_convert_saved_module_errors(tmp_path):
    torch.save(WithGRU().eval(), tmp_path / "gru.pt")
    out = tmp_path / "gru.mts"
    # Where the class cannot be imported, the error says what to do.
    error_line(run("convert", tmp_path / "gru.pt", "-o", out), cli_common.EXIT_USER_ERROR,
               "cannot unpickle", "class must be importable")
    result = run("convert", tmp_path / "gru.pt", "-o", out, importable=True)
    error_line(result, cli_common.EXIT_USER_ERROR, "WithGRU", "torch.nn.modules.rnn.GRU",
               "fx node 'gru'")
    result = run("convert", tmp_path / "gru.pt", "--activations", "relu", "-o", out,
                 importable=True)
    error_line(result, cli_common.EXIT_USER_ERROR, "--activations and --softmax are for state")
    assert not out.exists()


def test_convert_check_arguments(tmp_path):
    model = mtsrnn.random_qrnn(4, 3, seed=5)
    np.savez(tmp_path / "q.npz", **model.state_dict())
    np.save(tmp_path / "x.npy", np.zeros((5, 3), np.float32))
    np.save(tmp_path / "y.npy", np.zeros((5, 3), np.float32))
    np.save(tmp_path / "x4.npy", np.zeros((5, 4), np.float32))
    out = tmp_path / "q.mts"
    error_line(run("convert", tmp_path / "q.npz", "--check", tmp_path / "x.npy",
                   tmp_path / "y.npy", "-o", out), cli_common.EXIT_USER_ERROR,
               "has 3 features per frame, the model takes 4")
    error_line(run("convert", tmp_path / "q.npz", "--check", tmp_path / "x4.npy",
                   tmp_path / "x4.npy", "-o", out), cli_common.EXIT_USER_ERROR,
               "has shape (5, 4), expected (5, 3)")
    error_line(run("convert", tmp_path / "q.npz", "--check", tmp_path / "none.npy",
                   tmp_path / "y.npy", "-o", out), cli_common.EXIT_USER_ERROR,
               "not a readable .npy file")
    assert not out.exists()
