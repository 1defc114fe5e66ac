"""The quality report a person reads: quality/index.html, one self-contained page (no
script, no stylesheet or font from elsewhere: it reads the same offline) rendered from
the Great Expectations results the release keeps in quality/results.json."""

from __future__ import annotations

import html

from schemas import PRIMARY_KEYS

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em; color: #222; }
table { border-collapse: collapse; width: 100%; margin-bottom: 2em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.passed { color: #1a7f37; font-weight: bold; }
td.failed { color: #b42318; font-weight: bold; }
code { font-size: 0.92em; }
.why { color: #555; }
"""


def render_page(results: dict[str, dict], summary: dict, snapshot: str | None = None) -> str:
    """The page: the summary the dataset card states, then every expectation of every
    table with its outcome, what was expected and why, and what was observed."""
    critical = sum(failure["critical"] for failure in summary["failed"])
    heading = (f"{summary['expectations']} expectations: {summary['passed']} passed, "
               f"{len(summary['failed'])} failed ({critical} critical)")
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             "<title>newscorpus data checks</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
             "<h1>Data checks</h1>", f"<p><strong>{_text(heading)}</strong>. A failed critical expectation "
             "blocks the release; a failed warning is reported and does not.</p>"]
    if snapshot:
        parts.append(f"<p>Inputs: snapshot sha256 <code>{_text(snapshot)}</code> (as in manifest.json).</p>")
    tables = [table for table in PRIMARY_KEYS if table in results]
    parts.append("<p>Tables: " + ", ".join(f'<a href="#{table}">{table}</a>' for table in tables) + ".</p>")
    for table in tables:
        parts += [f'<h2 id="{table}">{table}</h2>', "<table>",
                  "<tr><th>result</th><th>severity</th><th>column</th><th>expected</th>"
                  "<th>observed</th><th>expectation</th></tr>"]
        parts += [_row(outcome) for outcome in results[table]["results"]]
        parts.append("</table>")
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _row(outcome: dict) -> str:
    config = outcome["expectation_config"]
    meta = config["meta"]
    result = "passed" if outcome["success"] else "failed"
    cells = [
        f'<td class="{result}">{result}</td>',
        f"<td>{'critical' if meta['critical'] else 'warning'}</td>",
        f"<td>{_text(config['kwargs'].get('column') or '(table)')}</td>",
        f"<td>{_text(meta['expected'])}<div class=\"why\">{_text(meta['why'])}</div></td>",
        f"<td>{_text(_shown(observed(outcome)))}</td>",
        f"<td><code>{_text(config['type'])}</code></td>",
    ]
    return "<tr>" + "".join(cells) + "</tr>"


EXAMPLES_SHOWN = 5


def observed(outcome: dict):
    """The observed value of an aggregate expectation; for a per-row one, how many rows
    failed, of how many, with a few of their values."""
    if outcome["exception_info"]["raised_exception"]:
        return {"exception": outcome["exception_info"]["exception_message"]}
    result = outcome["result"]
    if "observed_value" in result:
        return result["observed_value"]
    examples = list(dict.fromkeys(result.get("partial_unexpected_list", [])))
    return {"unexpected": result["unexpected_count"], "of": result["element_count"],
            "examples": examples[:EXAMPLES_SHOWN]}


def describe(value) -> str:
    """An observed value (see `observed`) in words."""
    if isinstance(value, dict) and "unexpected" in value:
        return f"{value['unexpected']} of {value['of']} rows unexpected, e.g. {value['examples']}"
    if isinstance(value, dict):
        return value["exception"]
    return repr(value)


def _shown(value) -> str:
    if isinstance(value, dict) and value.get("unexpected") == 0:
        return f"all {value['of']:,} rows as expected"
    return describe(value)


def _text(value) -> str:
    return html.escape(str(value), quote=True)
