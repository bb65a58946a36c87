"""The Slack edge of tikv-chatops: Bolt app, listeners, Block Kit rendering, settings, composition root."""
