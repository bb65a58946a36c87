"""The ``tikv-chatops`` console script: one dispatcher for every command the product has.

tikv-chatops serve                 the bot (the default; also ``python -m bot``)
tikv-chatops simulator [ARGS…]     the PD simulator alone (``python -m pd.simulator``; demo extra)
tikv-chatops playground [ARGS…]    the Slack playground alone (``python -m bot.playground``; demo extra)
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

# The stand-ins ``serve`` runs for what is not configured. They are not in the bot's own wheel: the
# ``demo`` extra installs them (the tikv-chatops-demo distribution, demo/pyproject.toml).
DEMO_PACKAGES = ("pd.simulator", "bot.playground")
INSTALL_DEMO = "pip install 'tikv-chatops[demo]'"


def _demo_absent(exc: ModuleNotFoundError) -> bool:
    """Whether what could not be imported is (part of) the demo rather than something it needs."""
    name = exc.name or ""
    return any(name == package or name.startswith(package + ".") for package in DEMO_PACKAGES)


def _missing_stand_in(settings: Settings) -> str | None:
    """Why ``serve`` cannot start: a setting is unset and its stand-in is not installed; None if it can."""
    stand_ins: list[tuple[str, str, str, str]] = []
    if not settings.pd_endpoints:
        stand_ins.append(("PD_URL is not set", "pd.simulator", "the PD simulator", "set PD_URL"))
    if not settings.has_slack_credentials:
        stand_ins.append(
            (
                "no Slack credentials are set",
                "bot.playground",
                "the Slack playground",
                "set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET",
            )
        )
    for unset, package, stand_in, remedy in stand_ins:
        try:
            importlib.import_module(package)
        except ModuleNotFoundError as exc:
            if not _demo_absent(exc):
                raise
            return f"{unset} and {stand_in} is not installed: {remedy}, or {INSTALL_DEMO}"
    return None


def _serve(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="tikv-chatops serve", description="Run the bot (settings: environment)."
    )
    parser.parse_args(argv)
    settings = Settings.load()
    missing = _missing_stand_in(settings)
    if missing is not None:
        print(f"tikv-chatops: {missing}", file=sys.stderr)
        return 2
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
        try:
            loaded = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if not _demo_absent(exc):
                raise
            package = module.removesuffix(".__main__")
            print(f"tikv-chatops: {package} (the demo) is not installed: {INSTALL_DEMO}", file=sys.stderr)
            return 2
        entry: Callable[..., Any] = getattr(loaded, function)
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
