"""Command line: `python -m viewer ws://HOST:PORT [--token T]` or `python -m viewer --replay LOG`.

The URL may be a full spectator URL as `run.py` prints it (`ws://HOST:PORT/ws/NAME?client_type=ui`,
with or without `&token=...`), or just `ws://HOST:PORT`: the viewer then picks its own client id,
`/ws/viewer-<random>?client_type=ui`. Bad arguments exit with status 2 and say what is wrong.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from viewer.client import TOKEN_ENV

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DEFAULT_SIZE = (1280, 800)
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")  # as the server accepts (docs/protocol.md)


def spectator_url(raw: str) -> str:
    """The URL to connect to: `raw` checked, completed with a client id when it has no path.

    Raises ValueError saying what is wrong.
    """
    parts = urlsplit(raw)
    if parts.scheme not in ("ws", "wss"):
        raise ValueError(f"the URL must start with ws:// or wss://, got {raw!r}")
    if not parts.hostname:
        raise ValueError(f"the URL has no host: {raw!r}")
    try:
        parts.port  # noqa: B018 - parsing the port validates it
    except ValueError:
        raise ValueError(f"the URL has a bad port: {raw!r}") from None
    if parts.path in ("", "/"):
        query = f"&{parts.query}" if parts.query else ""
        return f"{parts.scheme}://{parts.netloc}/ws/viewer-{secrets.token_hex(3)}?client_type=ui{query}"
    match = re.fullmatch(r"/ws/([^/]+)", parts.path)
    if match is None or not _CLIENT_ID.match(match.group(1)):
        raise ValueError(f"a spectator URL looks like ws://HOST:PORT/ws/NAME?client_type=ui, got {raw!r}")
    kinds = parse_qs(parts.query).get("client_type", ["ui"])
    if kinds[0] not in ("ui", "observer"):
        raise ValueError(f"the viewer watches: client_type must be ui or observer, not {kinds[0]!r}")
    return raw


def _size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{3,5})x(\d{3,5})", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"size is WIDTHxHEIGHT, e.g. 1280x800, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser."""
    p = argparse.ArgumentParser(
        prog="python -m viewer",
        description="Watch a game of Loup-Garou: live from a server, or replayed from a log.",
        epilog="Keys: space pause/resume, left/right step (replay), +/- speed (replay), f full/public "
        "view, click a player, mouse wheel or PgUp/PgDn scroll the log, q quit.",
    )
    p.add_argument("url", nargs="?", help="server: ws://HOST:PORT, or the spectator URL run.py prints")
    p.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENV),
        help=f"the admin token, for the full view (roles, wolves' chat, reasoning); default: ${TOKEN_ENV}",
    )
    p.add_argument("--replay", type=Path, metavar="LOG", help="replay a game log (runs/GAME.jsonl) instead")
    p.add_argument(
        "--size", type=_size, default=DEFAULT_SIZE, metavar="WxH", help="window size (default 1280x800)"
    )
    p.add_argument(
        "--until-over",
        type=Path,
        metavar="PNG",
        help="live: save a screenshot there and exit once the game is over",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log the network side to stderr")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and run the viewer; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if (args.url is None) == (args.replay is None):
        parser.error("give a server URL or --replay LOG (one of the two)")
    if args.replay is not None and args.token is not None:
        parser.error("--token is for a live server; a replay already shows everything")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return _run(parser, args)
    except KeyboardInterrupt:  # Ctrl-C in the terminal (also reaches a viewer run.py started)
        return EXIT_INTERRUPTED


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    # pygame is imported only once the arguments are known to be fine.
    if args.replay is not None:
        from viewer.replay import ReplayError, load_replay  # noqa: PLC0415

        try:
            replay = load_replay(args.replay)
        except ReplayError as exc:
            parser.error(str(exc))
        from viewer.app import run_replay  # noqa: PLC0415

        return run_replay(replay, args.size)
    try:
        url = spectator_url(args.url)
    except ValueError as exc:
        parser.error(str(exc))
    from viewer.app import run_live  # noqa: PLC0415

    return run_live(url, args.token, args.size, until_over=args.until_over)


if __name__ == "__main__":
    sys.exit(main())
