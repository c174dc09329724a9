"""CSV as Excel in a Japanese office reads and writes it.

Reading: UTF-8 with or without BOM, or CP932 (what Excel calls Shift_JIS); CRLF or LF; blank
lines skipped; cells trimmed. Writing: UTF-8 with a BOM (without it Excel opens UTF-8 as CP932
and shows mojibake), CRLF, one line at a time so exports stream in constant memory.
"""

import codecs
import csv
import io
import itertools
import re
from collections.abc import AsyncIterator, Iterable, Iterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Excel runs a cell that starts with = + - @ (or a tab or CR before one) as a formula (CSV
# injection); such cells are written behind an apostrophe, which Excel hides and `unescape_cell`
# removes on import. A value that already starts with apostrophes before one of these gets one
# more, so that the import gives back exactly what was exported.
_ESCAPED = re.compile(r"'+[=+\-@\t\r]")
_NEEDS_ESCAPE = re.compile(r"'*[=+\-@\t\r]")


class UndecodableFile(ValueError):
    message = _(
        "The file is neither UTF-8 nor Shift_JIS (CP932) text. Save it from Excel as "
        "“CSV UTF-8” or “CSV (comma delimited)” and upload it again."
    )


def decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8")
        except UnicodeDecodeError:
            raise UndecodableFile() from None  # a UTF-8 file with other text pasted into it
    for encoding in ("utf-8", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UndecodableFile()


class MalformedCsv(ValueError):
    def __init__(self, line: int, reason: str):
        self.line = line
        self.message = _(
            "This line cannot be read as CSV (%(reason)s). Check its quotation marks, or save "
            "the file from Excel as CSV again."
        ) % {"reason": reason}


def read_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, trimmed cells) for every row that has anything in it. The number is the
    line the row ends on, which is the line a person finds it on in an editor. Raises
    MalformedCsv for what the csv module cannot read (a runaway quoted cell, say)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for cells in reader:
            trimmed = [unescape_cell(cell.strip()) for cell in cells]
            if any(trimmed):
                yield reader.line_num, trimmed
    except csv.Error as error:
        raise MalformedCsv(reader.line_num, str(error)) from None


def cannot_write(path, error: OSError) -> str:
    """What to tell someone whose export file could not be written."""
    return _("Cannot write %(path)s (%(reason)s). Choose a folder you can write to.") % {
        "path": path,
        "reason": error.strerror or error,
    }


def unescape_cell(cell: str) -> str:
    return cell[1:] if _ESCAPED.match(cell) else cell


def escape_cell(value):
    if isinstance(value, str) and _NEEDS_ESCAPE.match(value):
        return "'" + value
    return "" if value is None else value


class _Line:
    """A file-like object whose write returns what was written, so csv.writer formats one
    row at a time without a buffer growing behind it."""

    def write(self, value: str) -> str:
        return value


def stream_csv(header: Iterable, rows: Iterable[Iterable]) -> Iterator[bytes]:
    """The encoded lines of a CSV file, BOM first. Nothing is held but the current row."""
    writer = csv.writer(_Line(), lineterminator="\r\n")
    yield codecs.BOM_UTF8 + writer.writerow([str(label) for label in header]).encode()
    for row in rows:
        yield writer.writerow([escape_cell(value) for value in row]).encode()


def csv_download(
    request: HttpRequest, lines: Iterator[bytes], *, name: str
) -> StreamingHttpResponse:
    """A streamed CSV download named `<name>-<local time>.csv`.

    Under ASGI Django reads a synchronous iterator to the end before sending a byte; it gets
    the lines in batches instead, each read in the request's own thread (its database
    connection and the export's cursor live there)."""
    if isinstance(request, ASGIRequest):
        lines = _in_batches(lines)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response


async def _in_batches(lines: Iterator[bytes], size: int = 500) -> AsyncIterator[bytes]:
    read = sync_to_async(lambda: b"".join(itertools.islice(lines, size)), thread_sensitive=True)
    while batch := await read():
        yield batch
