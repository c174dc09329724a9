import io

from django.core.management.base import OutputWrapper

from inventory.masterdata.progress import ProgressBar


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_draws_a_bar_on_a_terminal_and_ends_the_line_when_done():
    screen = Terminal()
    bar = ProgressBar(OutputWrapper(screen), "Writing")

    bar(1, 4)
    bar(2, 4)  # within 0.1 s of the last drawing: skipped
    bar(4, 4)

    assert screen.getvalue() == (
        "\rWriting [#######-----------------------] 1/4"
        "\rWriting [##############################] 4/4\n"
    )


def test_stays_silent_when_the_output_is_not_a_terminal():
    log = io.StringIO()
    bar = ProgressBar(OutputWrapper(log), "Writing")
    bar(1, 2)
    bar(2, 2)
    assert log.getvalue() == ""
