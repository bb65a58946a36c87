"""The PD adapter: a typed client for PD's HTTP API, PD's response models and the PDError tree.

The composition root builds one ``httpx.AsyncClient`` (``build_http_client``) and hands it to
``PDClient`` with the PD endpoints; nothing here opens connections on import.
"""

from __future__ import annotations

from pd import paths
from pd.client import CALLER_ID_HEADER, DEFAULT_CALLER_ID, PDClient, build_http_client
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
    PDResponseError,
    PDServerError,
    PDStoreNotFound,
    PDUnavailable,
    decipher_response,
)

__all__ = [
    "CALLER_ID_HEADER",
    "DEFAULT_CALLER_ID",
    "PDBadRequest",
    "PDClient",
    "PDError",
    "PDGone",
    "PDNoLeader",
    "PDNotFound",
    "PDOperatorExists",
    "PDOperatorNotFound",
    "PDRegionNotFound",
    "PDRequestError",
    "PDResponseError",
    "PDServerError",
    "PDStoreNotFound",
    "PDUnavailable",
    "build_http_client",
    "decipher_response",
    "paths",
]
