"""`python -m policyqa_app --index index --corpus corpus [--host 127.0.0.1] [--port 7860] [--share]`."""

from __future__ import annotations

import argparse
import os
import sys

from policyqa import WatchSettings
from policyqa.cli import add_llm_arguments, settings_of
from policyqa.errors import PolicyQAError

from .server import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policyqa_app", description="The policyqa web UI.")
    parser.add_argument("--index", default="index", help="index folder (default: index)")
    parser.add_argument("--corpus", default="corpus", help="corpus folder (default: corpus)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    parser.add_argument("--share", action="store_true", help="also open a public Gradio share link")
    parser.add_argument("--no-watch", action="store_true", help="do not index changes to the corpus folder by itself")
    add_llm_arguments(parser)
    args = parser.parse_args(argv)
    try:
        # the one place this program reads its settings: the environment, with the flags in place of theirs
        settings = settings_of(args, os.environ)  # as the CLI makes them: its flags in place of the environment's
        watch = None if args.no_watch else WatchSettings()
        serve(
            settings.store,
            args.corpus,
            host=args.host,
            port=args.port,
            share=args.share,
            watch=watch,
            settings=settings,
        )
    except PolicyQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
