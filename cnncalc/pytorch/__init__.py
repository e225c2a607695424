"""Everything that imports torch: the module builder (build), cnncalc's own small modules (ops),
verify, export and bench. Nothing outside this package imports torch at module level.

May import: anything but render and cli.
"""
