"""The operator agent: rules that turn PD state into findings and proposals, the Claude advisor,
and the loop that runs them. Depends on ``actions`` only; PD and the store arrive through ports.

The package defines no exceptions of its own: failures of PD reads, of one proposal or of the
advisor are logged and reported in the cycle's ``CycleReport``, never raised out of the loop.
"""
