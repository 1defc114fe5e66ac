"""Quotes: who said what (see extract)."""

from flows.stages.quotes.extract import QUOTE_COLUMNS, extract_quotes

__all__ = ["QUOTE_COLUMNS", "extract_quotes"]
