"""The bot's configuration, read once from the environment by the composition root.

``Settings.load()`` reads ``os.environ``; tests pass a mapping instead (``Settings.load({...})``), so
nothing else in the code base reads the environment. Secrets are ``SecretStr``: their ``repr`` and
``str`` are masked, and they are unwrapped only where they are handed to a client.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

SLACK_API_URL = "https://slack.com/api/"


class Settings(BaseSettings):
    """Every variable the bot reads; names are the environment variable names, lower-cased."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    # Slack. No bot token and no signing secret: the local playground stands in for Slack.
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None  # set: Socket Mode instead of HTTP
    slack_api_url: str = SLACK_API_URL

    # PD. No PD_URL: the in-memory simulator, started in-process.
    pd_url: str = ""
    pd_timeout: float = Field(default=10.0, gt=0)  # seconds per PD request (PD's own client: 10 s)
    pd_cacert: Path | None = None
    pd_cert: Path | None = None
    pd_key: Path | None = None

    tikv_chatops_db: str = "tikv-chatops.db"
    tikv_chatops_policy: Path | None = None
    tikv_chatops_cluster: str = "default"  # the name `-c CLUSTER` selects
    tikv_chatops_clusters: Path | None = None  # several clusters (bot.clusters_file); PD_URL then unused

    # Replicas sharing one database (docs/replicas.md): this process's id (unset: hostname-pid), and how
    # long a lease (the agent's, the sweeper's, the catch-up's, a replica's heartbeat) lasts unrenewed.
    replica_id: str = ""
    lease_ttl_seconds: float = Field(default=15.0, ge=1)

    # The agent: observes PD every AGENT_INTERVAL seconds and posts proposals for what it finds.
    agent_enabled: bool = True
    agent_interval: float = Field(default=60.0, gt=0)
    anthropic_api_key: SecretStr | None = None  # set: Claude ranks and explains the agent's findings
    anthropic_model: str | None = None

    proposal_channel: str | None = None
    dry_run_ephemeral: bool = False  # dry-run answers only to the caller instead of in a thread
    identity_cache_seconds: float = Field(default=300.0, ge=0)
    operator_poll_seconds: float = Field(default=1.0, gt=0)  # how often a running operator is read
    operator_follow_seconds: float = Field(default=1200.0, gt=0)  # then the bot stops following it
    offline_follow_seconds: float = Field(default=6 * 3600.0, gt=0)  # a store drain, until Tombstone
    sweep_seconds: float = Field(default=30.0, gt=0)  # expiry and revert sweeps
    # How often what Slack missed during a failure is told again (sooner once a call to Slack succeeds).
    slack_catch_up_seconds: float = Field(default=15.0, gt=0)
    # The work listeners do after their ack: this many jobs at once, this many more admitted to wait;
    # beyond that a request is answered "busy" at once.
    work_concurrency: int = Field(default=8, ge=1)
    work_queue: int = Field(default=32, ge=0)
    # PD connections of the one HTTP client: enough for every job's concurrent reads plus the agent,
    # the executor and health checks, so a read never waits for a connection in normal operation.
    pd_max_connections: int = Field(default=64, ge=1)

    host: str = "0.0.0.0"
    port: int = Field(default=8080, ge=0, le=65535)
    playground_port: int = Field(default=3000, ge=0, le=65535)
    # /livez, /readyz and /metrics, on their own listener (bound on HOST); PORT serves only Slack.
    metrics_port: int = Field(default=9090, ge=0, le=65535)
    ready_probe_seconds: float = Field(default=5.0, gt=0)  # how often /readyz's PD and store probe runs
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"  # json: one JSON object a line, for log shippers

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only what ``load`` passes in: the environment is read in exactly one place.
        return (init_settings,)

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``environ`` (``os.environ`` when not given); empty values count as unset."""
        source = os.environ if environ is None else environ
        names = {name.upper(): name for name in cls.model_fields}
        values: dict[str, Any] = {
            names[key.upper()]: value for key, value in source.items() if key.upper() in names and value != ""
        }
        return cls(**values)

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack_sdk joins method names with urljoin, which drops a last path segment without "/".
        return value if value.endswith("/") else value + "/"

    @property
    def pd_endpoints(self) -> tuple[str, ...]:
        """``PD_URL`` split on commas; empty means the embedded simulator."""
        return tuple(url.strip().rstrip("/") for url in self.pd_url.split(",") if url.strip())

    @property
    def has_slack_credentials(self) -> bool:
        """Whether a real (or configured) Slack is there; otherwise the playground stands in."""
        return self.slack_bot_token is not None and (
            self.slack_signing_secret is not None or self.slack_app_token is not None
        )

    @property
    def replica(self) -> str:
        """``REPLICA_ID``, or this host's name and this process's id."""
        return self.replica_id or f"{socket.gethostname()}-{os.getpid()}"

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None
