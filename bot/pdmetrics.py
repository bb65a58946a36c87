"""PD request failures counted at the transport, so every caller (executor, preflight, reads, agent) counts.

``CountingTransport`` wraps the transport of the one ``httpx.AsyncClient`` the composition root gives
``PDClient``: transport errors count by exception class, answers by status family (4xx, 5xx).
"""

from __future__ import annotations

from pathlib import Path

import httpx

from bot.metrics import Metrics
from pd.client import tls_verify


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts failed PD requests in ``metrics.pd_errors``; passes everything through unchanged."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, metrics: Metrics, *, cluster: str = "default"
    ) -> None:
        self._inner = inner
        self._metrics = metrics
        self._cluster = cluster  # whose PD this transport talks to (the metric's cluster label)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self._inner.handle_async_request(request)
        except httpx.TransportError as exc:
            self._metrics.pd_errors.labels(self._cluster, type(exc).__name__).inc()
            raise
        if response.status_code >= 400:
            self._metrics.pd_errors.labels(self._cluster, f"http_{response.status_code // 100}xx").inc()
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def pd_transport(
    metrics: Metrics,
    *,
    ca_path: Path | None = None,
    cert_path: Path | None = None,
    key_path: Path | None = None,
    limits: httpx.Limits | None = None,
    cluster: str = "default",
) -> CountingTransport:
    """The counting transport over httpx's own, with PD's TLS (``pd.client.tls_verify``: pd-ctl's
    ``--cacert --cert --key``) and the pool's ``limits``.

    A transport handed to ``httpx.AsyncClient`` carries its own TLS settings and connection pool (the
    client's ``verify`` and ``limits`` are then unused), so both are applied here.
    """
    verify = tls_verify(ca_path, cert_path, key_path)
    pool = limits if limits is not None else httpx.Limits()
    return CountingTransport(httpx.AsyncHTTPTransport(verify=verify, limits=pool), metrics, cluster=cluster)
