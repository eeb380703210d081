"""Retrieval: tokenization for BM25, the BM25 and dense indexes, and their fusion."""
