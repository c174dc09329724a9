"""The one way to add an admin page that is not a model's list or form: a view in its app's
`admin_views.py` decorated with `admin_page` (config.apps imports every such module, as the
admin imports every admin.py). The admin site mounts each page under /admin/ as
`admin:<name>`; staff who lack one of its permissions get 403, anyone else the login page.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps

from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied
from django.urls import URLPattern, path


@dataclass(frozen=True)
class Page:
    route: str
    view: Callable
    name: str
    permissions: tuple[str, ...]
    kwargs: dict = field(default_factory=dict)


PAGES: list[Page] = []


def admin_page(route: str, *, name: str, permissions: list[str], kwargs: dict | None = None):
    """Register the decorated view at /admin/<route> for staff who hold all `permissions`."""
    if not permissions:
        raise ValueError(f"admin page {name} must name the permissions it needs")

    def register(view):
        PAGES.append(Page(route, view, name, tuple(permissions), kwargs or {}))
        return view

    return register


def urls(site: AdminSite) -> list[URLPattern]:
    return [
        path(page.route, site.admin_view(_guarded(page)), page.kwargs, name=page.name)
        for page in PAGES
    ]


def _guarded(page: Page):
    @wraps(page.view)
    def view(request, *args, **kwargs):
        if not request.user.has_perms(page.permissions):
            raise PermissionDenied
        return page.view(request, *args, **kwargs)

    return view
