"""What ``hearth probe`` and ``hearth bots`` do: synthetic participants (``server.peers``, which
loads aiortc, so only these commands import it)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from server.cli_rooms import CommandError
from server.config import Settings


def run_probe(settings: Settings, args: argparse.Namespace) -> int:
    from server.peers.probe import run_probe as probe  # aiortc loads only for the commands that need it

    report = asyncio.run(probe(args.link, timeout=args.timeout))
    print("\n".join(report.lines()), file=sys.stdout if report.ok else sys.stderr, flush=True)
    return 0 if report.ok else 1


def run_bots(settings: Settings, args: argparse.Namespace) -> int:
    from server.peers.bots import run_bots as bots
    from server.peers.invite import InvalidLink, parse_link

    try:
        invite = parse_link(args.link)
    except InvalidLink as exc:
        raise CommandError(f"invalid link: {exc}") from None

    async def stay() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C ends the stay, then the report
            loop.add_signal_handler(number, stop.set)
        try:
            width, height = args.size
            report = await bots(
                invite,
                args.count,
                args.duration,
                video=args.video,
                width=width,
                height=height,
                fps=args.fps,
                path=args.file,
                join_timeout=args.join_timeout,
                stop=stop,
            )
        finally:
            for number in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(number)
        print("\n".join(report.lines()), flush=True)
        if report.stopped_early:
            return 130
        return 1 if report.failed else 0

    return asyncio.run(stay())
