"""Answers: question analysis, extractive answering, optional LLM answering."""
