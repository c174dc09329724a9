from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import SessionAuthentication

from inventory.mfa.sessions import lacks_second_factor


class SessionWithSecondFactor(SessionAuthentication):
    """DRF's session authentication, except for a session that lacks the second factor its user
    needs (one made before MFA_REQUIRED was turned on): the API then sees nobody, as the admin
    does."""

    def authenticate(self, request):
        found = super().authenticate(request)
        if found is None:
            return None
        return None if lacks_second_factor(request._request) else found


class SessionWithSecondFactorScheme(SessionScheme):
    """The API docs describe it as the session cookie it is."""

    target_class = "inventory.mfa.authentication.SessionWithSecondFactor"
