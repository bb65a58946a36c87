"""Errors of the PD adapter, and the pure function that turns a PD answer into data or one of them.

    PDError                       base: status, path, request_name, message, code, body, endpoint, maybe_sent
     ├── PDUnavailable            no usable answer: connection error, timeout, 5xx infra, 429
     │    └── PDNoLeader          503, or PD says it has no leader / is not the leader
     ├── PDRequestError           PD answered and refused
     │    ├── PDBadRequest        400
     │    ├── PDNotFound          404, or a 500 whose text says something was not found
     │    │    ├── PDRegionNotFound
     │    │    ├── PDStoreNotFound
     │    │    └── PDOperatorNotFound
     │    ├── PDGone              410 (the store is a Tombstone)
     │    ├── PDOperatorExists    500 "failed to add operator, maybe already have one"
     │    └── PDServerError       any other 500 carrying PD's refusal ("region has no voter in store 7")
     └── PDResponseError          PD answered 200 with something this adapter cannot read

PD writes error bodies three ways (docs/pd.md): a quoted JSON string (most handlers), an errcode
object ``{"code": "input", "msg": ...}`` (bad request JSON), and plain text from ``http.Error``
(proxy and middleware failures). A few handlers even answer ``{}``. ``message`` holds PD's own text
whichever way it came. PD uses 500 both for refusals and for infrastructure trouble, so the body's
format decides: a plain-text 500 comes from the redirect middleware (PD could not be asked), a
JSON 500 comes from a handler that looked and said no.

Every ``PDError`` also reads its message once against the refusal texts PD keeps stable (docs/pd.md,
"Refusals PD makes…"): ``refusal`` is the typed ``Refusal`` (``actions.errors``) when one matches.
"""

from __future__ import annotations

import json
import re

from actions.errors import Refusal, RefusalReason

_BODY_LIMIT = 1000

# PD's typed errors print as "[PD:<class>:<Name>]<message>" (pingcap/errors normalize.go).
_RFC_CODE = re.compile(r"^\[(PD:[\w.-]+:\w+)\]")
_REGION_NOT_FOUND = re.compile(r"\bregion \S+ not found")
_STORE_NOT_FOUND = re.compile(r"\bstore \S+ not found|invalid store id \d+, not found")
_OPERATOR_NOT_FOUND = "operator not found"
_OPERATOR_EXISTS = "already have one"
# PD's Go client treats these texts as a leader change (client/errs/errs.go IsLeaderChange).
_LEADER_CHANGE = ("no leader", "not leader", "is not served", "not primary")
# An RFC code anywhere in the text, as PD's typed errors print it.
_ANY_RFC_CODE = re.compile(r"\[PD:[^\]]*\]")

# PD's stable refusal texts, first match wins; each group is one of the refusal's ``args``.
_REFUSALS: tuple[tuple[re.Pattern[str], RefusalReason], ...] = (
    (re.compile(r"region has no voter in store (\d+)"), RefusalReason.NO_VOTER_ON_STORE),
    (re.compile(r"region has no peer in store (\d+)"), RefusalReason.NO_PEER_ON_STORE),
    (re.compile(r"region already has peer in store (\d+)"), RefusalReason.PEER_ALREADY_ON_STORE),
    (re.compile(r"region (\d+) has abnormal peer"), RefusalReason.ABNORMAL_PEER),
    (re.compile(r"region (\d+) not found"), RefusalReason.REGION_NOT_FOUND),
    (re.compile(r"region (\d+) is a hot region"), RefusalReason.HOT_REGION),
    (re.compile(r"store (\d+) not found"), RefusalReason.STORE_NOT_FOUND),
    (re.compile(r"store (\d+) has been (?:removed|physically destroyed)"), RefusalReason.STORE_REMOVED),
    (re.compile(r"store (\d+) is unhealthy"), RefusalReason.STORE_UNHEALTHY),
    (
        re.compile(
            r"can not remove store (\d+) since the number of up stores would be (\d+) while need (\d+)"
        ),
        RefusalReason.TOO_FEW_UP_STORES,
    ),
    (re.compile(r"failed to add operator, maybe already have one"), RefusalReason.OPERATOR_EXISTS),
    (re.compile(r"no operator step is built"), RefusalReason.NOTHING_TO_DO),
    (re.compile(r"target leader is not allowed"), RefusalReason.LEADER_NOT_ALLOWED),
    (re.compile(r"two regions are not adjacent"), RefusalReason.NOT_ADJACENT),
    (re.compile(r"cannot split region which is in joint state"), RefusalReason.JOINT_STATE),
    (re.compile(r"split key (\S+) is not in hex format"), RefusalReason.SPLIT_KEY_NOT_HEX),
    (re.compile(r"operator not found"), RefusalReason.OPERATOR_NOT_FOUND),
    (re.compile(r"scheduler existed"), RefusalReason.SCHEDULER_EXISTS),
    (re.compile(r"scheduler not found"), RefusalReason.SCHEDULER_NOT_FOUND),
    (re.compile(r"config item (\S+) not found"), RefusalReason.CONFIG_ITEM_NOT_FOUND),
    (re.compile(r"invalid rate"), RefusalReason.INVALID_RATE),
)


def refusal_of(message: str) -> Refusal | None:
    """The refusal PD's ``message`` states, if it is one of the stable texts; ``None`` otherwise."""
    text = _ANY_RFC_CODE.sub("", message).strip().strip('"').strip()
    for pattern, reason in _REFUSALS:
        match = pattern.search(text)
        if match:
            return Refusal(reason, match.groups())
    return None


class PDError(Exception):
    """Raised for every failure of a PD request; catch this to handle them all."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        path: str = "",
        request_name: str = "",
        code: str | None = None,
        body: str = "",
        maybe_sent: bool = False,
        endpoint: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.path = path
        self.request_name = request_name
        # The errcode object's "code" ("input", "internal") or the RFC code of a typed PD error.
        self.code = code
        self.body = body[:_BODY_LIMIT]
        # True only for a write that may have reached PD although no answer came back.
        self.maybe_sent = maybe_sent
        # The PD member that answered (or could not be reached); set by the client.
        self.endpoint = endpoint
        # What PD's text says was wrong, when it is one of PD's stable refusals.
        self.refusal = refusal_of(message)

    def __str__(self) -> str:
        where = " ".join(part for part in (self.request_name, self.path) if part)
        answer = f"HTTP {self.status}" if self.status is not None else "no answer"
        text = self.message or "(PD gave no message)"
        doubt = " (the request may have reached PD)" if self.maybe_sent else ""
        return f"{where}: {answer}: {text}{doubt}" if where else f"{answer}: {text}{doubt}"


class PDUnavailable(PDError):
    """Raised when PD could not be asked: connection error, timeout, a 5xx from its plumbing, or 429."""


class PDNoLeader(PDUnavailable):
    """Raised when PD answers 503 or says it has no leader (an election is under way; retry soon)."""


class PDRequestError(PDError):
    """Raised when PD answered and refused the request; sending it again will not help."""


class PDBadRequest(PDRequestError):
    """Raised when PD answers 400: a missing or ill-typed field, an unknown name, a rejected value."""


class PDNotFound(PDRequestError):
    """Raised when PD answers 404, or a 500 whose text says the thing asked about does not exist."""


class PDRegionNotFound(PDNotFound):
    """Raised when the region does not exist (404, 500 on operator creation, or v8.5's zero region)."""


class PDStoreNotFound(PDNotFound):
    """Raised when the store does not exist."""


class PDOperatorNotFound(PDNotFound):
    """Raised when the region has no running operator and none finished in the last ten minutes."""


class PDGone(PDRequestError):
    """Raised when PD answers 410: the store has been removed (Tombstone)."""


class PDOperatorExists(PDRequestError):
    """Raised when the region already runs an admin operator of equal priority."""


class PDServerError(PDRequestError):
    """Raised when PD answers 500 with its own refusal, e.g. ``region has no voter in store 7``."""


class PDResponseError(PDError):
    """Raised when PD's 200 answer cannot be read into the expected shape."""


def _decode_json(body: bytes) -> tuple[bool, object]:
    try:
        return True, json.loads(body)
    except ValueError:
        return False, None


def _is_plain_text(content_type: str | None) -> bool:
    if not content_type:
        return False
    return content_type.split(";")[0].strip().lower() == "text/plain"


def _error_text(content_type: str | None, body: bytes) -> tuple[str, str | None, bool]:
    """PD's message, the errcode ``code`` if any, and whether the body was JSON."""
    if not _is_plain_text(content_type):
        ok, value = _decode_json(body)
        if ok:
            if isinstance(value, str):
                # The evict-leader update path re-quotes an inner JSON string answer.
                inner_ok, inner = _decode_json(value.encode())
                return (inner if inner_ok and isinstance(inner, str) else value), None, True
            if isinstance(value, dict):
                msg = value.get("msg")
                code = value.get("code")
                return (str(msg) if msg is not None else ""), (str(code) if code is not None else None), True
            if value is None:
                return "", None, True
            return json.dumps(value), None, True
    return body.decode("utf-8", errors="replace").strip(), None, False


def _not_found_class(message: str) -> type[PDNotFound] | None:
    if _REGION_NOT_FOUND.search(message):
        return PDRegionNotFound
    if _STORE_NOT_FOUND.search(message):
        return PDStoreNotFound
    if _OPERATOR_NOT_FOUND in message:
        return PDOperatorNotFound
    return None


def _classify(status: int, message: str, is_json: bool) -> type[PDError]:
    says_no_leader = any(marker in message for marker in _LEADER_CHANGE)
    if status == 503 or (status >= 500 and says_no_leader):
        return PDNoLeader
    if status == 429 or (status >= 500 and (status != 500 or not is_json)):
        return PDUnavailable
    if status == 500:
        if _OPERATOR_EXISTS in message:
            return PDOperatorExists
        specific = _not_found_class(message)
        if specific is not None:
            return specific
        return PDNotFound if "not found" in message else PDServerError
    if status == 400:
        return PDBadRequest
    if status == 404:
        return _not_found_class(message) or PDNotFound
    if status == 410:
        return PDGone
    return PDRequestError


def decipher_response(
    status: int, content_type: str | None, body: bytes, *, request_name: str, path: str
) -> object:
    """Return the decoded body of a 2xx answer, or raise the ``PDError`` that fits a refusal.

    A 2xx body is JSON whatever the Content-Type says (region endpoints answer
    ``application/octet-stream``); an empty body is ``None`` and a non-JSON body is its text.
    """
    if 200 <= status < 300:
        if not body.strip():
            return None
        ok, value = _decode_json(body)
        return value if ok else body.decode("utf-8", errors="replace")
    message, code, is_json = _error_text(content_type, body)
    if code is None:
        match = _RFC_CODE.match(message)
        code = match.group(1) if match else None
    error_class = _classify(status, message, is_json)
    raise error_class(
        message,
        status=status,
        path=path,
        request_name=request_name,
        code=code,
        body=body.decode("utf-8", errors="replace"),
    )
