"""Prometheus metrics of the bot, in a registry of their own (one per process, passed around).

tikv_chatops_commands_total{command}        /tikv commands, by kind (help, status, propose …)
tikv_chatops_clicks_total{action}           button clicks and modal submissions, by action_id
tikv_chatops_ack_seconds{kind}              time from the request reaching Bolt to its ack
tikv_chatops_busy_total{kind}               requests answered "busy" (the work limiter was full)
tikv_chatops_work_depth                     jobs admitted and not finished (running or waiting)
tikv_chatops_pd_errors_total{cluster,kind}  PD requests that failed (unavailable, rejected, status)
tikv_chatops_proposals{cluster,state}       proposals of each cluster in each state, read from the store at
                                            scrape
tikv_chatops_slack_owed{kind}               Slack deliveries owed after a failure (card, update, result),
                                            read from the store's outbox at scrape
tikv_chatops_slack_caught_up_total{kind}    owed deliveries Slack accepted once it was back
tikv_chatops_slack_cards_in_doubt_total     cards whose post failed in a way that may have posted them;
                                            not posted again (look in the channel)
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

# Slack gives up at 3 s; the buckets are dense below 100 ms where a healthy ack lands.
ACK_BUCKETS = (0.002, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """The bot's counters and histograms."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.commands = Counter(
            "tikv_chatops_commands", "/tikv commands received, by kind", ["command"], registry=self.registry
        )
        self.clicks = Counter(
            "tikv_chatops_clicks",
            "Button clicks and modal submissions, by action",
            ["action"],
            registry=self.registry,
        )
        self.ack_seconds = Histogram(
            "tikv_chatops_ack_seconds",
            "Seconds from a request reaching Bolt to its ack",
            ["kind"],
            buckets=ACK_BUCKETS,
            registry=self.registry,
        )
        self.busy = Counter(
            "tikv_chatops_busy",
            "Requests answered 'busy' because the work limiter was full, by kind",
            ["kind"],
            registry=self.registry,
        )
        self.work_depth = Gauge(
            "tikv_chatops_work_depth", "Jobs admitted and not finished", registry=self.registry
        )
        self.pd_errors = Counter(
            "tikv_chatops_pd_errors",
            "PD requests that failed, by cluster and kind",
            ["cluster", "kind"],
            registry=self.registry,
        )
        self.proposals = Gauge(
            "tikv_chatops_proposals",
            "Proposals of each cluster in each state",
            ["cluster", "state"],
            registry=self.registry,
        )
        self.slack_owed = Gauge(
            "tikv_chatops_slack_owed",
            "Slack deliveries owed after a failure, by kind",
            ["kind"],
            registry=self.registry,
        )
        self.slack_caught_up = Counter(
            "tikv_chatops_slack_caught_up",
            "Owed Slack deliveries that Slack accepted once it was back, by kind",
            ["kind"],
            registry=self.registry,
        )
        self.slack_cards_in_doubt = Counter(
            "tikv_chatops_slack_cards_in_doubt",
            "Cards whose post failed in a way that may have posted them (not posted again)",
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)
