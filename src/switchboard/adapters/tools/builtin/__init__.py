"""Built-in tools, one module per category; BuiltinToolHost (one level up) serves them."""
