"""What every `mtsrnn` command shares: the one error policy (its exit codes,
the two errors a command raises, the guard that turns every expected failure
into one line on stderr), the argument parsers, and the benchmarks' --json
writer.

Exit codes (README.md, "The mtsrnn command"):

    0    success
    1    the command ran and what it checked or measured failed: a self-test
         that does not pass, device output that differs from the host's, a
         device, protocol or link error (a port that cannot be opened, a link
         that closes), a measuring tool (valgrind, the dram probe) that fails
         or lacks what was asked
    2    the command cannot do what was asked: bad arguments (argparse), a
         missing, unreadable or malformed file, a checkpoint that does not fit
         the options, an unknown board, model or product variant of a device,
         a missing optional dependency
    130  interrupted (Ctrl-C); an emulator the command started is stopped

Any of these prints at most one line on stderr, `mtsrnn COMMAND: error:
MESSAGE` (or `... interrupted ...`), never a traceback. A traceback means a
bug in mtsrnn.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_CODES = {
    EXIT_OK: "success",
    EXIT_FAILED: "the command ran and a check, device or measuring tool failed",
    EXIT_USER_ERROR: "bad arguments, a missing or malformed file, an unknown board, model "
                     "or variant, a missing optional dependency",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C); any emulator started was stopped",
}


class CommandError(Exception):
    """The command cannot do what was asked: one line on stderr, exit 2."""


class Failed(Exception):
    """The command ran and a check, the device or a measuring tool failed:
    one line on stderr, exit 1."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser with the one error policy: a bad argument is one
    line, `mtsrnn COMMAND: error: MESSAGE (usage: mtsrnn COMMAND --help)`,
    and exit 2 (stock argparse prints its usage lines before it). Subcommand parsers
    are of the same class (add_subparsers makes them so)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {' '.join(message.split())} "
                                   f"(usage: {self.prog} --help)\n")


def one_line(error: BaseException) -> str:
    """An error as one line for a user: an OSError names its file."""
    if isinstance(error, OSError):
        target = error.filename if error.filename is not None else ""
        message = f"{target}: {error.strerror or error}" if target else str(error)
    else:
        message = str(error)
    return " ".join(message.split())


def report(command: str, message: str, status: int) -> int:
    """Print `mtsrnn COMMAND: error: MESSAGE` on stderr; return `status`."""
    print(f"mtsrnn {command}: error: {message}", file=sys.stderr)
    return status


def _harness_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """(user errors, failures) of the device harness; empty without pyserial,
    so that the model commands work where the harness cannot be imported."""
    try:
        from .harness import BoardError, HarnessError, LinkClosed
    except ImportError:
        return (), ()
    return (BoardError,), (HarnessError, LinkClosed)


def guarded(command: str, run: Callable[[argparse.Namespace], int]
            ) -> Callable[[argparse.Namespace], int]:
    """`run` under the error policy: every expected failure is one line on
    stderr and its exit code (EXIT_CODES); what it returns otherwise."""
    def wrapper(args: argparse.Namespace) -> int:
        from .mtsfile import ModelFileError

        board_errors, harness_errors = _harness_errors()
        try:
            return run(args)
        except KeyboardInterrupt:
            print(f"\nmtsrnn {command}: interrupted (the emulator, if any, was stopped)",
                  file=sys.stderr)
            return EXIT_INTERRUPTED
        except ModelFileError as error:  # a ValueError: name the file it is about
            path = getattr(args, "model", None)
            message = one_line(error)
            if path and not message.startswith(str(path)):
                message = f"{path}: {message}"
            return report(command, message, EXIT_USER_ERROR)
        except (CommandError, *board_errors) as error:  # BoardError before HarnessError
            return report(command, one_line(error), EXIT_USER_ERROR)
        except (Failed, *harness_errors) as error:
            return report(command, one_line(error), EXIT_FAILED)
        except (OSError, ValueError, TypeError, ImportError) as error:
            return report(command, one_line(error), EXIT_USER_ERROR)

    return wrapper


def write_json(path: str, data: dict[str, Any]) -> None:
    """A benchmark's results as --json writes them (every benchmark alike)."""
    with open(path, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    print(f"wrote {path}")


# ---- argument parsers ------------------------------------------------------

# The largest count an option takes (block sizes, steps, rounds, a baud
# rate): what a C int holds; beyond it no device or kernel call makes sense.
MAX_COUNT = 2**31 - 1
# The longest timeout (a day): the harness's own limit (MAX_TIMEOUT).
MAX_TIMEOUT_SECONDS = 86400.0

def int_list(text: str) -> list[int]:
    """Comma-separated integers >= 1 (block sizes, hidden sizes)."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1 or max(values) > MAX_COUNT:
        raise argparse.ArgumentTypeError(f"expected integers in 1..{MAX_COUNT}, got {text!r}")
    return values


def _integer_in(text: str, low: int, high: int) -> int:
    """An integer in low..high, else argparse's error saying so."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"expected an integer in {low}..{high}, got {text!r}")
    return value


def positive(text: str) -> int:
    """A count: an integer in 1..MAX_COUNT."""
    return _integer_in(text, 1, MAX_COUNT)


def seed(text: str) -> int:
    """A random seed: an integer in 0..2**32-1."""
    return _integer_in(text, 0, 2**32 - 1)


def seconds(text: str) -> float:
    """A timeout: a finite number of seconds > 0, at most a day."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") \
            from None
    if not 0.0 < value <= MAX_TIMEOUT_SECONDS:  # NaN and inf fail too
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0 and <= "
                                         f"{MAX_TIMEOUT_SECONDS:g}, got {text!r}")
    return value


def probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def csv_choices(choices: tuple[str, ...]) -> Callable[[str], list[str]]:
    """A parser of a comma-separated list of `choices`."""
    def parse(text: str) -> list[str]:
        values = [part.strip() for part in text.split(",") if part.strip()]
        bad = [v for v in values if v not in choices]
        if not values or bad:
            raise argparse.ArgumentTypeError(
                f"expected a comma-separated list of {', '.join(choices)}, got {text!r}")
        return values
    return parse


def name_list(text: str) -> list[str]:
    """Comma-separated names (product variants), none empty."""
    names = text.split(",")
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected comma-separated variant names, got "
                                         f"{text!r}")
    return names
