"""The domain core: what an action is, whether it is safe now, who may approve it, how it runs once.

No Slack, httpx, aiosqlite or anthropic here: the world is reached through the Protocols in
``actions.ports``.
"""
