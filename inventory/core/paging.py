"""Pages of lists that grow without end (loans, their history, the kiosks' taps): a year of them is
millions of rows, and counting them all on every page costs more than showing the page.

The paginator counts a list exactly up to COUNT_CAP rows; past it, the list is "more than
COUNT_CAP", every page past the counted ones can still be asked for, and a page knows whether
another follows by reading one row more than it shows.
"""

from functools import cached_property

from django.core.paginator import EmptyPage, Page, Paginator
from django.db.models import F, OrderBy
from django.db.models.functions import Coalesce

COUNT_CAP = 10_000


class AtLeast(int):
    """A count known only to be at least this much. It compares and adds as the number, and
    reads "10000+" wherever it is printed (the admin's "10000+ loans")."""

    def __str__(self) -> str:
        return f"{int(self)}+"


class CappedCountPaginator(Paginator):
    cap = COUNT_CAP
    # Set where the list's filter is one no index can give in order (a search: an OR of several
    # indexes): a page of a list counted exactly is then sorted from the rows found
    # (sorted_as_found). A filter that has an index in the list's order is better read along it.
    sort_found = False

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
        if self.count_exact and self.sort_found:
            bottom = (number - 1) * self.per_page
            top = bottom + self.per_page
            if top + self.orphans >= self.count:
                top = self.count
            return self._get_page(sorted_as_found(self.object_list)[bottom:top], number, self)
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


def sorted_as_found(rows):
    """`rows` in the same order, sorted from the rows their filter finds rather than read in
    that order along the index of the first sort key.

    For a search of a list just counted exactly: at most COUNT_CAP rows match, and the count
    found them through the search's indexes (an OR of a few) in a few milliseconds. Left to
    itself, PostgreSQL pages the search by walking the date's index backwards and testing every
    row against the whole OR until a page has passed: with a few thousand matches among two
    million, tens of thousands of rows per page (40-50 ms for a tool's history), and more the
    further the page. The same key wrapped in COALESCE(key, key), which sorts exactly as the
    key, is something no index serves: the planner finds the matching rows and sorts them (a
    top-N sort of at most COUNT_CAP rows). Not for a filter with an index in the list's order
    (a rare outcome's, a station's): read along it, a page is its first rows."""
    query = getattr(rows, "query", None)
    if query is None:
        return rows
    ordering = list(query.order_by or (query.get_meta().ordering if query.default_ordering else []))
    if not ordering:
        return rows
    first = ordering[0]
    if isinstance(first, str) and first != "?" and not first.lstrip("-").startswith("?"):
        name, descending = first.lstrip("-"), first.startswith("-")
    elif isinstance(first, OrderBy) and isinstance(first.expression, F):
        name, descending = first.expression.name, first.descending
    else:
        return rows
    key = Coalesce(F(name), F(name))
    return rows.order_by(key.desc() if descending else key.asc(), *ordering[1:])
