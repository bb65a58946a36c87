"""JSON the way PD's Go code reads and writes it.

Writing: ``rd.JSON`` bodies are ``json.MarshalIndent(v, "", "  ")`` — Go prints integral
floats without ``.0``, escapes ``<``, ``>`` and ``&``, keeps other non-ASCII text as UTF-8.

Reading: PD decodes request bodies with ``encoding/json``; a malformed body is answered with
the Go scanner's own message (``invalid character 'o' in literal false (expecting 'a')``) and
byte offset, so the validator below follows Go's scanner state by state.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def _go_float(value: float) -> str:
    """Format a float like Go's ``encoding/json`` (``15`` not ``15.0``; ``1e-7`` not ``1e-07``)."""
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"json: unsupported value: {value!r}")
    absolute = abs(value)
    if absolute < 1e16 and (absolute >= 1e-4 or absolute == 0):
        # Python's repr is already Go's shortest positional form here; only "15.0" needs trimming.
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    if absolute != 0 and (absolute < 1e-6 or absolute >= 1e21):
        text = repr(value)
        mantissa, _, exponent = text.partition("e")
        sign = exponent[0]
        digits = exponent[1:].lstrip("0") or "0"
        if len(digits) == 1 and sign == "-":
            return f"{mantissa}e-{digits}"
        return f"{mantissa}e{sign}{digits.zfill(2)}"
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _go_string(value: str) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _encode(value: Any, indent: str, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_go_float(value))
    elif isinstance(value, str):
        out.append(_go_string(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = indent + "  "
        out.append("{\n")
        first = True
        for key, item in value.items():
            if not first:
                out.append(",\n")
            first = False
            out.append(inner)
            out.append(_go_string(str(key)))
            out.append(": ")
            _encode(item, inner, out)
        out.append("\n" + indent + "}")
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        inner = indent + "  "
        out.append("[\n")
        for i, item in enumerate(value):
            if i:
                out.append(",\n")
            out.append(inner)
            _encode(item, inner, out)
        out.append("\n" + indent + "]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps_indent(value: Any) -> str:
    """Encode like Go's ``json.MarshalIndent(v, "", "  ")`` (no trailing newline)."""
    out: list[str] = []
    _encode(value, "", out)
    return "".join(out)


def dumps_compact(value: Any) -> str:
    """Encode compactly (region bodies hold only ints and hex strings, so plain json is exact)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class GoSyntaxError(ValueError):
    """Raised when a body is not JSON; message and offset are those of Go's ``json.SyntaxError``."""

    def __init__(self, msg: str, offset: int) -> None:
        super().__init__(msg)
        self.msg = msg
        self.offset = offset


def _quote_char(c: int) -> str:
    if c == ord("'"):
        return "'\\''"
    if c == ord('"'):
        return "'\"'"
    ch = chr(c)
    if c < 0x20 or c == 0x7F:
        escapes = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r"}
        return "'" + escapes.get(c, f"\\x{c:02x}") + "'"
    if c >= 0x80 and not ch.isprintable():
        return f"'\\u{c:04x}'"
    return "'" + ch + "'"


_SPACE = frozenset(b" \t\r\n")
_DIGITS = frozenset(b"0123456789")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_ESCAPES = frozenset(b'bfnrt\\/"')


class _Scanner:
    """A direct port of the states of Go's ``encoding/json`` scanner, used only to validate."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def fail(self, what: str) -> GoSyntaxError:
        c = self.data[self.pos]
        return GoSyntaxError(f"invalid character {_quote_char(c)} {what}", self.pos + 1)

    def eof(self, what: str | None = None) -> GoSyntaxError:
        # At the end of input Go feeds the scanner one space: states that cannot take a space
        # (inside a number, a literal or an escape) report it as the invalid character.
        if what is not None:
            return GoSyntaxError(f"invalid character ' ' {what}", len(self.data))
        return GoSyntaxError("unexpected end of JSON input", len(self.data))

    def peek(self) -> int | None:
        return self.data[self.pos] if self.pos < len(self.data) else None

    def skip_space(self) -> None:
        while self.pos < len(self.data) and self.data[self.pos] in _SPACE:
            self.pos += 1

    def value(self) -> None:
        self.skip_space()
        c = self.peek()
        if c is None:
            raise self.eof()
        if c == ord("{"):
            self.pos += 1
            self.obj()
        elif c == ord("["):
            self.pos += 1
            self.arr()
        elif c == ord('"'):
            self.pos += 1
            self.string()
        elif c == ord("-") or c in _DIGITS:
            self.number()
        elif c == ord("t"):
            self.literal(b"true")
        elif c == ord("f"):
            self.literal(b"false")
        elif c == ord("n"):
            self.literal(b"null")
        else:
            raise self.fail("looking for beginning of value")

    def literal(self, word: bytes) -> None:
        self.pos += 1
        for expected in word[1:]:
            c = self.peek()
            what = f"in literal {word.decode()} (expecting {_quote_char(expected)})"
            if c is None:
                raise self.eof(what)
            if c != expected:
                raise self.fail(what)
            self.pos += 1

    def digits(self) -> None:
        while (c := self.peek()) is not None and c in _DIGITS:
            self.pos += 1

    def number(self) -> None:
        if self.peek() == ord("-"):
            self.pos += 1
            c = self.peek()
            if c is None:
                raise self.eof("in numeric literal")
            if c not in _DIGITS:
                raise self.fail("in numeric literal")
        if self.peek() == ord("0"):
            self.pos += 1
        else:
            self.digits()
        if self.peek() == ord("."):
            self.pos += 1
            c = self.peek()
            if c is None:
                raise self.eof("after decimal point in numeric literal")
            if c not in _DIGITS:
                raise self.fail("after decimal point in numeric literal")
            self.digits()
        if (c := self.peek()) is not None and c in b"eE":
            self.pos += 1
            if (c := self.peek()) is not None and c in b"+-":
                self.pos += 1
            c = self.peek()
            if c is None:
                raise self.eof("in exponent of numeric literal")
            if c not in _DIGITS:
                raise self.fail("in exponent of numeric literal")
            self.digits()

    def string(self) -> None:
        while True:
            c = self.peek()
            if c is None:
                raise self.eof()
            if c == ord('"'):
                self.pos += 1
                return
            if c == ord("\\"):
                self.pos += 1
                c = self.peek()
                if c is None:
                    raise self.eof("in string escape code")
                if c == ord("u"):
                    self.pos += 1
                    for _ in range(4):
                        c = self.peek()
                        if c is None:
                            raise self.eof("in \\u hexadecimal character escape")
                        if c not in _HEX:
                            raise self.fail("in \\u hexadecimal character escape")
                        self.pos += 1
                    continue
                if c not in _ESCAPES:
                    raise self.fail("in string escape code")
                self.pos += 1
                continue
            if c < 0x20:
                raise self.fail("in string literal")
            self.pos += 1

    def obj(self) -> None:
        self.skip_space()
        c = self.peek()
        if c is None:
            raise self.eof()
        if c == ord("}"):
            self.pos += 1
            return
        while True:
            self.skip_space()
            c = self.peek()
            if c is None:
                raise self.eof()
            if c != ord('"'):
                raise self.fail("looking for beginning of object key string")
            self.pos += 1
            self.string()
            self.skip_space()
            c = self.peek()
            if c is None:
                raise self.eof()
            if c != ord(":"):
                raise self.fail("after object key")
            self.pos += 1
            self.value()
            self.skip_space()
            c = self.peek()
            if c is None:
                raise self.eof()
            if c == ord(","):
                self.pos += 1
                continue
            if c == ord("}"):
                self.pos += 1
                return
            raise self.fail("after object key:value pair")

    def arr(self) -> None:
        self.skip_space()
        c = self.peek()
        if c is None:
            raise self.eof()
        if c == ord("]"):
            self.pos += 1
            return
        while True:
            self.value()
            self.skip_space()
            c = self.peek()
            if c is None:
                raise self.eof()
            if c == ord(","):
                self.pos += 1
                continue
            if c == ord("]"):
                self.pos += 1
                return
            raise self.fail("after array element")

    def run(self) -> None:
        self.value()
        self.skip_space()
        if self.pos < len(self.data):
            raise self.fail("after top-level value")


def check_valid(data: bytes) -> None:
    """Raise ``GoSyntaxError`` with Go's message and offset unless ``data`` is one JSON value."""
    _Scanner(data).run()


def loads(data: bytes) -> Any:
    """Validate with Go's rules, then decode (objects keep key order; last duplicate wins)."""
    check_valid(data)
    return json.loads(data.decode("utf-8", errors="replace"))


def json_kind(value: Any) -> str:
    """Name a decoded JSON value the way Go's ``UnmarshalTypeError.Value`` does."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def number_text(value: int | float) -> str:
    """Print a decoded JSON number as Go echoes it in ``cannot unmarshal number X`` messages."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return _go_float(float(value)) if isinstance(value, float) else str(value)
