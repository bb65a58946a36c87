"""The ``tikv-chatops`` console script.

tikv-chatops serve                 the bot (the default; also ``python -m bot``)
tikv-chatops simulator [ARGS…]     the PD simulator alone (``python -m pd.simulator``)
tikv-chatops playground [ARGS…]    the Slack playground alone (``python -m bot.playground``)
tikv-chatops audit export|verify|prune  export, check the hash chain, prune (``store.audit_cli``)
tikv-chatops policy check [FILE]   print the effective approval policy; non-zero on an error
tikv-chatops clusters check [FILE] print the clusters the bot operates; non-zero on an error
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

from bot.settings import Settings

USAGE = __doc__.split("\n\n", 1)[1] if __doc__ else ""


def _serve(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="tikv-chatops serve", description="Run the bot (settings: environment)."
    )
    parser.parse_args(argv)
    settings = Settings.load()
    from bot.logsetup import configure_logging

    configure_logging(settings)  # LOG_LEVEL, LOG_FORMAT; secrets and response URLs redacted
    from actions.policy import PolicyError
    from bot.clusters_file import ClustersError
    from bot.main import serve

    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(settings))
    except PolicyError as exc:
        print(f"tikv-chatops: the policy file is wrong, nothing started:\n{exc}", file=sys.stderr)
        return 2
    except ClustersError as exc:
        print(f"tikv-chatops: the clusters file is wrong, nothing started:\n{exc}", file=sys.stderr)
        return 2
    return 0


def _delegate(module: str, function: str) -> Callable[[Sequence[str]], int]:
    """Run another package's own entry point with the remaining arguments."""

    def run(argv: Sequence[str]) -> int:
        entry: Callable[..., Any] = getattr(importlib.import_module(module), function)
        result = entry(list(argv))
        return result if isinstance(result, int) else 0

    return run


def _audit(argv: Sequence[str]) -> int:
    if not argv or argv[0] not in ("export", "verify", "prune"):
        print("usage: tikv-chatops audit export|verify|prune [ARGS…] (try --help)", file=sys.stderr)
        return 2
    return _delegate("store.audit_cli", "main")(argv)


def _policy(argv: Sequence[str]) -> int:
    if not argv or argv[0] != "check":
        print("usage: tikv-chatops policy check [FILE]", file=sys.stderr)
        return 2
    return _delegate("bot.policy_file", "check_main")(argv[1:])


def _clusters(argv: Sequence[str]) -> int:
    if not argv or argv[0] != "check":
        print("usage: tikv-chatops clusters check [FILE]", file=sys.stderr)
        return 2
    return _delegate("bot.clusters_file", "check_main")(argv[1:])


COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {
    "serve": _serve,
    "simulator": _delegate("pd.simulator.__main__", "main"),
    "playground": _delegate("bot.playground.__main__", "main"),
    "audit": _audit,
    "policy": _policy,
    "clusters": _clusters,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to a subcommand; ``serve`` when none is given."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help", "help"):
        print("usage: tikv-chatops [serve|simulator|playground|audit export] [ARGS…]\n\n" + USAGE)
        return 0
    name = args.pop(0) if args else "serve"
    command = COMMANDS.get(name)
    if command is None:
        print(f"tikv-chatops: unknown command {name!r}; try tikv-chatops --help", file=sys.stderr)
        return 2
    return command(args)


if __name__ == "__main__":
    sys.exit(main())
