"""The evidence page of ``meter-pipeline verify --html FILE``: the same findings as the command
prints, as one self-contained HTML page (no scripts, no external resources)."""

from __future__ import annotations

from html import escape

from meter_pipeline.verify import SECTIONS, Report

TITLES = {
    "files": "Files re-hashed against the close manifests",
    "chain": "Hash chain between months",
    "recompute": "Independent recompute, compared value by value",
    "conservation": "Conservation: landing days, period trace, lineage",
}
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1b1b; }
.pass { color: #116329; } .fail { color: #a40e26; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
td, th { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; }
"""


def render_html(report: Report) -> str:
    verdict = "PASS" if report.ok else "FAIL"
    rows = []
    for section in SECTIONS:
        problems = report.problems[section]
        status = "pass" if not problems else "fail"
        rows.append(
            f'<tr data-section="{section}"><td>{escape(TITLES[section])}</td>'
            f"<td>{report.checked[section]}</td>"
            f'<td class="{status}">{status.upper()}</td><td>{len(problems)}</td></tr>'
        )
    differences = [
        f'<tr class="difference" data-section="{s}"><td>{s}</td><td>{escape(p)}</td></tr>'
        for s in SECTIONS
        for p in report.problems[s]
    ]
    periods = escape(", ".join(report.periods) or "(none)")
    body = "\n".join(differences) or '<tr><td colspan="2">No differences.</td></tr>'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>meter-pipeline verify: {verdict}</title><style>{STYLE}</style></head>
<body>
<h1>Verification of closed billing months:
<span id="verdict" class="{verdict.lower()}">{verdict}</span></h1>
<p>Data root: <code id="root">{escape(report.root)}</code>
· periods: <span id="periods">{periods}</span></p>
<h2>Checks</h2>
<table id="checks"><tr><th>check</th><th>items checked</th><th>status</th><th>differences</th></tr>
{"".join(rows)}
</table>
<h2>Differences</h2>
<table id="differences"><tr><th>check</th><th>difference</th></tr>
{body}
</table>
</body></html>
"""
