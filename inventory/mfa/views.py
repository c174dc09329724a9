"""The admin's login in two steps, enrolment, and the one showing of the backup codes. Mounted
under /admin/ by config.admin.AdminSite, which also puts `gate` in front of every admin page."""

from base64 import b32encode
from functools import wraps
from urllib.parse import urlencode

import django_otp
import segno
from django.contrib import auth, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from inventory.mfa import devices, policy, sessions
from inventory.mfa.forms import CodeForm

NEW_CODES = "mfa_new_codes"


def urls(site) -> list:
    return [
        path("mfa/verify/", never_cache(_with_site(site, verify)), name="mfa_verify"),
        path("mfa/enrol/", never_cache(_with_site(site, enrol)), name="mfa_enrol"),
        path(
            "mfa/backup-codes/",
            site.admin_view(_with_site(site, backup_codes)),
            name="mfa_backup_codes",
        ),
    ]


def gate(site, view):
    """In front of every admin page: a session that lacks the second factor it needs goes back
    to the code (or to enrolment), and reaches nothing else."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        match = request.resolver_match
        if match and match.url_name == "logout":
            return view(request, *args, **kwargs)
        if sessions.lacks_second_factor(request):
            user = request.user
            sessions.demote(request)
            return _next_step(user, request.get_full_path())
        return view(request, *args, **kwargs)

    return guarded


def login(site, request, extra_context=None):
    """Django's AdminSite.login with a login view that stops after the password when a second
    factor is needed."""
    if request.method == "GET" and site.has_permission(request):
        return redirect("admin:index")
    context = {
        **site.each_context(request),
        "title": _("Log in"),
        "subtitle": None,
        "app_path": request.get_full_path(),
        "username": request.user.get_username(),
    }
    if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
        context[REDIRECT_FIELD_NAME] = reverse("admin:index")
    context.update(extra_context or {})
    request.current_app = site.name
    return _PasswordStep.as_view(
        extra_context=context,
        authentication_form=site.login_form or AdminAuthenticationForm,
        template_name=site.login_template or "admin/login.html",
    )(request)


class _PasswordStep(LoginView):
    def form_valid(self, form):
        user = form.get_user()
        if not policy.needs_second_factor(user):
            response = super().form_valid(form)
            sessions.judge_new_login(self.request)
            return response
        if self.request.user.is_authenticated:
            auth.logout(self.request)
        sessions.begin(self.request, user, user.backend)
        return _next_step(user, self.get_success_url())


def _next_step(user, next_url):
    step = "admin:mfa_verify" if policy.has_device(user) else "admin:mfa_enrol"
    return redirect(f"{reverse(step)}?{urlencode({REDIRECT_FIELD_NAME: next_url})}")


def verify(site, request):
    user = sessions.pending_user(request)
    if user is None:
        return _back_to_login(request)
    if not policy.has_device(user):
        # Reset by a superuser between the password and the code.
        return _next_step(user, _next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = devices.verify(user=user, code=form.cleaned_data["code"])
        if device is not None:
            sessions.finish(request, user, device)
            return redirect(_next_url(request))
        form.add_error("code", _wrong_code())
    return _page(
        site,
        request,
        "admin/mfa/verify.html",
        _("Second factor"),
        form=form,
        person=user,
    )


def enrol(site, request):
    """Set up the authenticator app: for someone who must have one and has none (half-way
    through logging in), or for anyone logged in who wants one. Replacing a phone needs a
    session that showed the old one: enrolling must never be a way around the code."""
    user = sessions.pending_user(request)
    if user is None:
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            return _back_to_login(request)
        if policy.has_device(user) and not user.is_verified():
            return redirect("admin:index")
    elif policy.has_device(user):
        return _next_step(user, _next_url(request))
    device = devices.start_enrolment(user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        confirmed = devices.confirm_enrolment(
            user=user, device_id=device.pk, code=form.cleaned_data["code"]
        )
        if confirmed is not None:
            phone, codes = confirmed
            if request.user.is_authenticated:
                django_otp.login(request, phone)
            else:
                sessions.finish(request, user, phone)
            sessions.end_other_sessions(user, keep=request.session.session_key)
            request.session[NEW_CODES] = codes
            query = urlencode({REDIRECT_FIELD_NAME: _next_url(request)})
            return redirect(f"{reverse('admin:mfa_backup_codes')}?{query}")
        form.add_error("code", _wrong_code())
    secret = b32encode(device.bin_key).decode()
    # segno writes the SVG itself and escapes what it encodes.
    qr = mark_safe(segno.make(device.config_url, error="m").svg_inline(scale=5, border=2))
    return _page(
        site,
        request,
        "admin/mfa/enrol.html",
        _("Set up the second factor"),
        form=form,
        person=user,
        qr=qr,
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        required=policy.is_required(user),
    )


def backup_codes(site, request):
    codes = request.session.pop(NEW_CODES, None)
    if codes is None:
        messages.info(
            request,
            _("Backup codes are shown only once. A superuser can reset your second factor."),
        )
        return redirect("admin:index")
    return _page(
        site,
        request,
        "admin/mfa/backup_codes.html",
        _("Your backup codes"),
        codes=codes,
        next_url=_next_url(request),
    )


def _page(site, request, template, title, **context):
    request.current_app = site.name
    context = {**site.each_context(request), "title": title, **context}
    context.setdefault("next_url", _next_url(request))
    return render(request, template, context)


def _next_url(request) -> str:
    wanted = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    safe = url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return wanted if safe else reverse("admin:index")


def _back_to_login(request):
    messages.info(
        request, _("Log in with your password first (again, if the last login took too long).")
    )
    query = urlencode({REDIRECT_FIELD_NAME: _next_url(request)})
    return redirect(f"{reverse('admin:login')}?{query}")


def _wrong_code():
    return _(
        "That code is wrong, expired or already used. Wait for the next code in the "
        "authenticator app and try again."
    )


def _with_site(site, view):
    @wraps(view)
    def bound(request, *args, **kwargs):
        return view(site, request, *args, **kwargs)

    return bound
