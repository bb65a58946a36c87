"""How PD's Go handlers write responses and read requests, for the aiohttp handlers.

* ``rd_json`` is ``unrolled/render``'s ``JSON``: 2-space indent, trailing newline,
  ``application/json; charset=UTF-8``;
* ``rd_data`` is ``Data``: the bytes as given, ``application/octet-stream``;
* ``http_error`` is Go's ``http.Error``: plain text plus newline, ``text/plain; charset=utf-8``;
* ``errcode_response`` is ``apiutil.ErrorResp`` for input errors: 400 with the errcode object.

A body that is not JSON is refused as PD refuses it (``loads``: a 400 errcode object with an offset;
docs/pd.md, "Status codes").
Path ids are parsed like ``strconv.ParseUint`` / ``strconv.Atoi``, with Go's error texts.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from pd.simulator.errors import InputError, JSONError
from pd.simulator.gofmt import dumps_indent, go_quote, json_kind

JSON_CONTENT_TYPE = "application/json; charset=UTF-8"
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"
DATA_CONTENT_TYPE = "application/octet-stream"
NOT_FOUND_TEXT = "404 page not found"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def rd_json(value: Any, status: int = 200) -> web.Response:
    """``rd.JSON(w, status, value)``."""
    body = (dumps_indent(value) + "\n").encode("utf-8")
    return web.Response(status=status, body=body, headers={"Content-Type": JSON_CONTENT_TYPE})


def rd_data(body: str, status: int = 200) -> web.Response:
    """``rd.Data(w, status, bytes)``: compact bytes, no newline."""
    return web.Response(status=status, body=body.encode("utf-8"), headers={"Content-Type": DATA_CONTENT_TYPE})


def http_error(status: int, text: str) -> web.Response:
    """Go's ``http.Error(w, text, status)``."""
    return web.Response(
        status=status,
        body=(text + "\n").encode("utf-8"),
        headers={"Content-Type": TEXT_CONTENT_TYPE, "X-Content-Type-Options": "nosniff"},
    )


def plain_text(status: int, text: str) -> web.Response:
    """A raw ``w.Write`` of text (Go sniffs the content type as plain text)."""
    return web.Response(status=status, body=text.encode("utf-8"), headers={"Content-Type": TEXT_CONTENT_TYPE})


def errcode_response(msg: str, data: dict[str, Any], status: int = 400, code: str = "input") -> web.Response:
    """``apiutil.ErrorResp`` for an errcode error: the JSON object plus ``TiDB-Error-Code``."""
    response = rd_json({"code": code, "msg": msg, "data": data}, status)
    response.headers["TiDB-Error-Code"] = code
    return response


def not_found() -> web.Response:
    """gorilla/mux's 404 for an unknown path."""
    return http_error(404, NOT_FOUND_TEXT)


def method_not_allowed() -> web.Response:
    """gorilla/mux's 405: status only, empty body."""
    return web.Response(status=405)


def ok_message(message: str) -> web.Response:
    """The usual 200 body: a quoted JSON string."""
    return rd_json(message)


class BodySyntaxError(ValueError):
    """A body that is not one JSON value: the message and offset of Go's ``json.SyntaxError``, roughly.

    A truncated body gets Go's own text (``unexpected end of JSON input``); otherwise the message
    names the character where Python's decoder stopped (``invalid character 'f' (expecting value)``),
    which can be a few bytes before where Go's scanner stops. The bot never sends such a body.
    """

    def __init__(self, msg: str, offset: int) -> None:
        super().__init__(msg)
        self.msg = msg
        self.offset = offset


class _NotGoJSON(ValueError):
    """NaN or ±Infinity: Python's decoder takes them, Go's does not (never more lenient than PD)."""


def _refuse_constant(name: str) -> Any:
    raise _NotGoJSON(name)


def loads(data: bytes) -> Any:
    """Decode a request body as Go's ``encoding/json`` accepts it; ``BodySyntaxError`` when it cannot."""
    text = data.decode("utf-8", errors="replace")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        pos, reason = exc.pos, exc.msg
        truncated = pos >= len(text.rstrip(" \t\r\n")) or reason.startswith("Unterminated string")
    except _NotGoJSON as exc:
        pos, reason, truncated = text.find(str(exc).lstrip("-")), "Expecting value", False
    if truncated:
        raise BodySyntaxError("unexpected end of JSON input", len(data))
    char = text[pos]
    quoted = {"'": "'\\''", '"': "'\"'"}.get(char, "'" + go_quote(char)[1:-1] + "'")
    offset = len(text[:pos].encode("utf-8")) + 1
    reason = reason.removesuffix(" at")  # "Invalid control character at"
    raise BodySyntaxError(f"invalid character {quoted} ({reason[:1].lower()}{reason[1:]})", offset)


async def read_body(request: web.Request) -> Any:
    """Decode the body; a syntax error becomes PD's 400 errcode object."""
    try:
        return loads(await request.read())
    except BodySyntaxError as exc:
        raise InputError(exc.msg, {"Offset": exc.offset}) from None


def _type_mismatch(value: Any, go_type: str, offset: int) -> InputError:
    kind = json_kind(value)
    return InputError(
        f"json: cannot unmarshal {kind} into Go value of type {go_type}",
        {"Value": kind, "Type": {}, "Offset": offset, "Struct": "", "Field": ""},
    )


async def read_object(request: web.Request) -> dict[str, Any]:
    """``ReadJSONRespondError`` into ``map[string]any``: ``null`` gives an empty map."""
    value = await read_body(request)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _type_mismatch(value, "map[string]interface {}", 1)
    return value


async def read_int_map(request: web.Request, go_type: str = "int64") -> dict[str, int]:
    """``ReadJSONRespondError`` into ``map[string]int64`` (scheduler pause bodies)."""
    value = await read_body(request)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _type_mismatch(value, f"map[string]{go_type}", 1)
    out: dict[str, int] = {}
    for key, item in value.items():
        if item is None:
            out[key] = 0
            continue
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise _type_mismatch(item, go_type, 0)
        if isinstance(item, float) and not item.is_integer():
            kind = f"number {item}"
            raise InputError(
                f"json: cannot unmarshal {kind} into Go value of type {go_type}",
                {"Value": kind, "Type": {}, "Offset": 0, "Struct": "", "Field": ""},
            )
        out[key] = int(item)
    return out


def is_number(value: Any) -> bool:
    """True for what Go decodes as ``float64`` (a JSON number, not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def as_uint64(value: Any) -> int:
    """Go's ``uint64(float64)`` for the ids PD reads from bodies (call after ``is_number``)."""
    return int(value) % 2**64


def parse_uint(text: str) -> int | None:
    """``strconv.ParseUint(text, 10, 64)``; None on failure."""
    if not text or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if value < 2**64 else None


def parse_uint_error(text: str) -> str:
    """Go's error text for a failed ``strconv.ParseUint``."""
    if text and text.isascii() and text.isdigit():
        return f"strconv.ParseUint: parsing {go_quote(text)}: value out of range"
    return f"strconv.ParseUint: parsing {go_quote(text)}: invalid syntax"


def path_uint_errcode(text: str) -> int:
    """``apiutil.ParseUint64VarsField``: a bad id is a 400 errcode object."""
    value = parse_uint(text)
    if value is None:
        raise InputError(parse_uint_error(text), {})
    return value


def path_uint_string(text: str) -> int:
    """A handler that parses with ``strconv.ParseUint`` and answers a 400 JSON string."""
    value = parse_uint(text)
    if value is None:
        raise JSONError(400, parse_uint_error(text))
    return value


def parse_atoi(text: str) -> int:
    """``strconv.Atoi``; a bad value is a 400 JSON string with Go's message."""
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or not body.isdigit():
        raise JSONError(400, f"strconv.Atoi: parsing {go_quote(text)}: invalid syntax")
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise JSONError(400, f"strconv.Atoi: parsing {go_quote(text)}: value out of range")
    return value


@dataclass(frozen=True, slots=True)
class Route:
    """One route of the PD router."""

    methods: tuple[str, ...]
    path: str  # relative to /pd/api/v1, aiohttp syntax
    handler: Handler
    needs_cluster: bool = True  # clusterMiddleware: 500 "not bootstrapped" before any store exists
    region_read: bool = False  # answered by a follower from its synced region cache
