from pathlib import Path

from planner.columns import KINDS, markdown_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_opens_with_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    block = text.split("```")[1]
    assert "make demo" in block and "make test" in block
    assert text.index("make demo") < 200


def test_column_table_is_in_sync() -> None:
    text = README.read_text(encoding="utf-8")
    for kind in KINDS:
        assert markdown_table(kind) in text, f"README column table for {kind} is stale"
