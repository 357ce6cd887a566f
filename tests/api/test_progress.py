"""Progress bars of long commands: drawn on a terminal only, never with ``--json``.

The decision (:func:`api.cli._progress.bars_wanted`) is checked with fake streams;
the commands on the toy district of tests/toy_district.py (a 4-km road): in this
process with stderr captured (not a terminal), and as real processes with stderr
a pipe and a pseudo-terminal.
"""

from __future__ import annotations

import fcntl
import io
import os
import pty
import shutil
import struct
import subprocess
import sys
import termios
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.cli import main
from api.cli._progress import bars_wanted, stage_bars, titled
from planner.ingest.geocoding import AddressRow, geocode_addresses, make_geocoder
from planner.settings import get_settings, load_config, reset_settings
from planner.store.core import init_store
from tests import toy_district as toy

COVERPLAN = shutil.which("coverplan", path=str(Path(sys.executable).parent))
BAR = "%|"  # tqdm's bar: percentage, then the bar itself
PROCESS_TIMEOUT_S = 120
TERMINAL_ROWS, TERMINAL_COLUMNS = 24, 120  # a new pseudo-terminal has 0 columns: no bar fits


class FakeStream:
    """A stream that says whether it is a terminal."""

    def __init__(self, *, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


# --- the decision --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tty", "override", "expected"),
    [
        (True, None, True),  # a terminal: bars
        (False, None, False),  # a pipe or a file: silent
        (False, True, True),  # COVERPLAN_PROGRESS=1: bars in the log too
        (True, False, False),  # COVERPLAN_PROGRESS=0: silent on a terminal
    ],
)
def test_bars_follow_the_terminal_unless_overridden(
    tty: bool, override: bool | None, expected: bool
) -> None:
    stream = FakeStream(tty=tty)
    assert bars_wanted(json_mode=False, stream=stream, override=override) is expected


@pytest.mark.parametrize("override", [None, True, False])
def test_json_is_always_silent(override: bool | None) -> None:
    assert bars_wanted(json_mode=True, stream=FakeStream(tty=True), override=override) is False


def test_a_closed_or_missing_stream_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    closed = io.StringIO()
    closed.close()  # isatty() raises ValueError
    assert bars_wanted(json_mode=False, stream=closed) is False
    assert bars_wanted(json_mode=False, stream=object()) is False
    monkeypatch.setattr(sys, "stderr", FakeStream(tty=True))  # the default: sys.stderr
    assert bars_wanted(json_mode=False) is True


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("0", False), (None, None)])
def test_the_override_comes_from_coverplan_progress(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: bool | None
) -> None:
    if value is not None:
        monkeypatch.setenv("COVERPLAN_PROGRESS", value)
    reset_settings()
    assert get_settings().progress is expected


def test_stage_bars_draw_one_bar_per_title(monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with stage_bars(True) as progress:
        progress("道路网络（drive）：读取 OSM 文件", 0.0)
        progress("道路网络（drive）：完成", 1.0)
        stages = titled("选址", progress)
        stages("求解线性松弛（界）", 0.2)
        stages("完成", 1.0)
    text = err.getvalue()
    bars = text.split("\n")
    assert len(bars) == 3 and bars[2] == ""  # two bars, each ended by a newline
    assert "道路网络（drive）: 100%|" in bars[0] and bars[0].endswith(", 完成")
    assert "选址: 100%|" in bars[1] and bars[1].endswith(", 完成")
    err.seek(0)
    err.truncate()
    with stage_bars(False) as progress:
        progress("选址：完成", 1.0)
    assert err.getvalue() == ""


def test_geocoding_reports_rows_resolved() -> None:
    seen: list[tuple[str, float | None]] = []
    geocoder = make_geocoder(toy.gazetteer(), {}, config=load_config())
    rows = [AddressRow(line=line, address="溪口镇武岭社区") for line in (2, 3, 4)]
    table = geocode_addresses(geocoder, rows, progress=lambda m, f: seen.append((m, f)))
    assert list(table["village_code"]) == [toy.V_WULING] * 3
    assert seen == [
        ("地址匹配：0/3 行", 0.0),
        ("地址匹配：1/3 行", pytest.approx(1 / 3)),
        ("地址匹配：2/3 行", pytest.approx(2 / 3)),
        ("地址匹配：3/3 行", 1.0),
    ]


# --- commands on the toy district ----------------------------------------------------------


@dataclass
class Toy:
    url: str
    files: dict[str, Path]


@pytest.fixture
def district(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Toy]:
    files = toy.write_inputs(tmp_path / "in")
    url = f"sqlite:///{tmp_path / 'toy.db'}"
    monkeypatch.setenv("COVERPLAN_CONFIG", str(files["config"]))
    monkeypatch.setenv("COVERPLAN_DB_URL", url)
    reset_settings()
    store = toy.build_store(url, files)
    store.dispose()
    yield Toy(url=url, files=files)
    reset_settings()


def _build(d: Toy, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    """``coverplan network build`` in this process (stderr captured); its stderr."""
    reset_settings()
    capsys.readouterr()
    code = main(["--db", d.url, "network", "build", str(d.files["roads"]), *extra])
    _, err = capsys.readouterr()
    assert code == 0, err
    return err


def test_network_build_is_silent_when_stderr_is_not_a_terminal(
    district: Toy, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _build(district, capsys)
    assert BAR not in err and "\r" not in err and "道路网络（drive）" not in err


def test_coverplan_progress_1_draws_the_stages_into_a_log(
    district: Toy, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COVERPLAN_PROGRESS", "1")
    err = _build(district, capsys, "--mode", "drive")
    assert "道路网络（drive）:" in err and "100%|" in err
    for stage in ("读取 OSM 文件", "筛选路段并计算通行时间", "保留最大强连通分量", "完成"):
        assert stage in err


def test_json_stays_silent_even_with_coverplan_progress_1(
    district: Toy, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COVERPLAN_PROGRESS", "1")
    err = _build(district, capsys, "--json")
    assert BAR not in err and "\r" not in err


def test_an_invalid_coverplan_progress_is_a_user_mistake(
    district: Toy, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COVERPLAN_PROGRESS", "sometimes")
    reset_settings()
    code = main(["--db", district.url, "network", "build", str(district.files["roads"])])
    err = capsys.readouterr().err
    assert code == 2 and "COVERPLAN_PROGRESS" in err and "Traceback" not in err


def test_import_prints_no_progress_lines_into_a_pipe(
    district: Toy, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = district.files["residents"].read_text(encoding="utf-8").splitlines(keepends=True)
    people = len(lines) - 1
    first, second = district.files["residents"].parent / "a.csv", district.files["residents"]
    first.write_text(lines[0] + lines[1], encoding="utf-8")  # one person, then the rest
    url = f"sqlite:///{first.parent / 'empty.db'}"  # a district without residents yet
    init_store(url, gazetteer=toy.gazetteer()).dispose()
    reset_settings()
    capsys.readouterr()
    assert main(["--db", url, "import", "residents", str(first)]) == 0
    assert capsys.readouterr().err == ""  # before: a line 写入 1/1 per chunk
    monkeypatch.setenv("COVERPLAN_PROGRESS", "1")
    reset_settings()
    assert main(["--db", url, "import", "residents", str(second)]) == 0
    err = capsys.readouterr().err
    assert "导入 residents.csv:" in err and "读取文件并逐行核对" in err
    assert f"写入 {people - 1}/{people - 1}" in err and "100%|" in err


def test_analyses_draw_their_stages_under_one_title_each(
    district: Toy, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _build(district, capsys, "--json")
    commands = {
        "覆盖分析": (["coverage"], ["加载道路网络", "计算通行时间和覆盖", "完成"]),
        "选址": (["site", "--type", "home", "--new", "1"], ["建立选址问题", "完成"]),
        "全年入村日历": (["outreach", "year", "2027"], ["统计各村社需求", "完成"]),
    }
    for title, (args, _) in commands.items():
        reset_settings()
        capsys.readouterr()
        assert main(["--db", district.url, *args]) == 0
        assert f"{title}:" not in capsys.readouterr().err  # stderr is not a terminal
    monkeypatch.setenv("COVERPLAN_PROGRESS", "1")
    for title, (args, stages) in commands.items():
        reset_settings()
        capsys.readouterr()
        assert main(["--db", district.url, *args]) == 0
        err = capsys.readouterr().err
        assert f"{title}: 100%|" in err, (title, err)
        for stage in stages:
            assert stage in err, (title, stage, err)


def _run(d: Toy, *, stderr: int) -> subprocess.Popen[bytes]:
    assert COVERPLAN is not None
    return subprocess.Popen(
        [COVERPLAN, "--db", d.url, "network", "build", str(d.files["roads"]), "--mode", "drive"],
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=dict(os.environ),
    )


def _read_all(fd: int) -> bytes:
    """Everything a pseudo-terminal's master side receives until the child closes it."""
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child's side is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_a_process_draws_bars_on_a_terminal_and_none_into_a_pipe(district: Toy) -> None:
    master, slave = pty.openpty()
    size = struct.pack("HHHH", TERMINAL_ROWS, TERMINAL_COLUMNS, 0, 0)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, size)
    try:
        with _run(district, stderr=slave) as proc:
            os.close(slave)
            slave = -1
            on_tty = _read_all(master).decode("utf-8", errors="replace")
            proc.wait(timeout=PROCESS_TIMEOUT_S)
        assert proc.returncode == 0, on_tty
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    assert "道路网络（drive）:" in on_tty and BAR in on_tty and "\r" in on_tty

    # the network is cached now: a rebuild still says nothing into a pipe
    (district.files["roads"].parent / "roads2.osm").write_text(
        district.files["roads"].read_text(encoding="utf-8").replace("<osm", "<osm ", 1),
        encoding="utf-8",
    )
    district.files["roads"] = district.files["roads"].parent / "roads2.osm"
    with _run(district, stderr=subprocess.PIPE) as proc:
        _, piped = proc.communicate(timeout=PROCESS_TIMEOUT_S)
    assert proc.returncode == 0, piped
    text = piped.decode("utf-8")
    assert BAR not in text and "\r" not in text and "道路网络" not in text
