"""The analysts' notebooks (``notebooks/*.ipynb``): committed without outputs, and
each runs top to bottom in its own kernel (nbclient) with the answers it must show.

Notebooks 1–3 run on a copy of the session's demo district (``COVERPLAN_DB_URL``
and ``COVERPLAN_DATA_DIR`` point at the copy, as a user's environment would);
notebook 4 builds the second district 示例县 in a temporary folder of its own.
Every map is shown inline as a frame holding the standalone document: the
executed outputs must reference no outside host (:func:`maps.assets.outside_urls`).
"""

from __future__ import annotations

import base64
import copy
import html
import re
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from maps.assets import outside_urls
from tests.demo_district import DemoDistrict

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = (
    "01_coverage_planner.ipynb",
    "02_siting_leader.ipynb",
    "03_outreach_month.ipynb",
    "04_second_district.ipynb",
)
#: Seconds a cell may take (the slowest, a siting solve, is limited to 10 s in the notebook).
CELL_TIMEOUT_S = 300
FRAME = re.compile(r'<iframe srcdoc="([^"]*)"')
#: A document in a data URI (folium's own notebook display: its CDN links are inside).
DATA_DOC = re.compile(r"data:text/html[^,\"']*;base64,([A-Za-z0-9+/=]+)")


def output_urls(text: str) -> list[str]:
    """Outside URLs in notebook outputs, in frames' ``srcdoc`` documents and in
    base64 documents of data URIs (:func:`maps.assets.outside_urls` on each)."""
    docs = [html.unescape(d) for d in FRAME.findall(text)]
    docs += [base64.b64decode(d).decode("utf-8", "replace") for d in DATA_DOC.findall(text)]
    return outside_urls(text) + [u for d in docs for u in outside_urls(d)]


def test_output_urls_finds_the_cdn_links_of_a_folium_map_displayed_as_is() -> None:
    import folium

    from maps.render import to_iframe

    m = folium.Map(location=[29.6, 121.4], tiles=None)
    folium.Marker([29.6, 121.4]).add_to(m)
    shown_by_folium = m._repr_html_()
    assert outside_urls(shown_by_folium) == []  # hidden in base64
    assert any("cdn.jsdelivr.net" in u for u in output_urls(shown_by_folium))
    assert output_urls(to_iframe(m)) == []


# --- committed without outputs -------------------------------------------------------------


def _read(name: str) -> Any:
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def test_the_four_notebooks_are_there() -> None:
    assert tuple(sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_a_committed_notebook_has_no_outputs(name: str) -> None:
    import nbstripout

    nb = _read(name)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, name
    for cell in code:
        assert cell.outputs == [], f"{name} cell {cell.id}: outputs committed"
        assert cell.execution_count is None, f"{name} cell {cell.id}: execution count committed"
    # what the pre-commit hook (nbstripout) would write is what is committed
    stripped = nbstripout.strip_output(
        copy.deepcopy(nb), keep_output=False, keep_count=False, keep_id=True
    )
    assert stripped == nb
    # the reader's text is Chinese, and the code calls the Python API, never the CLI
    assert all(
        re.search(r"[\u4e00-\u9fff]", c.source) for c in nb.cells if c.cell_type == "markdown"
    )
    source = "\n".join(c.source for c in code)
    assert "from planner.services" in source
    for banned in ("subprocess", "api.cli", "os.system", "\n!"):
        assert banned not in source, f"{name} uses {banned!r}"
    assert nb.metadata.kernelspec.name == "python3"


def test_pre_commit_strips_notebook_outputs() -> None:
    config = (NOTEBOOKS.parent / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    assert "repo: https://github.com/kynan/nbstripout" in config
    assert "id: nbstripout" in config


# --- executed ----------------------------------------------------------------------------------


@pytest.fixture
def kernel_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private ``python3`` kernelspec (this interpreter, ``-m ipykernel_launcher``) and
    private Jupyter/IPython folders: nothing is registered or written in the user's home."""
    from ipykernel.kernelspec import install

    jupyter = tmp_path / "jupyter"
    install(kernel_name="python3", prefix=str(jupyter))
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter / "share" / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "jupyter-runtime"))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "jupyter-config"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # no debugger banner on stderr
    monkeypatch.setenv("MPLBACKEND", "agg")
    return tmp_path


def _execute(name: str, workdir: Path) -> tuple[str, list[str], float]:
    """Run the notebook in a new kernel (working directory ``workdir``): its outputs'
    text (streams, plain text, HTML), the inline frames' documents, the wall time (s)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient

    spec = KernelSpecManager().get_kernel_spec("python3")
    assert Path(spec.argv[0]).resolve() == Path(sys.executable).resolve()
    nb = _read(name)
    workdir.mkdir(parents=True, exist_ok=True)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(workdir)}},
    )
    started = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - started
    texts: list[str] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            assert out.output_type != "error", f"{name} cell {cell.id}: {out}"
            if out.output_type == "stream":
                assert out.name == "stdout", f"{name} cell {cell.id} wrote to stderr: {out.text}"
                texts.append(out.text)
            elif "data" in out:
                texts += [str(out.data.get(k, "")) for k in ("text/plain", "text/html")]
    text = "\n".join(texts)
    frames = [html.unescape(doc) for doc in FRAME.findall(text)]
    # offline: nothing in the outputs, nor in a frame's document, fetches from outside
    assert output_urls(text) == []
    assert all(doc.lstrip().startswith("<!DOCTYPE html>") for doc in frames)
    return text, frames, seconds


def _number(pattern: str, text: str) -> list[float]:
    m = re.search(pattern, text)
    assert m, f"{pattern!r} not in the outputs"
    return [float(g) for g in m.groups()]


@pytest.mark.slow
def test_coverage_notebook(demo_copy: DemoDistrict, kernel_env: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COVERPLAN_DB_URL", demo_copy.db_url)
    text, frames, _ = _execute(NAMES[0], kernel_env / "run")
    assert "镇街数：12" in text
    assert "指标行数：14" in text
    n_types = int(_number(r"覆盖类型数：(\d+)", text)[0])
    assert n_types >= 3 and "残疾人之家" in text and "覆盖率（%）" in text
    villages, unmet = _number(r"有缺口的村社：(\d+) 个，未满足合计 (\d+) 人", text)
    assert villages > 0 and unmet >= villages
    assert "可达但无名额" in text and "政策缺口得分" in text
    assert len(frames) == 2  # coverage map, gaps map
    assert all("L.map(" in doc for doc in frames)


@pytest.mark.slow
def test_siting_notebook(demo_copy: DemoDistrict, kernel_env: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COVERPLAN_DB_URL", demo_copy.db_url)
    text, frames, _ = _execute(NAMES[1], kernel_env / "run")
    assert "新址数：2" in text
    before, after = _number(r"名额内人数：(\d+) → (\d+)", text)
    assert after > before
    start, added = _number(r"：名额内人数 (\d+) → (\d+)（用时", text)
    assert added > start == before  # the what-if starts from the stored facilities
    assert "与推演前相同：True" in text
    assert "改前" in text and "改后" in text
    assert FRAME.sub("", text).count("为什么选这里：") == 2  # each new site says why
    assert len(frames) == 2  # siting map, what-if map


@pytest.mark.slow
def test_outreach_notebook(demo_copy: DemoDistrict, kernel_env: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COVERPLAN_DB_URL", demo_copy.db_url)
    text, frames, _ = _execute(NAMES[2], kernel_env / "run")
    assert "共 12 个月" in text
    teams, routes = _number(r"服务队：(\d+) 支，路线：(\d+) 条", text)
    assert teams >= 1 and routes >= teams
    assert "现场服务点设在" in text and "车程（分钟）" in text
    assert len(frames) == 1


@pytest.mark.slow
def test_second_district_notebook(kernel_env: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("COVERPLAN_DB_URL", raising=False)
    text, frames, _ = _execute(NAMES[3], kernel_env / "run")
    assert "示例县（330999）" in text
    assert "镇街数：2" in text
    assert "离路网过远：孤岛村" in text
    # README "Your own district": 17 of the 30 persons who travel reach a home in 30 minutes
    assert "残疾人之家：需要出行 30 人，30 分钟内可达 17 人" in text
    assert "已删除临时文件夹" in text
    assert len(frames) == 1
