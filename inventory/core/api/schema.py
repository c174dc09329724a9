"""The OpenAPI schema documents the errors every operation can answer, not only its success:
clients (and the schemathesis run in the tests) can then rely on the schema for every status."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

from inventory.core.api.errors import ErrorSerializer

_ERRORS = {
    "400": "The request is not valid (a body field or a query parameter).",
    "401": "No or invalid credentials.",
    "403": "The user may not do this (Viewers are read-only).",
    "404": "Not found.",
    "405": "The method is not allowed here.",
    "409": "The request conflicts with the current state (e.g. history prevents deleting).",
}


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        wanted = {"400", "401", "403"}
        if "{" in self.path:
            wanted.add("404")
        if self.method == "DELETE":
            wanted.add("409")
        for code in sorted(wanted - set(responses)):
            responses[code] = self._get_response_for_code(ErrorSerializer, code)
            responses[code]["description"] = _ERRORS[code]
        return responses
