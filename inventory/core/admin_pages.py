"""The one way to add an admin page that is not a model's list or form: a view in its app's
`admin_views.py` decorated with `admin_page` (config.apps imports every such module, as the
admin imports every admin.py). The admin site mounts each page under /admin/ as
`admin:<name>`; staff who lack one of its permissions get 403, anyone else the login page.
A permission that no model defines (a typo) stops the start: it would leave the page to the
superuser alone without a word. tests/test_access_matrix.py must say who may open each page.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps

from django.apps import apps
from django.contrib.admin import AdminSite
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
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
    defined = _defined_permissions()
    for page in PAGES:
        unknown = [name for name in page.permissions if name not in defined]
        if unknown:
            raise ImproperlyConfigured(f"admin page {page.name} names no such permission {unknown}")
    return [
        path(page.route, site.admin_view(_guarded(page)), page.kwargs, name=page.name)
        for page in PAGES
    ]


def _defined_permissions() -> set[str]:
    """Every "app_label.codename" the models define (their default and their own)."""
    defined = set()
    for model in apps.get_models():
        opts = model._meta
        defined |= {
            f"{opts.app_label}.{action}_{opts.model_name}" for action in opts.default_permissions
        }
        defined |= {f"{opts.app_label}.{codename}" for codename, _name in opts.permissions}
    return defined


def _guarded(page: Page):
    @wraps(page.view)
    def view(request, *args, **kwargs):
        if not request.user.has_perms(page.permissions):
            raise PermissionDenied
        return page.view(request, *args, **kwargs)

    return view
