"""Preflight checks by what they look at (``regions``, ``stores``, ``schedule``); ``base`` runs them."""

from actions.checks.base import MAX_PD_READS, Check, CheckContext, Outcome

__all__ = ["MAX_PD_READS", "Check", "CheckContext", "Outcome"]
