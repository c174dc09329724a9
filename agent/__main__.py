"""python -m agent [--env-file PATH] [run | status | check]"""

import argparse
import logging
import os
import sys
from pathlib import Path

from agent import __version__, commands, runner
from agent.config import ConfigError, load_config, load_local_settings

EXIT_CONFIG = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m agent", description="Toolcrib kiosk agent: NFC reader to server."
    )
    parser.add_argument(
        "--env-file",
        type=Path,
        default=os.environ.get("AGENT_ENV_FILE") or None,
        help="KEY=VALUE settings file (default: $AGENT_ENV_FILE); the environment overrides it",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=("run", "status", "check"),
        help="run the agent (default), show the running agent's state, or check the set-up",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "status":
            return commands.status(load_local_settings(os.environ, args.env_file))
        config = load_config(os.environ, args.env_file)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"configuration error: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    setup_logging(config.log_level)
    if args.command == "check":
        return commands.check(config)
    return runner.run(config)


def setup_logging(level: str) -> None:
    # Under systemd, journald stamps every line itself (JOURNAL_STREAM is set for us).
    stamp = "" if os.environ.get("JOURNAL_STREAM") else "%(asctime)s "
    logging.basicConfig(level=level, format=stamp + "%(levelname)s %(name)s: %(message)s")


if __name__ == "__main__":
    sys.exit(main())
