"""Vector memory: embeddings stored beside their rows, searched by cosine similarity.

One interface (`get_vector_store`) with two implementations: numpy over a per-owner
in-process cache (SQLite, the embedded default) and pgvector's HNSW index
(PostgreSQL). Callers embed text themselves and pass vectors in.
"""
