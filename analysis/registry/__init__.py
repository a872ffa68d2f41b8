"""The embedding-model registry's logic (the table: `analysis.embedding_models`).

- `selectors`: the active model per kind, a model by name, coverage per catalog;
- `embedders`: the embedder of a registered model, built once per process;
- `indexes`: a model's partial HNSW index, built and dropped CONCURRENTLY;
- `reembed`: a model's vectors from the stored images (or descriptions), in batches;
- `bulk_load`: many vectors of one model written with COPY, its indexes built after;
- `switch`: activation (coverage and evaluation gates) and dropping a model.
"""
