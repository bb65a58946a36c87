"""The kind of event and the one-line summary of an audit row, for rows whose writer did not set them.

Rows written by the store's own timeline (``store.timeline``) name their event; rows handed in through
``log_entry`` (dry-runs, refusals, reconcile notes) and the "about to call PD" row of an execution are
classified here from what they say. Pure functions over the row's JSON form.
"""

from __future__ import annotations

import json
from typing import Any


def params_text(params: Any) -> str:
    """``region_id=12 to_store_id=3``; empty for no parameters."""
    if not isinstance(params, dict) or not params:
        return ""
    return " ".join(f"{key}={_scalar(value)}" for key, value in params.items())


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def pd_request_text(request: Any) -> str:
    """``POST /pd/api/v1/operators`` of a request_json that carries a PD request; else empty."""
    if not isinstance(request, dict):
        return ""
    pd = request.get("pd_request")
    if not isinstance(pd, dict):
        return ""
    return f"{pd.get('method', '')} {pd.get('path', '')}".strip()


def clip(text: str, most: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= most else text[: most - 1] + "…"


def _what(data: dict[str, Any]) -> str:
    request = data.get("request_json") or {}
    params = params_text(request.get("params")) if isinstance(request, dict) else ""
    return f"{data.get('action', '')}" + (f" {params}" if params else "")


def describe(data: dict[str, Any]) -> tuple[str, str]:
    """``(event, summary)`` of an ``AuditEntry`` dumped as JSON; the entry's own values win."""
    event = str(data.get("event") or "") or _classify(data)
    summary = str(data.get("summary") or "") or _summarise(event, data)
    return event, clip(summary)


def _classify(data: dict[str, Any]) -> str:
    result = data.get("result_json")
    if data.get("dry_run"):
        return "dry_run"
    if data.get("caller_id"):
        return "pd_request"  # only the rows of PD writes carry an X-Caller-ID
    if isinstance(result, dict):
        if "refused" in result:
            return "refused"
        if "reconciled" in result:
            return "reconciled"
        if "revert_of" in result:
            return "revert_skipped"
    return "note"


def _summarise(event: str, data: dict[str, Any]) -> str:
    what = _what(data)
    result = data.get("result_json") if isinstance(data.get("result_json"), dict) else {}
    assert isinstance(result, dict)
    if event == "dry_run":
        verdict = "would fail its checks" if result.get("blocked") else "would pass its checks"
        return f"dry-run of {what}: {verdict}"
    if event == "pd_request":
        pd = pd_request_text(data.get("request_json"))
        return f"about to send {what} to PD: {pd} with X-Caller-ID {data.get('caller_id', '')}"
    if event == "refused":
        reason = result.get("reason") or result.get("message") or ""
        return f"refused {what} ({result.get('refused')})" + (f": {reason}" if reason else "")
    if event == "reconciled":
        return f"reconciled {what}: {result.get('state', '')} — {result.get('found', '')}"
    if event == "revert_skipped":
        return f"revert of #{result.get('revert_of')} skipped: {result.get('skipped', '')}"
    return what
