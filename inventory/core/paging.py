"""Pages of lists that grow without end (loans, their history, the kiosks' taps): a year of them is
millions of rows, and counting them all on every page costs more than showing the page.

The paginator counts a list exactly up to COUNT_CAP rows; past it, the list is "more than
COUNT_CAP", every page past the counted ones can still be asked for, and a page knows whether
another follows by reading one row more than it shows.
"""

from functools import cached_property

from django.core.paginator import EmptyPage, Page, Paginator

COUNT_CAP = 10_000


class AtLeast(int):
    """A count known only to be at least this much. It compares and adds as the number, and
    reads "10000+" wherever it is printed (the admin's "10000+ loans")."""

    def __str__(self) -> str:
        return f"{int(self)}+"


class CappedCountPaginator(Paginator):
    cap = COUNT_CAP

    @cached_property
    def count(self) -> int:
        # COUNT(*) over at most cap + 1 rows, in no particular order: the table (or the index
        # of a filter) is read that far and no further.
        counted = self.object_list.order_by()[: self.cap + 1].count()
        return counted if counted <= self.cap else AtLeast(self.cap)

    @property
    def count_exact(self) -> bool:
        return not isinstance(self.count, AtLeast)

    def validate_number(self, number):
        try:
            return super().validate_number(number)
        except EmptyPage:
            if self.count_exact or int(number) < 1:
                raise
            return int(number)  # past the counted rows: page() finds out whether it exists

    def page(self, number):
        number = self.validate_number(number)
        if self.count_exact:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows:
            raise EmptyPage(self.error_messages["no_results"])
        return OpenEndedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)

    def get_elided_page_range(self, number=1, *, on_each_side=3, on_ends=2):
        yield from super().get_elided_page_range(number, on_each_side=on_each_side, on_ends=on_ends)
        if not self.count_exact:
            yield self.ELLIPSIS  # more pages than were counted


class OpenEndedPage(Page):
    """A page of a list whose end was not counted: it knows only whether another page follows."""

    def __init__(self, object_list, number, paginator, *, more: bool):
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more

    def end_index(self) -> int:
        return self.start_index() + len(self) - 1
