"""Pandera models of the published dataset (the executable form of CONTRACT.md)."""

from schemas.release import ReleaseCheckFailed, ReleaseChecks, SpanChecks, sha256_text, validate_release
from schemas.tables import MODELS, PRIMARY_KEYS, Articles, Sources, arrow_schema, conform

__all__ = [
    "MODELS", "PRIMARY_KEYS", "Articles", "Sources", "ReleaseCheckFailed", "ReleaseChecks", "SpanChecks",
    "arrow_schema", "conform", "sha256_text", "validate_release",
]
