"""The arguments `restore` and `verify_backup` share: the archive, and whether to accept one
this installation did not sign. (Django does not take a module whose name starts with `_` for a
command.)"""

from pathlib import Path


def add_archive_arguments(parser) -> None:
    parser.add_argument("archive", type=Path)
    parser.add_argument(
        "--trust-unsigned",
        action="store_true",
        help="Accept an archive this installation did not sign (written before backups were "
        "signed, or by a server with another key) after a warning. Only for an archive whose "
        "origin you know.",
    )
