"""The OpenAI-compatible relay: route and relay one call (relay), rewrite its body (body), watch its
stream (stream), count and charge its usage (usage), answer legacy completions through a chat API
(legacy), keep the opt-in content log (content_log). Never touches conversations or the chat engine."""
