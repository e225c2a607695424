"""The static analysis: the graph, analyze → Report, receptive fields, the small pure formulas,
explanations, compare and the one-exercise calculator.

May import: errors, spec, layers. Never: exam, pytorch, render, cli (and never torch).
"""
