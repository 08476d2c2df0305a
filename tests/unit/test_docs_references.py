"""The rules ship with the product: the package, its UI text, its CLI help and the contract docs
point to the user docs (docs/rules.md and its companions, by anchor), never to the product
contract (SPEC.md), which the product does not ship. Every such reference resolves to a heading.

Tests may keep their SPEC references: they are for the people who build the product.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHIPPED = [REPO / "meter_pipeline", REPO / "data_contracts"]
TEXT = {".py", ".md", ".html", ".txt", ".yaml", ".yml", ".css", ".js", ".j2", ".toml", ".json"}
#: ``SPEC §3``, ``SPEC.md``, "where SPEC is silent", ``the SPEC's order`` — not ``SPECIAL``.
CITES_SPEC = re.compile(r"\bSPEC\b")
#: ``docs/rules.md#7-pricing``, ``docs/whatif.md``, ``data_contracts/docs/README.md``.
DOC_REF = re.compile(r"(?<![\w/.])((?:data_contracts/)?docs/[\w.-]+\.md)(?:#([\w-]+))?")


def shipped_files() -> list[Path]:
    return sorted(
        path
        for folder in SHIPPED
        for path in folder.rglob("*")
        if path.is_file() and path.suffix in TEXT and "__pycache__" not in path.parts
    )


def slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    lines = doc.read_text(encoding="utf-8").splitlines()
    return {slug(line.lstrip("#")) for line in lines if re.match(r"#{1,6} ", line)}


def test_nothing_shipped_cites_the_product_contract():
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in shipped_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if (CITES_SPEC.search(line) or "SPEC §" in line)
    ]
    assert found == [], "point to docs/rules.md#<anchor> (or audit.md, …) instead:\n" + "\n".join(
        found
    )


def test_every_docs_reference_resolves_to_a_file_and_heading():
    refs = {
        (path.relative_to(REPO), doc, anchor)
        for path in shipped_files()
        for doc, anchor in DOC_REF.findall(path.read_text(encoding="utf-8"))
    }
    assert len(refs) > 50  # the package does point to its docs
    broken = []
    for where, doc, anchor in sorted(refs):
        # a generated contract page links relative to itself; the text names it from the repo
        target = REPO / doc
        if not target.is_file():
            broken.append(f"{where}: {doc} does not exist")
        elif anchor and anchor not in anchors(target):
            broken.append(f"{where}: {doc}#{anchor} names no heading of {doc}")
    assert broken == []


def ui_texts() -> list[str]:
    from meter_pipeline.definitions import build_definitions

    defs = build_definitions("/nonexistent")
    graph = defs.resolve_asset_graph()
    texts = []
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        texts.append(node.description or "")
        texts += [str(value) for value in node.metadata.values()]
    for check_key in graph.asset_check_keys:
        texts.append(graph.get_check_spec(check_key).description or "")
    texts += [job.description or "" for job in defs.resolve_all_job_defs()]
    texts += [schedule.description or "" for schedule in defs.schedules or []]
    return texts


def test_the_ui_text_points_to_the_user_docs():
    texts = ui_texts()
    assert any("docs/rules.md#" in text for text in texts)
    assert [text for text in texts if CITES_SPEC.search(text)] == []


def help_texts(parser: argparse.ArgumentParser) -> list[str]:
    texts = [parser.format_help()]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                texts += help_texts(sub)
    return texts


def test_the_cli_help_points_to_the_user_docs():
    from meter_pipeline.cli import build_parser

    texts = help_texts(build_parser())
    assert len(texts) > 3
    assert [text for text in texts if CITES_SPEC.search(text)] == []
