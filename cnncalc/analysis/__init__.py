"""The static analysis: the graph, analyze → Report, receptive fields, the small pure formulas,
explanations, compare, the one-exercise calculator and the diagram's geometry (layout,
diagram_nodes, diagram_text, fold, wrap).

May import: errors, spec, layers. Never: exam, pytorch, render, cli (and never torch).
"""
