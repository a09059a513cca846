"""The chatgpt_proxy face."""
