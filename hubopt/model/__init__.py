"""The MILP: one module per family of variables or constraints."""
