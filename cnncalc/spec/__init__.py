"""Reading architecture files: YAML with line numbers (yamlio), the safe expression evaluator (expr),
the builder that turns format v1 into a graph of layers (builder, with its mixins composites, leaves,
sharing and collect), and the built-in names (builtins).

May import: errors, layers, analysis.graph. Never: exam, pytorch, render, cli.
"""
