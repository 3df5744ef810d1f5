"""The ``losslab`` Typer application, its error style and the helpers every command shares.

A command module registers its commands on :data:`app` and inherits every convention below by
that alone (one import line in ``cli/__init__.py``)::

    from losslab.cli._app import JsonOption, UsageError, app, console, emit_json, step

    @app.command("plot")
    def plot(name: str, as_json: JsonOption = False) -> None:
        \"\"\"One-line summary shown by ``losslab --help``.\"\"\"
        if name not in known:
            raise UsageError(f"plot: unknown figure {name!r}; expected one of ...")
        with step("drawing the figure"):
            result = library_call(name)
        if as_json:
            emit_json(result)              # plain JSON on stdout, NaN/inf as null
            return
        console.print(table)               # markup off: user strings print as they are

Errors (one mechanism, :class:`LosslabGroup`, for every command):

- a usage error -- a click usage error (bad option value, unknown option, missing argument),
  :class:`UsageError`, or a ``ValueError``/``TypeError`` from a library call (losslab's errors
  for bad input name the argument) -- prints ``Error: ...`` as one line on stderr, exit code 2;
- anything else is unexpected: one line naming the failing step (``Error: unexpected
  OSError while writing the figure: ...``), exit code 1;
- ``--debug`` (before or after the command name) or ``LOSSLAB_DEBUG=1`` adds the traceback;
- Python warnings print as one ``Warning: ...`` line each.

So a command raises and lets the group format: it never prints tracebacks or calls
``sys.exit``. :func:`step` names what a block does for the error line (the default is the
command: ``running 'losslab plot'``).

Output: :data:`console` is a Rich console with markup off, so names, formulas and messages
print literally (``y_i[i]`` stays); style with :class:`rich.text.Text`, and pass titles that
contain user strings through :func:`escape`. ``--json`` is :data:`JsonOption` plus
:func:`emit_json`. ``key=value`` options (``--loss-param delta=2``) are parsed by
:func:`losslab.cli._parse.parse_params`.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import math
import os
import sys
import traceback
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer import _click
from typer.core import TyperGroup

__all__ = [
    "JsonOption",
    "LosslabGroup",
    "UsageError",
    "app",
    "console",
    "emit_json",
    "err_console",
    "escape",
    "jsonable",
    "step",
]


class UsageError(ValueError):
    """A bad command line: printed as one ``Error: ...`` line, exit code 2."""


_DEBUG: contextvars.ContextVar[bool] = contextvars.ContextVar("losslab_cli_debug", default=False)
_COMMAND: contextvars.ContextVar[str | None] = contextvars.ContextVar("losslab_cli_command", default=None)


@contextlib.contextmanager
def step(description: str) -> Iterator[None]:
    """Name what the block does, for the error line of anything it raises (innermost wins).

    >>> try:
    ...     with step("reading the data"):
    ...         raise OSError("disk on fire")
    ... except OSError as err:
    ...     print(err.losslab_step)
    reading the data
    """
    try:
        yield
    except Exception as err:
        if getattr(err, "losslab_step", None) is None:
            with contextlib.suppress(AttributeError, TypeError):
                err.losslab_step = description  # type: ignore[attr-defined]
        raise


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _pop_debug(args: list[str]) -> tuple[list[str], bool]:
    """``args`` without ``--debug`` (anywhere before a ``--``), and whether it was there."""
    end = args.index("--") if "--" in args else len(args)
    found = "--debug" in args[:end]
    return [a for i, a in enumerate(args) if not (i < end and a == "--debug")], found


class LosslabGroup(TyperGroup):
    """The ``losslab`` group: one error style and ``--debug`` for every registered command.

    :meth:`main` reads ``--debug`` wherever it stands (so every command has it) and turns every
    exception into the one-line message and exit code described in the module docstring.
    """

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, cmd, rest = super().resolve_command(ctx, args)
        if name:
            _COMMAND.set(name)
        return name, cmd, rest

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv, flag = _pop_debug(list(sys.argv[1:] if args is None else args))
        debug = _DEBUG.set(flag or os.environ.get("LOSSLAB_DEBUG", "") not in ("", "0"))
        command = _COMMAND.set(None)
        prog = prog_name or "losslab"
        try:
            with warnings.catch_warnings():
                warnings.showwarning = _show_warning
                rv = super().main(argv, prog, complete_var, standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) and not isinstance(rv, bool) else 0
        except typer.Abort:
            err_console.print("Aborted.")
            code = 1
        except _click.exceptions.UsageError as err:
            code = _usage_error(err, prog)
        except _click.exceptions.ClickException as err:
            err_console.print(f"Error: {_one_line(err.format_message())}")
            code = err.exit_code
        except (UsageError, ValueError, TypeError) as err:
            code = _report(err, usage=True)
        except Exception as err:
            code = _report(err, usage=False)
        finally:
            _DEBUG.reset(debug)
            _COMMAND.reset(command)
        if not standalone_mode:
            return code
        sys.exit(code)


def _usage_error(err: Any, prog: str) -> int:
    # A usage error of `losslab` itself (no command, `--help` with no args) keeps click's text.
    if isinstance(err, _click.exceptions.NoArgsIsHelpError):
        console.print(err.ctx.get_help(), markup=False, highlight=False)
        return 0
    where = err.ctx.command_path if err.ctx is not None else prog
    err_console.print(f"Error: {_one_line(err.format_message())} (see '{where} --help')")
    return 2


def _report(err: BaseException, *, usage: bool) -> int:
    if _DEBUG.get():
        traceback.print_exception(type(err), err, err.__traceback__, file=sys.stderr)
    where = getattr(err, "losslab_step", None)
    command = _COMMAND.get()
    if usage:
        prefix = f"{where}: " if where else ""
        err_console.print(f"Error: {prefix}{_one_line(str(err))}")
        return 2
    doing = where or (f"running 'losslab {command}'" if command else "starting losslab")
    hint = "" if _DEBUG.get() else " (run with --debug for the traceback)"
    message = _one_line(str(err)) or "(no message)"
    err_console.print(f"Error: unexpected {type(err).__name__} while {doing}: {message}{hint}")
    return 1


def _show_warning(
    message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None
) -> None:
    err_console.print(f"Warning: {_one_line(str(message))}")


def _version(value: bool) -> None:
    if value:
        from losslab import __version__

        console.print(f"losslab {__version__}")
        raise typer.Exit()


app = typer.Typer(
    name="losslab",
    cls=LosslabGroup,
    help="The loss-function and optimization lab.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
# A terminal sets its own width; piped output (files, CI logs) gets room for the wide tables.
# Markup is off: every string prints literally (formulas hold brackets such as ``y[i]``).
console = Console(width=None if sys.stdout.isatty() else 150, markup=False)
err_console = Console(stderr=True, markup=False, highlight=False, soft_wrap=True)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(
        False, "--debug", help="Show the traceback of an unexpected error (also after a command)."
    ),
) -> None:
    """The loss-function and optimization lab: losses, optimizers, landscapes, experiments."""


JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]


def jsonable(value: Any) -> Any:
    """``value`` with NumPy arrays and scalars, tuples, dataclasses and NamedTuples as JSON types.

    Non-finite floats become ``None`` (JSON has no NaN).

    >>> import numpy as np
    >>> jsonable({"a": np.array([1.0, np.inf]), "b": (np.int64(2), None)})
    {'a': [1.0, None], 'b': [2, None]}
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "_asdict"):
        return jsonable(value._asdict())
    if hasattr(value, "__dataclass_fields__"):
        return jsonable({k: getattr(value, k) for k in value.__dataclass_fields__})
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # NumPy arrays and scalars
        return jsonable(value.tolist())
    return str(value)


def emit_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout (through :func:`jsonable`)."""
    typer.echo(json.dumps(jsonable(value), indent=2, allow_nan=False))
