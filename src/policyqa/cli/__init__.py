"""`policyqa` command line: argument parsing and printing only; the work is in the library. The arguments are in
`parser.py`, what each sub-command does in `commands.py`.

The settings of a run (`policyqa.Settings`) are built once, in `main`, from the environment and the flags, and
handed to the library; nothing else reads the environment."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Mapping

from policyqa import Settings
from policyqa.cli.commands import COMMANDS
from policyqa.cli.parser import add_llm_arguments as add_llm_arguments  # the web app's entry point shares these flags
from policyqa.cli.parser import build_parser
from policyqa.errors import PolicyQAError


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(COMMANDS)
    args = parser.parse_args(argv)
    warnings.showwarning = lambda message, *_args, **_kw: print(f"warning: {message}", file=sys.stderr)
    try:
        args.settings = settings_of(args, os.environ)  # the one value every command hands down
        args.index = args.settings.store
        code = args.run(args)
        sys.stdout.flush()  # here, where a closed pipe is handled below, not at interpreter exit
        return code
    except PolicyQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `policyqa status | head -1`: the reader has all it wanted
        _silence_stdout()
        return 0
    except Exception as exc:  # the CLI never shows a traceback unless asked to
        if os.environ.get("POLICYQA_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (set POLICYQA_DEBUG=1 for details)", file=sys.stderr)
        return 1


def settings_of(args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    """The environment's settings with the command's flags in place of theirs (a flag the command lacks, or left
    out, keeps the environment's)."""
    flags = ("index", "model", "backend", "precision", "rerank", "llm_url", "llm_model", "llm_timeout")
    given = {name: getattr(args, name, None) for name in flags}
    return Settings.from_env(environ, store=given.pop("index"), **given)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush does not hit the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is not a real file (captured); nothing will be flushed to a pipe
        pass
