"""The composition root: ``serve(settings)`` opens everything, wires it and serves until stopped.

Every resource has one owner, the ``AsyncExitStack`` in ``running``: the one ``httpx.AsyncClient`` PD
is read and written through, the store, the Slack Web API client's HTTP session, the HTTP server,
Socket Mode, and — when nothing is configured — the seeded PD simulator and the local playground (the
``demo`` extra: ``bot.cli`` says what to install when they are missing).

    PD_URL unset                      the in-memory PD simulator, in-process, seeded with problems
    SLACK_BOT_TOKEN / SECRET unset    the playground (fake Slack + a page) with a generated secret
    SLACK_APP_TOKEN set               Socket Mode: PORT serves nothing; Slack comes over the socket

PORT serves only Slack's ``/slack/events``; ``/livez``, ``/readyz`` and ``/metrics`` are on their own
listener, METRICS_PORT (``bot.ops_server``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
import signal
import socket
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import SecretStr
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from actions.clock import Clock, utc_now
from actions.executor import Executor
from actions.leases import (
    AGENT_LEASE,
    CATCH_UP_LEASE,
    SWEEPER_LEASE,
    LeaseKeeper,
    cluster_lease,
    heartbeat_lease,
)
from actions.operations import Operations
from actions.policy import Policy
from agent.loop import AgentLoop, AgentSettings
from bot.bolt import build_app, build_web_client
from bot.catchup import SlackCatchUp
from bot.clusters import ClusterRegistry, ClusterRuntime, build_registry, load_clusters, open_pds
from bot.edge import bound_socket_mode
from bot.identity import SlackIdentity
from bot.logsetup import add_secrets, install_redaction, secrets_of
from bot.metrics import Metrics
from bot.notifier import SlackNotifier
from bot.ops_server import Readiness, build_ops_app, refresh_gauges
from bot.policy_file import read_policy
from bot.replicas import Leases
from bot.services import Services
from bot.settings import Settings
from bot.tickets import StoreTickets
from bot.web import EVENTS_PATH, build_web_app
from bot.work import WorkLimiter
from pd.observer import PDObserver
from store.backend import AnyStore, open_store_at

logger = logging.getLogger("bot")


@dataclass(frozen=True)
class RunningBot:
    """What ``running`` opened, for whoever drives it (``serve``, the end-to-end tests)."""

    url: str  # the bot's Slack-facing HTTP server, e.g. http://127.0.0.1:8080
    pd_url: str
    slack_api_url: str
    store: AnyStore
    operations: Operations
    executor: Executor
    metrics: Metrics
    app: AsyncApp
    work: WorkLimiter
    playground: Any = None  # bot.playground.Playground when it stands in for Slack
    agent: AgentLoop | None = None  # None when AGENT_ENABLED is false
    ops_url: str = ""  # /livez, /readyz and /metrics, e.g. http://127.0.0.1:9090
    readiness: Readiness | None = None
    leases: dict[str, LeaseKeeper] = field(default_factory=dict)  # this replica's, by lease name
    registry: ClusterRegistry | None = None  # every cluster (bot.clusters); the fields above: the default's
    agents: tuple[AgentLoop, ...] = ()  # one per cluster


def load_policy(path: Path | None, *, real_slack: bool = False) -> Policy:
    """The policy file (YAML, read strictly), or the defaults; fails closed with real Slack credentials."""
    policy = read_policy(path)
    if real_slack:
        policy = policy.fail_closed()
        for gap in policy.gaps():
            logger.warning("policy: %s", gap)
    return policy


def _listen(host: str, port: int) -> socket.socket:
    """Bind the bot's port before anything else, so the playground can be told where the bot is."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def _in_background(
    stack: AsyncExitStack, name: str, run: Callable[[asyncio.Event], Coroutine[Any, Any, None]]
) -> None:
    """Run ``run(stop)`` as a task the stack owns: on the way out ``stop`` is set, the task cancelled
    and awaited, so nothing outlives the resources it uses."""
    stop = asyncio.Event()
    task = asyncio.create_task(run(stop), name=name)

    async def finish() -> None:
        stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(finish)


def _local_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    return f"http://{shown}:{port}"


@asynccontextmanager
async def running(settings: Settings, *, clock: Clock = utc_now) -> AsyncIterator[RunningBot]:
    """Open, wire and start everything; stop and close it all when the block ends."""
    # Whatever handlers logging has by now (a test's too) redact the secrets and response URLs.
    install_redaction(secrets_of(settings))
    # A wrong policy file stops the start before anything is opened (PolicyError names the key).
    policy = load_policy(settings.tikv_chatops_policy, real_slack=settings.has_slack_credentials)
    # So does a wrong clusters file (ClustersError); without one, the one cluster of PD_URL.
    clusters_config = load_clusters(settings, policy, real_slack=settings.has_slack_credentials)
    async with AsyncExitStack() as stack:
        metrics = Metrics()
        sock = _listen(settings.host, settings.port)
        stack.callback(sock.close)
        bot_url = _local_url(settings.host, sock.getsockname()[1])
        ops_sock = _listen(settings.host, settings.metrics_port)
        stack.callback(ops_sock.close)
        ops_url = _local_url(settings.host, ops_sock.getsockname()[1])

        # PD: each cluster's endpoints (bot.clusters), or the configured ones, or the embedded simulator.
        pds = await open_pds(stack, settings, metrics, policy, clusters_config)
        endpoints = pds[0].endpoints
        cluster = pds[0].cluster

        store = await open_store_at(settings.tikv_chatops_db)  # a file path, or postgresql://…
        stack.push_async_callback(store.aclose)

        token, api_url, playground, settings = await _open_slack(stack, settings, bot_url)
        session = aiohttp.ClientSession()
        stack.push_async_callback(session.close)
        client = build_web_client(token, base_url=api_url, session=session)

        notifier = SlackNotifier(
            client,
            default_channel=settings.proposal_channel,
            tickets=StoreTickets(store),
            ledger=store,  # what Slack missed is kept in the store's outbox and told when it is back
            clock=clock,
            metrics=metrics,
        )
        # Replicas on one database: the loops below run on whichever holds their lease (docs/replicas.md).
        leases = Leases(
            store, replica=settings.replica, ttl=settings.lease_ttl_seconds, clock=clock, metrics=metrics
        )
        # The heartbeat starts before, so it stops after, the work queue and the executors: while this
        # replica may still claim or follow a proposal, the others see it alive and leave its claims be.
        await _in_background(stack, "heartbeat", leases.keep(heartbeat_lease(settings.replica)).run)
        registry = build_registry(
            pds,
            config=clusters_config,
            settings=settings,
            store=store,
            notifier=notifier,
            clock=clock,
            replicas=leases.watch,
        )
        stack.push_async_callback(registry.aclose)
        executor, operations = registry.default.executor, registry.default.operations
        work = WorkLimiter(concurrency=settings.work_concurrency, queue=settings.work_queue)
        stack.push_async_callback(work.aclose)  # before the clients its jobs use are closed
        metrics.work_depth.set_function(lambda: work.depth)

        services = Services(
            operations=registry.operations,
            reads=registry.default.reads,
            identity=SlackIdentity(
                client,
                groups=registry.approver_groups,
                ttl=settings.identity_cache_seconds,
                on_name=lambda user_id, name: store.remember_actor(user_id, name, now=clock()),
            ),
            metrics=metrics,
            work=work,
            cluster_name=registry.default.name,
            dry_run_ephemeral=settings.dry_run_ephemeral,
            cluster_reads=registry.reads(),
            channel_clusters=registry.channel_clusters,
        )
        bolt = build_app(settings, services, client=client)

        signing = settings.slack_signing_secret
        web_app = build_web_app(
            None if settings.socket_mode else bolt,
            signing_secret=signing.get_secret_value() if signing is not None else None,
        )
        readiness = Readiness(
            cluster,
            store,
            slack_auth=client.auth_test,
            interval=settings.ready_probe_seconds,
            timeout=min(settings.pd_timeout, 2.0),
            others={runtime.name: runtime.pd.cluster for runtime in registry.runtimes[1:]},
        )
        await _in_background(stack, "readiness-probe", readiness.run)
        # The one full count of proposals, before anyone scrapes.
        await refresh_gauges(metrics, store, registry.names)

        # What a crash left open is settled before anyone can click.
        await _start_recovery(stack, settings, registry, leases, notifier)
        await _serve_on(stack, web_app, sock)
        await _serve_on(stack, build_ops_app(metrics, store, readiness, clusters=registry.names), ops_sock)

        if settings.socket_mode:
            assert settings.slack_app_token is not None
            handler = AsyncSocketModeHandler(
                bolt, settings.slack_app_token.get_secret_value(), web_client=client
            )
            bound_socket_mode(handler.client)  # the same size and nesting bounds as over HTTP
            await handler.connect_async()  # type: ignore[no-untyped-call]
            stack.push_async_callback(handler.close_async)

        agent = None
        agents: list[AgentLoop] = []
        if settings.agent_enabled:
            # Started last, so its first cycle (at once: the playground shows its cards within seconds)
            # posts cards people can already click.
            for runtime in registry.runtimes:  # one loop per cluster, each watching its own PD
                started = await _start_agent(
                    stack, settings, runtime, store, playground, leases, scoped=registry.several
                )
                agent = agent or started
                agents.append(started)

        logger.info(
            "tikv-chatops %s on %s, /livez /readyz /metrics on %s (PD %s, Slack %s%s)",
            settings.replica,
            bot_url,
            ops_url,
            ", ".join(endpoints),
            api_url,
            ", Socket Mode" if settings.socket_mode else "",
        )
        if playground is not None:
            logger.info("playground: open %s and type /tikv help", playground.url)
        yield RunningBot(
            url=bot_url,
            pd_url=endpoints[0],
            slack_api_url=api_url,
            store=store,
            operations=operations,
            executor=executor,
            metrics=metrics,
            app=bolt,
            work=work,
            playground=playground,
            agent=agent,
            ops_url=ops_url,
            readiness=readiness,
            leases=leases.keepers,
            registry=registry,
            agents=tuple(agents),
        )


async def _open_slack(
    stack: AsyncExitStack, settings: Settings, bot_url: str
) -> tuple[str, str, Any, Settings]:
    """Slack: the configured app, or the playground with a token and secret generated for this run.

    Returns the bot token, the Web API's URL, the playground (None with real Slack) and the settings
    the rest is wired from (the playground's signing secret in them)."""
    if settings.has_slack_credentials:
        assert settings.slack_bot_token is not None
        return settings.slack_bot_token.get_secret_value(), settings.slack_api_url, None, settings
    from bot.playground.server import Playground

    token = "xoxb-playground-" + secrets.token_hex(8)
    secret = secrets.token_hex(16)
    add_secrets([token, secret])
    playground = Playground(
        bot_url=bot_url + EVENTS_PATH,
        signing_secret=secret,
        bot_token=token,
        port=settings.playground_port,
    )
    await stack.enter_async_context(playground)
    settings = settings.model_copy(
        update={"slack_signing_secret": SecretStr(secret), "slack_app_token": None}
    )
    return token, playground.api_url, playground, settings


async def _start_recovery(
    stack: AsyncExitStack,
    settings: Settings,
    registry: ClusterRegistry,
    leases: Leases,
    notifier: SlackNotifier,
) -> None:
    """Settle what a crash left open (each cluster against its own PD), then start the loops that must
    run on one replica at a time: each cluster's sweeper and the Slack catch-up (docs/replicas.md)."""
    for runtime in registry.runtimes:
        await runtime.reconciler.startup()
        sweeper = leases.keep(
            cluster_lease(SWEEPER_LEASE, runtime.name if registry.several else None),
            functools.partial(runtime.reconciler.run_background, interval=settings.sweep_seconds),
        )
        await _in_background(
            stack,
            "reconcile-sweeper" + ("" if not registry.several else f"-{runtime.name}"),
            sweeper.run,
        )
    # What Slack missed (before a restart, too) is told once it answers again.
    catch_up = leases.keep(
        CATCH_UP_LEASE, lambda stop: SlackCatchUp(notifier).run(stop, settings.slack_catch_up_seconds)
    )
    await _in_background(stack, "slack-catch-up", catch_up.run)


async def _serve_on(stack: AsyncExitStack, app: web.Application, sock: socket.socket) -> None:
    """Serve ``app`` on the bound ``sock`` until the stack closes."""
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    await web.SockSite(runner, sock).start()


async def _start_agent(
    stack: AsyncExitStack,
    settings: Settings,
    runtime: ClusterRuntime,
    store: AnyStore,
    playground: Any,
    leases: Leases,
    *,
    scoped: bool = False,
) -> AgentLoop:
    """A cluster's agent loop as a task the stack owns; cards go to the cluster's channel, else
    PROPOSAL_CHANNEL (or the playground's). ``scoped``: several clusters, so its tickets carry its name."""
    advisor = None
    if settings.anthropic_api_key is not None:
        # Imported only when Claude is configured: the anthropic SDK costs ~3 s and ~40 MiB at start.
        from agent.advisor import make_advisor

        advisor = make_advisor(settings.anthropic_api_key.get_secret_value(), settings.anthropic_model)
    if advisor is not None:
        stack.push_async_callback(advisor.aclose)
    channel = runtime.pd.channel or settings.proposal_channel
    if channel is None and playground is not None:
        from bot.playground.model import PLAYGROUND_CHANNEL

        channel = PLAYGROUND_CHANNEL.id
    agent = AgentLoop(
        PDObserver(runtime.pd.pd),
        store,
        runtime.operations,
        runtime.operations.policy,
        channel=channel,
        advisor=advisor,
        settings=AgentSettings(interval=settings.agent_interval),
        cluster=runtime.name if scoped else None,
    )
    lease = leases.keep(cluster_lease(AGENT_LEASE, runtime.name if scoped else None), agent.run)
    await _in_background(stack, "agent" + (f"-{runtime.name}" if scoped else ""), lease.run)
    logger.info(
        "agent of %s: every %gs, cards in %s%s",
        runtime.name,
        settings.agent_interval,
        channel or "the proposal's own channel (none set: PROPOSAL_CHANNEL)",
        f", advised by {advisor.model}" if advisor is not None else ", rules only",
    )
    return agent


async def serve(settings: Settings) -> None:
    """Run the bot until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    async with running(settings):
        await stop.wait()
    logger.info("tikv-chatops stopped")
