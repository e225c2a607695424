"""Presentation: Rich tables, text and charts for each command family; SVG diagrams (svg) and
self-contained HTML reports (html, charts). Formats what the analysis,
the exam checker and the torch proofs return; computes nothing.

May import: errors, layers (formatting helpers), analysis (report models), exam (result models).
Never: pytorch, cli.
"""
