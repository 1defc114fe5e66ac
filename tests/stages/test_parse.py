"""The spaCy pipeline the parse stage loads, by package name."""

from __future__ import annotations

import pytest

from flows.stages.parse import ModelNotFound, load_pipeline


def test_model_by_name_and_clear_error_for_a_missing_one():
    assert load_pipeline().meta["version"] == "3.8.0"
    with pytest.raises(ModelNotFound, match="not installed"):
        load_pipeline("xx_no_such_model")
