"""The master files in the admin: upload, preview and confirm an import; download the masters
(employees, tools, and the categories that carry the crib's rules)."""

import base64

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from inventory.core.admin_pages import admin_page
from inventory.core.csv_text import csv_download
from inventory.masterdata.exporting import export_categories, export_employees, export_items
from inventory.masterdata.importing import PlanChanged, Source, apply_import, plan_import

IMPORT_PERMISSIONS = [
    "employees.add_employee",
    "employees.change_employee",
    "items.add_item",
    "items.change_item",
    "items.add_tag",
    "items.change_tag",
    "items.add_category",
    "items.change_category",
    "employees.add_qualification",
    "employees.add_heldqualification",
    "employees.change_heldqualification",
    "employees.delete_heldqualification",
]
FILES = ("employees", "items", "categories")
SESSION_KEY = "master_import"
MAX_UPLOAD = 10 * 1024 * 1024
TEMPLATE = "admin/masterdata/import.html"


def _page(request, title, **context):
    return TemplateResponse(
        request, TEMPLATE, {**admin.site.each_context(request), "title": title, **context}
    )


class ImportForm(forms.Form):
    employees = forms.FileField(label=_("Employees CSV"), required=False)
    items = forms.FileField(label=_("Tools CSV"), required=False)
    categories = forms.FileField(
        label=_("Categories CSV"),
        required=False,
        help_text=_("The crib's rules per category: loan limit, qualification, check before use."),
    )
    replace = forms.BooleanField(
        label=_("Replace"),
        required=False,
        help_text=_(
            "Deactivate employees and retire tools that the uploaded file does not list. "
            "Nothing is deleted."
        ),
    )

    def clean(self):
        data = super().clean()
        if not any(data.get(name) for name in FILES):
            raise forms.ValidationError(_("Choose an employees, a tools or a categories file."))
        for name in FILES:
            upload = data.get(name)
            if upload and upload.size > MAX_UPLOAD:
                self.add_error(
                    name,
                    _("The file is larger than 10 MB; import it with manage.py import_master."),
                )
        return data


@admin_page("import/", name="masterdata_import", permissions=IMPORT_PERMISSIONS)
def master_import(request):
    """Upload → preview (nothing written) → confirm (written all or nothing).

    The uploaded bytes wait in the session between preview and confirm, and the confirm
    step applies only the plan that was shown (its digest), so a change made by someone else
    in between is caught instead of silently imported.
    """
    title = _("Import employees, tools and categories")
    if request.method == "POST" and "confirm" in request.POST:
        return _confirm(request, title)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method != "POST" or not form.is_valid():
        request.session.pop(SESSION_KEY, None)
        return _page(request, title, form=form)
    sources = {
        name: Source(upload.name, upload.read())
        for name in FILES
        if (upload := form.cleaned_data.get(name))
    }
    replace = form.cleaned_data["replace"]
    plan = plan_import(**sources, replace=replace)
    if plan.ok:
        request.session[SESSION_KEY] = {
            "replace": replace,
            "digest": plan.digest(),
            "files": {
                name: [source.name, base64.b64encode(source.data).decode()]
                for name, source in sources.items()
            },
        }
    return _page(request, title, form=form, plan=plan, replace=replace)


def _confirm(request, title):
    stored = request.session.get(SESSION_KEY)
    if not stored or request.POST.get("digest") != stored["digest"]:
        messages.error(request, _("The preview has expired. Upload the files again."))
        return redirect("admin:masterdata_import")
    sources = {
        name: Source(filename, base64.b64decode(data))
        for name, (filename, data) in stored["files"].items()
    }
    try:
        plan = apply_import(**sources, replace=stored["replace"], expected_digest=stored["digest"])
    except PlanChanged:
        messages.error(
            request,
            _("The records changed since the preview. Check the new preview and confirm again."),
        )
        plan = plan_import(**sources, replace=stored["replace"])
        stored["digest"] = plan.digest()
        request.session[SESSION_KEY] = stored
        return _page(
            request,
            title,
            form=ImportForm(),
            plan=plan,
            replace=stored["replace"],
        )
    request.session.pop(SESSION_KEY, None)
    if not plan.ok:
        return _page(request, title, form=ImportForm(), plan=plan)
    counts = plan.counts()
    messages.success(
        request,
        _("Imported: %(created)d created, %(updated)d updated, %(deactivated)d deactivated.")
        % {
            "created": sum(c["create"] for c in counts.values()),
            "updated": sum(c["update"] for c in counts.values()),
            "deactivated": sum(c["deactivate"] for c in counts.values()),
        },
    )
    return redirect("admin:index")


@admin_page(
    "export/employees.csv",
    name="masterdata_export_employees",
    permissions=["employees.view_employee"],
)
def export_employees_csv(request):
    return csv_download(request, export_employees(), name="employees")


@admin_page("export/items.csv", name="masterdata_export_items", permissions=["items.view_item"])
def export_items_csv(request):
    return csv_download(request, export_items(), name="items")


@admin_page(
    "export/categories.csv",
    name="masterdata_export_categories",
    permissions=["items.view_category"],
)
def export_categories_csv(request):
    return csv_download(request, export_categories(), name="categories")
