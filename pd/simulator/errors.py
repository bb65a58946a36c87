"""The simulator's exception tree.

::

    SimulatorError            base of everything the simulator raises on purpose
    ├── PDFailure             the cluster refuses an operation the way PD would (text = PD's error text)
    ├── TopologyError         a Python-API mutator got an id or value the model does not have
    ├── ConfigError           a config update PD would reject (text = PD's message)
    │   ├── ConfigKeyError    unknown item or prefix (``config item foo not found``)
    │   ├── ConfigTypeError   a value of the wrong JSON type (Go's ``UnmarshalTypeError``)
    │   ├── ConfigDecodeError a value Go cannot decode otherwise (``,string`` misuse, bad duration)
    │   └── ConfigValidationError  the merged config fails PD's validation
    ├── APIError              a handler answers early with PD's status and body
    │   ├── JSONError         body written with rd.JSON (a quoted string, ``{}``, ``null``…)
    │   ├── InputError        body is PD's errcode object ``{"code": "input", "msg": …, "data": …}``
    │   └── TextError         body is plain text, as from Go's ``http.Error``
    └── ConnectionDropped     PD's handler would panic: the connection closes with no answer

``PDFailure`` is raised by the model and carries PD's text (with its ``[PD:…]`` prefix) and
the PD error name; each HTTP handler decides the status code, because PD maps the same error
to different codes on different endpoints (store not found is 404 on ``GET /store`` but 500
on ``POST /store/{id}/limit``).
"""

from __future__ import annotations

from typing import Any


class SimulatorError(Exception):
    """Raised when the simulator refuses something; never raised for a bug in the caller's code."""


class PDFailure(SimulatorError):
    """Raised when PD would refuse an operation; ``text`` is exactly what PD prints."""

    def __init__(self, text: str, code: str = "") -> None:
        super().__init__(text)
        self.text = text
        self.code = code


class TopologyError(SimulatorError):
    """Raised when a test mutator is given a store, region or value the model does not have."""


class ConfigError(SimulatorError):
    """Raised when PD would reject a config update; ``text`` is PD's message."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class ConfigKeyError(ConfigError):
    """Raised when a config key or prefix does not exist."""


class ConfigTypeError(ConfigError):
    """Raised when a value has the wrong JSON type; ``data`` mirrors Go's ``UnmarshalTypeError``."""

    def __init__(self, text: str, data: dict[str, Any]) -> None:
        super().__init__(text)
        self.data = data


class ConfigDecodeError(ConfigError):
    """Raised when Go's decoder fails for another reason (``,string`` misuse, bad duration text)."""


class ConfigValidationError(ConfigError):
    """Raised when the merged config fails PD's own validation."""


class APIError(SimulatorError):
    """Raised inside a handler to answer at once with PD's status code and body."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status


class JSONError(APIError):
    """Raised to answer with ``rd.JSON(status, value)``: usually a quoted string, sometimes ``{}``."""

    def __init__(self, status: int, value: Any) -> None:
        super().__init__(status, repr(value))
        self.value = value


class InputError(APIError):
    """Raised to answer 400 with PD's errcode object (malformed JSON, bad path ids)."""

    def __init__(self, msg: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(400, msg)
        self.msg = msg
        self.data: dict[str, Any] = {} if data is None else data


class TextError(APIError):
    """Raised to answer with a plain-text body, as Go's ``http.Error`` writes it."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(status, text)
        self.text = text


class ConnectionDropped(SimulatorError):
    """Raised where PD's Go handler panics (an unchecked type assertion): no response is sent."""


# PD's typed errors: the RFC code printed in front of the message (pkg/errs/errno.go).
RFC = {
    "ErrRegionNotFound": "PD:region:ErrRegionNotFound",
    "ErrRegionNotAdjacent": "PD:region:ErrRegionNotAdjacent",
    "ErrRegionAbnormalPeer": "PD:region:ErrRegionAbnormalPeer",
    "ErrStoreNotFound": "PD:core:ErrStoreNotFound",
    "ErrStoreRemoved": "PD:core:ErrStoreRemoved",
    "ErrStoreDestroyed": "PD:core:ErrStoreDestroyed",
    "ErrStoreUnhealthy": "PD:core:ErrStoreUnhealthy",
    "ErrStoresNotEnough": "PD:core:ErrStoresNotEnough",
    "ErrOperatorNotFound": "PD:operator:ErrOperatorNotFound",
    "ErrAddOperator": "PD:operator:ErrAddOperator",
    "ErrSchedulerExisted": "PD:scheduler:ErrSchedulerExisted",
    "ErrSchedulerNotFound": "PD:scheduler:ErrSchedulerNotFound",
    "ErrScheduleConfigNotExist": "PD:scheduler:ErrScheduleConfigNotExist",
    "ErrNotBootstrapped": "PD:cluster:ErrNotBootstrapped",
    "ErrCheckerNotFound": "PD:checker:ErrCheckerNotFound",
    "ErrRedirectNoLeader": "PD:apiutil:ErrRedirectNoLeader",
    "ErrRedirect": "PD:apiutil:ErrRedirect",
    "ErrRedirectToNotLeader": "PD:apiutil:ErrRedirectToNotLeader",
}


def pd_text(code: str, message: str) -> str:
    """Format a typed PD error the way ``pingcap/errors`` prints it: ``[<RFC code>]<message>``."""
    return f"[{RFC[code]}]{message}"


def failure(code: str, message: str) -> PDFailure:
    """Build the ``PDFailure`` for one of PD's typed errors."""
    return PDFailure(pd_text(code, message), code)


NOT_BOOTSTRAPPED = pd_text("ErrNotBootstrapped", "TiKV cluster not bootstrapped, please start TiKV first")
NO_LEADER_TEXT = pd_text("ErrRedirectNoLeader", "redirect finds no leader")
REDIRECT_FAILED_TEXT = pd_text("ErrRedirect", "redirect failed")
REDIRECT_TO_NOT_LEADER_TEXT = pd_text("ErrRedirectToNotLeader", "redirect to not leader")
