"""The astrbot face."""
