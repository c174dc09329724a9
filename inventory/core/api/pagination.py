from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from inventory.core.paging import COUNT_CAP, CappedCountPaginator


class FoundPaginator(CappedCountPaginator):
    sort_found = True


class Pagination(PageNumberPagination):
    """Pages of `page_size` rows with `next` and `previous` links. A year of loans or history is
    millions of rows: a list is counted up to COUNT_CAP rows only, so `count` is exact up to
    there and `count_exact` says whether it is; `next` leads on past the count to the end."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    django_paginator_class = CappedCountPaginator

    def paginate_queryset(self, queryset, request, view=None):
        # A search is an OR of indexes that none holds in the list's order: counted exactly, its
        # rows are sorted as found (paging.sorted_as_found). One paginator per request.
        if request.query_params.get("search", "").strip():
            self.django_paginator_class = FoundPaginator
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        return Response(
            {
                "count": int(paginator.count),
                "count_exact": paginator.count_exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["required"] = ["count", "count_exact", "results"]
        response["properties"]["count"]["description"] = (
            f"How many rows the list holds, counted up to {COUNT_CAP}: beyond, {COUNT_CAP} "
            "and `count_exact` is false. Follow `next` to the end rather than computing pages."
        )
        response["properties"] = {
            "count": response["properties"]["count"],
            "count_exact": {
                "type": "boolean",
                "description": f"False when the list holds more than {COUNT_CAP} rows.",
                "example": True,
            },
            **response["properties"],
        }
        return response
