"""The API's JSON parser: any nesting depth is a 400, never a 500."""

import re
from io import BytesIO

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as DRFJSONParser

# Deeper than any body of this API needs (the deepest is a schedule: object, list, object).
MAX_DEPTH = 32
TOO_DEEP = _("JSON parse error - the body is nested too deeply.")


# The closing quote is optional, so that an unclosed string is consumed once, to the end, instead
# of the search starting over at every later quote (quadratic: 64 KB of \" took 30 s).
STRING = re.compile(r'"(?:[^"\\]|\\.)*"?', re.DOTALL)
BRACKET = re.compile(r"[\[\]{}]")


def _depth_exceeds(text: str, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than `limit`; no recursion, strings skipped."""
    depth = 0
    for match in BRACKET.finditer(STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > limit:
            return True
    return False


class JSONParser(DRFJSONParser):
    """DRF's parser, which let the json module's RecursionError (about 1,000 levels) become a 500.

    The depth is checked before parsing, so a body of a few kilobytes cannot make the parser
    recurse at all; and a RecursionError that still occurs is a 400 too.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as error:
            raise ParseError(f"JSON parse error - {error}") from error
        if _depth_exceeds(text, MAX_DEPTH):
            raise ParseError(TOO_DEEP)
        try:
            return super().parse(BytesIO(raw), media_type, parser_context)
        except RecursionError as error:
            raise ParseError(TOO_DEEP) from error
