"""The operator agent: rules that turn PD state into findings and proposals, the Claude advisor,
and the loop that runs them. Depends on ``actions`` only; PD and the store arrive through ports."""
