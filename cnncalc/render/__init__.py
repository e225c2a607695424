"""Presentation: Rich tables, text and charts for each command family. Formats what the analysis,
the exam checker and the torch proofs return; computes nothing.

May import: errors, layers (formatting helpers), analysis (report models), exam (result models).
Never: pytorch, cli.
"""
