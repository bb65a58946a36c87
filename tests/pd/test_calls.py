"""``PDCalls``: the one way PD is read (counted, bounded, PD's errors as the domain's)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from actions.errors import ClusterRejected, ClusterUnavailable
from pd.calls import PDCalls
from pd.errors import PDGone, PDResponseError, PDServerError, PDStoreNotFound, PDUnavailable


async def _answer() -> str:
    return "the answer"


def _raising(exc: BaseException) -> Callable[[], Awaitable[str]]:
    async def fetch() -> str:
        raise exc

    return fetch


async def test_a_call_returns_the_answer_and_is_counted() -> None:
    calls = PDCalls()
    assert await calls.call(_answer) == "the answer"
    assert await calls.find(_answer, PDStoreNotFound) == "the answer"
    assert calls.requests_made == 2


@pytest.mark.parametrize(
    ("error", "domain", "message"),
    [
        (
            PDUnavailable("could not connect to pd:2379", request_name="GetStores"),
            ClusterUnavailable,
            "pd:2379",
        ),
        (PDServerError("region has no voter in store 6", status=500), ClusterRejected, "no voter"),
        (PDStoreNotFound("store 9 not found", status=404), ClusterRejected, "store 9 not found"),
        (PDResponseError("unexpected answer", status=200), ClusterUnavailable, "could not be read"),
    ],
    ids=["unavailable", "refused", "not-found-not-asked-for", "unreadable"],
)
async def test_pd_errors_become_the_domain_s(error: Exception, domain: type[Exception], message: str) -> None:
    """Nobody above ``pd`` sees a PDError: outages are ClusterUnavailable, refusals ClusterRejected."""
    calls = PDCalls()
    with pytest.raises(domain, match=message):
        await calls.call(_raising(error))
    assert calls.requests_made == 1


async def test_find_returns_the_not_there_answers_it_names() -> None:
    """The missing-thing errors ``find`` names come back as values; any other is raised as the domain's."""
    calls = PDCalls()
    gone = PDGone("store 4 is tombstone", status=410)
    assert await calls.find(_raising(gone), PDStoreNotFound, PDGone) is gone
    missing = PDStoreNotFound("store 9 not found", status=404)
    assert await calls.find(_raising(missing), PDStoreNotFound) is missing
    with pytest.raises(ClusterRejected):
        await calls.find(_raising(gone), PDStoreNotFound)


async def test_a_read_past_its_timeout_is_unavailable_and_says_how_long() -> None:
    calls = PDCalls(timeout=0.01)

    async def slow() -> str:
        await asyncio.sleep(30)
        return "too late"

    with pytest.raises(ClusterUnavailable, match=r"PD did not answer within 0\.01s"):
        await calls.call(slow)


async def test_without_a_timeout_a_timeout_error_is_not_its_own() -> None:
    """A TimeoutError PDCalls did not impose is not dressed up as its own deadline."""
    with pytest.raises(TimeoutError):
        await PDCalls().call(_raising(TimeoutError()))
