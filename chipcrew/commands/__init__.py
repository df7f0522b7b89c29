"""Sub-commands of the ``chipcrew`` CLI, one module per group (eval, bench, litho)."""
