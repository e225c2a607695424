"""`cnncalc check`: answers files and questions, number and shape parsing, grading, the classic slips.

May import: errors, spec, layers, analysis. Never: pytorch, render, cli.
"""
