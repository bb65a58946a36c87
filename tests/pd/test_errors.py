"""decipher_response: every PD error fixture maps to the right PDError with PD's own text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pd.errors import (
    PDBadRequest,
    PDError,
    PDGone,
    PDNoLeader,
    PDNotFound,
    PDOperatorExists,
    PDOperatorNotFound,
    PDRegionNotFound,
    PDRequestError,
    PDServerError,
    PDStoreNotFound,
    PDUnavailable,
    decipher_response,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pd"
JSON = "application/json; charset=UTF-8"
TEXT = "text/plain; charset=utf-8"

# (fixture, status PD answers it with, expected class) — statuses as docs/pd.md "Status codes" gives them.
CASES: list[tuple[str, int, type[PDError]]] = [
    ("error_bad_path_id.json", 400, PDBadRequest),
    ("error_bad_store_id.json", 400, PDBadRequest),
    ("error_config_item_not_found.json", 400, PDBadRequest),
    ("error_config_prefix_not_found.json", 400, PDBadRequest),
    ("error_empty_body.json", 400, PDBadRequest),
    ("error_invalid_rate.json", 400, PDBadRequest),
    ("error_invalid_store_state.json", 400, PDBadRequest),
    ("error_malformed_json.json", 400, PDBadRequest),
    ("error_missing_operator_name.json", 400, PDBadRequest),
    ("error_missing_pause_time.json", 400, PDBadRequest),
    ("error_missing_region_id.json", 400, PDBadRequest),
    ("error_missing_scheduler_name.json", 400, PDBadRequest),
    ("error_missing_store_id.json", 400, PDBadRequest),
    ("error_missing_to_store_id.json", 400, PDBadRequest),
    ("error_no_operator_step.json", 500, PDServerError),
    ("error_not_bootstrapped.json", 500, PDServerError),
    ("error_operator_exists.json", 500, PDOperatorExists),
    ("error_operator_not_found.json", 500, PDOperatorNotFound),
    ("error_rate_limited.txt", 429, PDUnavailable),
    ("error_rate_unset.json", 400, PDBadRequest),
    ("error_redirect_failed.txt", 500, PDUnavailable),
    ("error_redirect_no_leader.txt", 503, PDNoLeader),
    ("error_region_abnormal_peer.json", 500, PDServerError),
    ("error_region_already_has_peer.json", 500, PDServerError),
    ("error_region_id_zero.json", 400, PDBadRequest),
    ("error_region_no_peer.json", 500, PDServerError),
    ("error_region_no_voter.json", 500, PDServerError),
    ("error_region_not_found.json", 500, PDRegionNotFound),
    ("error_region_not_found.json", 404, PDRegionNotFound),
    ("error_regions_not_adjacent.json", 500, PDServerError),
    ("error_scheduler_existed.json", 400, PDBadRequest),
    ("error_scheduler_existed.json", 500, PDServerError),
    ("error_scheduler_not_found.json", 404, PDNotFound),
    ("error_scheduler_not_found.json", 500, PDNotFound),
    ("error_split_policy.json", 500, PDServerError),
    ("error_store_not_found.json", 500, PDStoreNotFound),
    ("error_store_not_found.json", 404, PDStoreNotFound),
    ("error_store_removed.json", 410, PDGone),
    ("error_store_removed.json", 500, PDServerError),
    ("error_store_unhealthy.json", 500, PDServerError),
    ("error_stores_not_enough.json", 400, PDBadRequest),
    ("error_target_leader_not_allowed.json", 500, PDServerError),
    ("error_transfer_region_needs_roles.json", 500, PDServerError),
    ("error_unknown_operator.json", 400, PDBadRequest),
    ("error_unknown_route.txt", 404, PDNotFound),
    ("error_unknown_scheduler.json", 400, PDBadRequest),
]


def _body(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _content_type(name: str) -> str:
    return TEXT if name.endswith(".txt") else JSON


def _expected_message(name: str) -> str:
    """PD's text as a person would read it, worked out from the fixture independently of pd.errors."""
    raw = _body(name).decode()
    if name.endswith(".txt"):
        return raw.strip()
    value = json.loads(raw)
    if isinstance(value, str):
        return value
    return str(value.get("msg", ""))


def _decipher(name: str, status: int) -> PDError:
    with pytest.raises(PDError) as caught:
        decipher_response(status, _content_type(name), _body(name), request_name="Probe", path="/pd/api/v1/x")
    return caught.value


def test_every_error_fixture_has_a_case() -> None:
    """A new error_* fixture cannot be added without saying how the client classifies it."""
    on_disk = {path.name for path in FIXTURES.glob("error_*")}
    assert on_disk == {name for name, _, _ in CASES}


@pytest.mark.parametrize(("name", "status", "expected"), CASES, ids=[f"{n}-{s}" for n, s, _ in CASES])
def test_error_fixture_maps_to_its_class_with_pd_text(
    name: str, status: int, expected: type[PDError]
) -> None:
    """Each PD error body becomes exactly the expected PDError, carrying PD's decoded message."""
    error = _decipher(name, status)
    assert type(error) is expected
    assert error.message == _expected_message(name)
    assert error.status == status
    assert error.request_name == "Probe"
    assert error.path == "/pd/api/v1/x"
    assert error.maybe_sent is False


def test_json_string_body_is_unquoted_and_keeps_rfc_code() -> None:
    """A quoted JSON string loses its quotes and newline; the [PD:…] code is kept on ``code``."""
    error = _decipher("error_region_not_found.json", 500)
    assert error.message == "[PD:region:ErrRegionNotFound]region 999 not found"
    assert error.code == "PD:region:ErrRegionNotFound"
    assert "region 999 not found" in str(error)


def test_errcode_object_gives_msg_and_code() -> None:
    """The errcode object's msg becomes the message and its code the error's code."""
    error = _decipher("error_malformed_json.json", 400)
    assert error.message == "invalid character 'o' in literal false (expecting 'a')"
    assert error.code == "input"


def test_plain_text_body_is_read_as_text_even_if_it_looks_like_json() -> None:
    """text/plain bodies are taken literally: the redirect middleware's text is the message."""
    error = _decipher("error_redirect_no_leader.txt", 503)
    assert error.message == "[PD:apiutil:ErrRedirectNoLeader]redirect finds no leader"
    assert error.code == "PD:apiutil:ErrRedirectNoLeader"


def test_empty_object_body_gives_empty_message_and_readable_str() -> None:
    """PD's ``{}`` (an error object it could not encode) still yields a usable error."""
    error = _decipher("error_region_id_zero.json", 400)
    assert error.message == ""
    assert "HTTP 400" in str(error)
    assert "no message" in str(error)


def test_requote_of_inner_json_string_is_undone() -> None:
    """The evict-leader update path's doubly quoted body reads as PD's inner text."""
    body = json.dumps(json.dumps("[PD:core:ErrStoreNotFound]store 9 not found")).encode() + b"\n"
    with pytest.raises(PDStoreNotFound) as caught:
        decipher_response(500, JSON, body, request_name="CreateScheduler", path="/pd/api/v1/schedulers")
    assert caught.value.message == "[PD:core:ErrStoreNotFound]store 9 not found"


@pytest.mark.parametrize("status", [502, 504])
def test_gateway_errors_are_unavailable_whatever_the_body(status: int) -> None:
    """A proxy in front of PD answering 502/504 means PD could not be asked."""
    with pytest.raises(PDUnavailable) as caught:
        decipher_response(
            status, "text/html", b"<html>bad gateway</html>", request_name="GetStores", path="/x"
        )
    assert not isinstance(caught.value, PDRequestError)


def test_plain_text_no_service_is_unavailable() -> None:
    """503 ``no service`` (microservice not ready) is an availability problem, not a refusal."""
    with pytest.raises(PDUnavailable):
        decipher_response(
            503, TEXT, b"no service\n", request_name="GetOperators", path="/pd/api/v1/operators"
        )


def test_redirect_to_not_leader_is_no_leader() -> None:
    """A 500 saying the proxied member is not the leader asks for a leader refresh."""
    body = b"[PD:apiutil:ErrRedirectToNotLeader]redirect to not leader\n"
    with pytest.raises(PDNoLeader):
        decipher_response(500, TEXT, body, request_name="GetStores", path="/pd/api/v1/stores")


def test_internal_errcode_500_is_a_server_refusal() -> None:
    """v8.5's errcode ``internal`` 500 on config decoding is PD refusing, not PD being down."""
    body = json.dumps({"code": "internal", "msg": "json: invalid use of ,string struct tag", "stack": []})
    with pytest.raises(PDServerError) as caught:
        decipher_response(500, JSON, body.encode(), request_name="SetConfig", path="/pd/api/v1/config")
    assert caught.value.code == "internal"


def test_other_4xx_is_a_request_error() -> None:
    """405 (known path, wrong method; empty body) is a refusal with no message."""
    with pytest.raises(PDRequestError) as caught:
        decipher_response(405, None, b"", request_name="Probe", path="/pd/api/v1/store/1/limit")
    assert caught.value.status == 405
    assert caught.value.message == ""


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        (JSON, b'"The operator is created."\n', "The operator is created."),
        ("application/octet-stream", b'{"count":0,"regions":[]}', {"count": 0, "regions": []}),
        (JSON, b"null\n", None),
        (None, b"", None),
        ("text/plain; charset=utf-8", b"not implements", "not implements"),
        (JSON, b'{"id": 18446744073709551615}', {"id": 18446744073709551615}),
    ],
)
def test_success_body_is_decoded_whatever_the_content_type(
    content_type: str | None, body: bytes, expected: object
) -> None:
    """2xx bodies are JSON regardless of Content-Type; empty is None, non-JSON is text, uint64 stays exact."""
    assert decipher_response(200, content_type, body, request_name="Probe", path="/x") == expected


def test_error_body_is_trimmed() -> None:
    """A huge error page does not end up whole in logs or messages."""
    with pytest.raises(PDUnavailable) as caught:
        decipher_response(502, "text/html", b"x" * 10_000, request_name="Probe", path="/x")
    assert len(caught.value.body) == 1000
