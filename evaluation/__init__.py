"""Scoring a release against hand-made gold annotations (evaluation/gold/)."""
