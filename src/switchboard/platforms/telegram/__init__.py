"""Telegram: a bot on the Bot API by long polling (connection), updates read as the shared
`Incoming` (events), answers streamed by editing the message (sender), and the wiring (platform)."""
