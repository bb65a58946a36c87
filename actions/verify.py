"""Verification: after an action ran, read PD back and say whether the cluster now looks as intended.

``verify`` is called once the executor saw PD accept the request (and, for operators, finish it). It
runs the catalog entry's ``verify_fn`` (``actions.verifiers``), which reads only what the action
touched and compares it with the preflight ``facts``. The answer is a typed ``Verification``: its
``verdict`` is CONFIRMED (the change is visible, perhaps still settling), REFUTED (PD shows the old
state) or UNKNOWN (PD could not be read); callers branch on that, never on the evidence's wording.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actions.catalog import CATALOG
from actions.errors import ClusterError, InvalidRequest
from actions.models import ActionRequest
from actions.ports import Cluster
from actions.verifiers import Verdict, Verification, unknown

__all__ = ["Verdict", "Verification", "verify"]


async def verify(request: ActionRequest, facts: Mapping[str, Any], cluster: Cluster) -> Verification:
    """Whether PD now shows the change ``request`` asked for; PD errors become UNKNOWN, never an exception."""
    try:
        verification = await CATALOG[request.action].verify_fn(request.params, facts, cluster)
    except ClusterError as exc:
        verification = unknown(f"could not verify: PD unreachable: {exc}")
    except (InvalidRequest, ValueError) as exc:
        verification = unknown(f"could not verify: {exc}")
    return verification.named(f"verify {request.action.value}")
