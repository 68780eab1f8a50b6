"""The ``faceedit`` command line."""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from faceedit.errors import FaceEditError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    from faceedit import __version__
    from faceedit.cli import (
        classifier,
        convert,
        dataset,
        demo,
        directions,
        distill,
        encoder,
        generate,
        invert,
        models,
        train,
    )

    parser = argparse.ArgumentParser(prog="faceedit", description="Latent-space face editing with StyleGAN2.")
    parser.add_argument("--version", action="version", version=f"faceedit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in (demo, generate, convert, models, train, classifier, encoder, directions, invert, dataset,
                   distill):
        module.add_parser(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except FaceEditError as exc:
        print(f"faceedit: error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, FileNotFoundError, PermissionError) as exc:
        print(f"faceedit: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        return 0
    except KeyboardInterrupt:
        print("faceedit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
