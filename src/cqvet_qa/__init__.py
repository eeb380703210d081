"""cqvet-qa: cited question answering over the Chongqing vocational education quality report."""

__version__ = "0.1.0"
