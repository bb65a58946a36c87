"""``python -m pd.simulator``: serve a generated cluster until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time

from pd.simulator.model import ClusterModel
from pd.simulator.server import serve


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m pd.simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=2379, help="port of the first PD member (default 2379)")
    parser.add_argument(
        "--member-ports",
        default="",
        help="comma-separated ports of the other members (default: free ports)",
    )
    parser.add_argument("--members", type=int, default=3, help="PD members (default 3)")
    parser.add_argument("--stores", type=int, default=5, help="TiKV stores (default 5)")
    parser.add_argument("--regions", type=int, default=1000, help="regions (default 1000)")
    parser.add_argument("--seed", type=int, default=1, help="generation seed (default 1)")
    parser.add_argument(
        "--step-delay", type=float, default=0.5, help="seconds per operator step (default 0.5)"
    )
    parser.add_argument(
        "--tick", type=float, default=0.5, help="seconds between background ticks (default 0.5)"
    )
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    """Generate, serve, and wait for SIGINT/SIGTERM."""
    started = time.perf_counter()
    model = ClusterModel.generate(
        args.stores, args.regions, args.seed, step_delay=args.step_delay, members=args.members
    )
    loaded = time.perf_counter() - started
    member_ports = [int(p) for p in args.member_ports.split(",") if p.strip()] or None
    server = await serve(
        model, host=args.host, port=args.port, member_ports=member_ports, tick_interval=args.tick
    )
    print(
        f"PD simulator: {args.stores} stores, {args.regions} regions (seed {args.seed}) in {loaded:.2f}s",
        flush=True,
    )
    for member, url in zip(model.members, server.urls, strict=True):
        role = "leader" if member.name == model.leader_name else "follower"
        print(f"  {member.name} ({role}): {url}/pd/api/v1", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.close()


def main(argv: list[str] | None = None) -> int:
    """Run the simulator; returns the process exit code."""
    asyncio.run(run(parse_args(sys.argv[1:] if argv is None else argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
