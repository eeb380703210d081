"""Corpus: reading the documents in corpus/ and cleaning them into structured blocks."""
