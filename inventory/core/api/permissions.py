from rest_framework.permissions import DjangoModelPermissions


class ReadOrManage(DjangoModelPermissions):
    """Reading needs the model's view permission (the Viewers and Managers groups); writing needs
    its add/change/delete permission (Managers). A view can name the permissions of a custom
    action in `action_permissions`, e.g. returning a loan needs loans.change_loan."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view):
        named = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if named is not None:
            user = request.user
            return bool(user and user.is_authenticated and user.has_perms(named))
        return super().has_permission(request, view)
