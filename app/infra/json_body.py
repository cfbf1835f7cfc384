"""Strict JSON request bodies: `application/json` only, decoded in msgspec's strict mode.

Litestar's own body parsing reads any content type as JSON and converts leniently, so a
cross-site `text/plain` form post became an order (no CORS preflight is needed for it) and
`"quantity": "2"` passed as 2. Run as the route's `before_request` hook, before Litestar
parses the body: every refusal is a plain 4xx naming the field, nothing is written."""

from __future__ import annotations

import difflib
import re
from collections.abc import Awaitable, Callable
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import msgspec
import msgspec.inspect
from litestar import Request
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE

JSON = "application/json"
_AT = re.compile(r" - at `\$\.?([^`]*)`$")

# Text patterns of the request schemas, and what to say when one is not met (msgspec's
# message quotes the regex, which tells an API client's developer little).
# Postgres text cannot hold NUL: an order carrying one could be paid but never stored.
NO_NUL = r"^[^\x00]*$"
# A name or phone number is one line of text: no control characters, C1's too (a line break
# in a name went into the email's text as "Thanks, x\r\nBcc: …"; U+0085 and U+2028/U+2029
# are line breaks as well, U+009B an escape sequence), and no bidirectional overrides
# (U+202A-U+202E, U+2066-U+2069: a name that reads backwards on the ticket).
# msgspec applies a pattern with `re.search`, where `$` also matches before a final "\n"
# ("Ada\n" passed); `(?!\n)` closes that. Not `\Z`: the pattern is also the OpenAPI
# schema's, an ECMA-262 regex, which has no `\Z` (there `$` is the end, `(?!\n)` a no-op).
ONE_LINE = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]*$(?!\n)"
# Free text a kitchen reads (notes, allergies, an address): line breaks and tabs are fine,
# but no other control character (an ESC or BEL reaches the printer's ticket as a command)
# and no direction override, which shows "\u202estunaep" as "peanuts" on a ticket.
NO_OVERRIDE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*$"
PLAIN = {
    NO_NUL: "must not contain NUL characters",
    NO_OVERRIDE: "must not contain control characters (line breaks and tabs are fine) or "
                 "text-direction overrides",
    ONE_LINE: "must be one line of text: no line breaks, tabs or other control characters, "
              "and no text-direction overrides",
}


_COMPILED = {pattern: re.compile(pattern) for pattern in PLAIN}


def text_problem(text: str, pattern: str) -> str:
    """For text read by hand (HTML forms): PLAIN's words if `text` breaks `pattern` (one of
    the three above), else "". The whole text must match: `$` alone also matches before a
    final line break, so "Ada\\n" would pass."""
    return "" if _COMPILED[pattern].fullmatch(text) else PLAIN[pattern]


def plain_message(message: str) -> str:
    """msgspec's message for a broken pattern in words (others as they are)."""
    for pattern, plain in PLAIN.items():
        if message == f"Expected `str` matching regex {pattern!r}":
            return plain
    return message


def _problem(error: msgspec.ValidationError, at: str = "") -> dict[str, Any]:
    """msgspec's refusal of a value found at `at` ("" the body) as a field problem."""
    message = str(error)
    found = _AT.search(message)
    inner = found.group(1) if found else ""
    key = (f"{at}{inner}" if inner.startswith("[") else f"{at}.{inner}" if at and inner
           else at or inner)
    return {"key": key or None,
            "message": plain_message(message[:found.start()] if found else message),
            "source": "body"}


def _inner(type_: Any, value: Any) -> Any:
    """The type a value is checked against inside `Annotated[...]` and `X | None`."""
    while get_origin(type_) is Annotated:
        type_ = get_args(type_)[0]
    if get_origin(type_) in (Union, UnionType):
        arms = [_inner(arm, value) for arm in get_args(type_)]
        fits = [arm for arm in arms if (isinstance(value, dict) and _is_struct(arm))
                or (isinstance(value, list) and get_origin(arm) is list)]
        return fits[0] if fits else type_
    return type_


def _is_struct(type_: Any) -> bool:
    return isinstance(type_, type) and issubclass(type_, msgspec.Struct)


def every_problem(value: Any, type_: Any, at: str = "") -> list[dict[str, Any]]:
    """Every field of `value` (decoded JSON) that is not a `type_`, where msgspec stops at
    the first: a client, or a diner through the menu's checkout, fixes them all in one go
    instead of meeting them one per try. [] when `value` is a `type_`."""
    try:
        msgspec.convert(value, type_, strict=True)
        return []
    except msgspec.ValidationError as error:
        first = _problem(error, at)
    inner = _inner(type_, value)
    if isinstance(value, dict) and _is_struct(inner):
        found: list[dict[str, Any]] = []
        for field in msgspec.structs.fields(inner):
            name = f"{at}.{field.encode_name}" if at else field.encode_name
            if field.encode_name in value:
                found += every_problem(value[field.encode_name], field.type, name)
            elif field.required:
                found.append({"key": name, "source": "body", "message":
                              f"Object missing required field `{field.encode_name}`"})
        return found or [first]  # the struct itself refused (a union, unknown fields)
    if isinstance(value, list) and get_origin(inner) is list and first["key"] != (at or None):
        (item_type,) = get_args(inner)
        found = [problem for index, item in enumerate(value)
                 for problem in every_problem(item, item_type, f"{at}[{index}]")]
        return found or [first]
    return [first]  # the list's own length, a wrong type, a bad value


def _integral_floats_as_ints(value: Any) -> Any:
    """JSON Schema (our OpenAPI document) counts 27.0 as an integer; strict mode does not."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral_floats_as_ints(item) for item in value]
    if isinstance(value, dict):
        return {key: _integral_floats_as_ints(item) for key, item in value.items()}
    return value


# Problems beyond the schema's, found in a body the schema refused (decoded JSON in; field
# problems out, keyed as `every_problem` keys them): said in the same 400.
MoreProblems = Callable[[Any], list[dict[str, Any]]]


def decode_strict(body: bytes, type_: type[Any], more: MoreProblems | None = None) -> Any:
    """The body as `type_`, or a 400 naming every field that is wrong with it. Strict: a
    string is never read as a number (`"quantity": "2"`), nor a number as a string."""
    try:
        try:  # typed in one pass: a refusal names its field, e.g. `items[0].quantity`
            return msgspec.json.decode(body, type=type_, strict=True)
        except msgspec.ValidationError as typed_error:
            # perhaps only an integral float (27.0); an untyped decode has no field names,
            # so a number out of any float's range (1e400) keeps the typed refusal
            try:
                loose = _integral_floats_as_ints(msgspec.json.decode(body))
            except msgspec.ValidationError:
                raise ValidationException(detail="Validation failed for the request body",
                                          extra=[_problem(typed_error)]) from None
            try:
                return msgspec.convert(loose, type_, strict=True)
            except msgspec.ValidationError:
                problems = every_problem(loose, type_)
                raise ValidationException(detail="Validation failed for the request body",
                                          extra=_with_more(problems, loose, more)) from None
    except msgspec.DecodeError:
        raise ValidationException(detail="The request body is not valid JSON") from None
    except RecursionError:  # msgspec (and json) give up on ~1,000 levels of nesting
        raise ValidationException(detail="The request body is nested too deeply") from None


def _with_more(problems: list[dict[str, Any]], value: Any,
               more: MoreProblems | None) -> list[dict[str, Any]]:
    """`problems`, then those `more` finds in fields they do not name already."""
    named = {problem["key"] for problem in problems}
    return problems + [problem for problem in (more(value) if more else [])
                       if problem["key"] not in named]


# How alike an unknown field and a known one must be to be taken for a typo of it
# (difflib's ratio: "allergies" and "allergy" are 0.75, "note" and "notes" 0.89).
NEAR_MISS = 0.7


def _struct_of(info: Any) -> Any:
    """The struct type inside a field's type (through lists, optionals, constraints)."""
    while True:
        if isinstance(info, msgspec.inspect.StructType):
            return info
        if isinstance(info, msgspec.inspect.Metadata | msgspec.inspect.ListType):
            info = info.type if isinstance(info, msgspec.inspect.Metadata) else info.item_type
        elif isinstance(info, msgspec.inspect.UnionType):
            found = [_struct_of(option) for option in info.types]
            return next((struct for struct in found if struct is not None), None)
        else:
            return None


def near_misses(value: Any, info: Any, at: str = "") -> list[dict[str, Any]]:
    """Unknown fields that look like a typo of a known one ("allergies" for "allergy"): a
    client's allergy would be dropped without a word, as unknown fields are. Other unknown
    fields are still ignored (a client may send more than the contract names)."""
    struct = _struct_of(info)
    if struct is None:
        return []
    if isinstance(value, list):
        return [miss for index, item in enumerate(value)
                for miss in near_misses(item, struct, f"{at}[{index}]")]
    if not isinstance(value, dict):
        return []
    fields = {field.encode_name: field for field in struct.fields}
    found: list[dict[str, Any]] = []
    for key, item in value.items():
        name = f"{at}.{key}" if at else str(key)
        if key in fields:
            found += near_misses(item, fields[key].type, name)
        elif close := difflib.get_close_matches(str(key), list(fields), n=1, cutoff=NEAR_MISS):
            known = f"{at}.{close[0]}" if at else close[0]
            found.append({"key": name, "message": f"unknown field; did you mean `{known}`?",
                          "source": "body"})
    return found


def strict_json(type_: type[Any], more: MoreProblems | None = None
                ) -> Callable[[Request[Any, Any, Any]], Awaitable[None]]:
    """A `before_request` hook refusing non-JSON content types and bodies that are not a
    `type_` in strict mode (Litestar then parses the same body, already known good). A
    refusal names every field wrong, those `more` finds (the handler's own checks) too."""

    info = msgspec.inspect.type_info(type_)  # once: building it costs a millisecond

    async def check(request: Request[Any, Any, Any]) -> None:
        media_type = request.content_type[0]
        if media_type != JSON:
            raise HTTPException(status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                                detail=f"Send the body as {JSON} (got {media_type or 'none'})")
        body = await request.body()
        decode_strict(body, type_, more)
        value = msgspec.json.decode(body)
        if misses := near_misses(value, info):
            raise ValidationException(detail="Validation failed for the request body",
                                      extra=_with_more(misses, value, more))

    return check
