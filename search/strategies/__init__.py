"""The search strategies. Each returns `search.fusion.Hit`s for materials; the vector SQL of
Swatch lives in this package and nowhere else."""
