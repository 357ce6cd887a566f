import json
import shlex
import shutil
from pathlib import Path

import pytest

from planner.ingest.columns import KINDS, markdown_table
from planner.settings import reset_settings

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


# --- "Your own district": the worked example runs as written -----------------------------

EXAMPLE_DIR = Path("data/examples/county")


def _own_district_commands() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Your own district\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    lines = [ln.split(" #", 1)[0].strip() for ln in block.splitlines()]
    return [shlex.split(ln) for ln in lines if ln and not ln.startswith("#")]


def test_own_district_example_files_are_what_the_generator_writes(tmp_path: Path) -> None:
    from tests.county import make_county

    committed = README.parent / EXAMPLE_DIR
    fresh = make_county(tmp_path / "county").directory
    names = sorted(p.name for p in committed.iterdir())
    assert names == sorted(p.name for p in fresh.iterdir())
    for name in names:
        assert (committed / name).read_bytes() == (fresh / name).read_bytes(), (
            f"{EXAMPLE_DIR / name} is stale: run python -m tests.county {EXAMPLE_DIR}"
        )


@pytest.mark.slow
def test_own_district_commands_run_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from api.cli import main

    commands = _own_district_commands()
    assert [c[:2] for c in commands[:2]] == [["coverplan", "init"], ["coverplan", "import"]]
    assert all(str(EXAMPLE_DIR) in " ".join(c) for c in commands if c[1] in {"init", "import"})
    # the paths as written, relative to a copy of the repository's example files
    shutil.copytree(README.parent / EXAMPLE_DIR, tmp_path / EXAMPLE_DIR)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COVERPLAN_DB_URL", f"sqlite:///{tmp_path / 'example.db'}")
    overlay = tmp_path / "fast.toml"
    overlay.write_text("[outreach]\nsolver_seconds = 1.0\n", encoding="utf-8")
    monkeypatch.setenv("COVERPLAN_CONFIG", str(overlay))
    reset_settings()
    for argv in commands:
        assert argv[0] == "coverplan", argv
        capsys.readouterr()
        code = main(argv[1:])
        out, err = capsys.readouterr()
        assert code == 0, f"{' '.join(argv)} → {code}: {err}"
        assert out.strip(), f"{' '.join(argv)} printed nothing"
    reach = main(
        ["travel-time", "--from", "119.6,29.0910068", "--to", "119.8634852,29.1", "--json"]
    )
    assert reach == 0
    assert json.loads(capsys.readouterr().out)["minutes"] == pytest.approx(68.0, abs=0.1)
