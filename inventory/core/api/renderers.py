"""DRF's browsable API under the project's Content-Security-Policy."""

from csp.constants import UNSAFE_INLINE
from rest_framework import renderers


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's templates place a few buttons with style attributes (float: right); its scripts are
    all files. Only these pages allow style attributes, never style elements or inline script:
    an attribute styles its own element and cannot select others."""

    def get_context(self, data, accepted_media_type, renderer_context):
        context = super().get_context(data, accepted_media_type, renderer_context)
        # Pygments' colours for code in Markdown descriptions come as a style element.
        context["code_style"] = None
        return context

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response._csp_update = {"style-src-attr": [UNSAFE_INLINE]}
        return super().render(data, accepted_media_type, renderer_context)
