"""The two MILP back ends: HiGHS (``highspy``) and the CBC binary that ships with PuLP.

A :class:`~planner.siting.milp.Model` is passed to HiGHS directly (row-wise
sparse matrix), or written as MPS and read by CBC with a MIP start. Both return
a :class:`MilpOutcome` in the model's (minimisation) sense. Also here: the
allocation LP with the decisions fixed (:func:`fix_and_evaluate`) and the LP
relaxation's bound (:func:`lp_bound`), both by HiGHS.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from planner.errors import SitingError
from planner.siting.milp import INF, Model, Solver
from planner.units import FLOAT_TOL

__all__ = [
    "FEASIBILITY_TOL",
    "FixedLp",
    "MilpOutcome",
    "cbc_path",
    "feasible",
    "fix_and_evaluate",
    "lp_bound",
    "solve_cbc",
    "solve_highs",
    "solve_model",
    "start_vector",
]

#: Seconds allowed to the allocation LP with the decisions fixed (it solves in well under one).
FIXED_LP_SECONDS = 600.0
#: Relative amount a bound from the interior-point LP is lowered to stay valid.
IPM_BOUND_SLACK = 1e-7
#: Characters of CBC's output shown when it fails.
_OUTPUT_TAIL = 500
#: Tolerance of the budget and of constraint checks on solutions (yuan, persons).
FEASIBILITY_TOL = 1e-6
#: HiGHS's ``primal_solution_status`` of a feasible solution.
HIGHS_FEASIBLE = 2
#: Relative difference between HiGHS's reported objective and that of the columns
#: it returns above which the columns are stale (then solved again without start).
STALE_TOL = 1e-6
#: Seconds given to that second solve at least.
STALE_MIN_SECONDS = 1.0


@dataclass(frozen=True)
class MilpOutcome:
    """What a back end returns: the columns, objective and bound in the
    model's (minimisation) sense, and whether the search finished."""

    x: NDArray[np.float64] | None
    value: float
    bound: float
    finished: bool
    infeasible: bool
    seconds: float


def feasible(model: Model, x: NDArray[np.float64] | None, tol: float = FEASIBILITY_TOL) -> bool:
    """Whether the columns ``x`` keep every row of ``model`` (relative tolerance ``tol``)."""
    if x is None:
        return False
    ax = model.A @ x
    return bool(
        (ax >= model.row_lo - tol * (1 + np.abs(model.row_lo))).all()
        and (ax <= model.row_hi + tol * (1 + np.abs(model.row_hi))).all()
    )


def start_vector(
    model: Model, opened: NDArray[np.int64], upgraded: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Integer part of a start (open/upgrade decisions); allocation left at 0."""
    x = np.zeros(model.n_cols)
    cols = model.y_col[opened]
    x[cols[cols >= 0]] = 1.0
    ucols = model.u_col[upgraded]
    x[ucols[ucols >= 0]] = 1.0
    return x


def _highs(model: Model, *, integer: bool, time_limit: float, gap: float, threads: int) -> object:
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(max(time_limit, 0.01)))
    h.setOptionValue("mip_rel_gap", float(gap))
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("random_seed", 0)
    lp = highspy.HighsLp()
    lp.num_col_ = model.n_cols
    lp.num_row_ = model.A.shape[0]
    lp.col_cost_ = model.c
    lp.col_lower_ = model.lower
    lp.col_upper_ = model.upper
    lp.row_lower_ = np.where(np.isinf(model.row_lo), -highspy.kHighsInf, model.row_lo)
    lp.row_upper_ = np.where(np.isinf(model.row_hi), highspy.kHighsInf, model.row_hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = model.A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = model.A.indices.astype(np.int32)
    lp.a_matrix_.value_ = model.A.data
    if integer and model.integer.any():
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if v else highspy.HighsVarType.kContinuous
            for v in model.integer
        ]
    h.passModel(lp)
    return h


def fix_and_evaluate(
    model: Model, opened: NDArray[np.int64], upgraded: NDArray[np.int64]
) -> MilpOutcome:
    """Solve the allocation LP with the open/upgrade decisions fixed.

    Gives the exact objective of a set of decisions and a full start vector.
    """
    import highspy

    start = start_vector(model, opened, upgraded)
    if model.n_cols == 0:  # everything is decided already (HiGHS calls it empty)
        feasible = bool((model.row_lo <= FLOAT_TOL).all() and (model.row_hi >= -FLOAT_TOL).all())
        return MilpOutcome(start if feasible else None, 0.0, 0.0, True, not feasible, 0.0)
    lower, upper = model.lower.copy(), model.upper.copy()
    n_int = int(model.integer.sum())
    lower[:n_int] = start[:n_int]
    upper[:n_int] = start[:n_int]
    fixed = Model(**{**model.__dict__, "lower": lower, "upper": upper})
    t = time.perf_counter()
    h = _highs(fixed, integer=False, time_limit=FIXED_LP_SECONDS, gap=0.0, threads=1)
    h.run()  # type: ignore[attr-defined]
    status = h.getModelStatus()  # type: ignore[attr-defined]
    if status != highspy.HighsModelStatus.kOptimal:
        return MilpOutcome(None, INF, -INF, False, True, time.perf_counter() - t)
    x = np.asarray(h.getSolution().col_value)  # type: ignore[attr-defined]
    value = float(model.c @ x)
    return MilpOutcome(x, value, value, True, False, time.perf_counter() - t)


class FixedLp:
    """The allocation LP of ``model`` with the decisions fixed, kept in HiGHS
    between plans: a plan only changes the bounds of the decision columns, and
    the simplex restarts from the previous plan's basis (many times faster than
    :func:`fix_and_evaluate` when scoring many plans of one model)."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.cols = np.flatnonzero(model.integer).astype(np.int32)
        relaxed = Model(**{**model.__dict__, "integer": np.zeros(model.n_cols, bool)})
        self._h = _highs(relaxed, integer=False, time_limit=FIXED_LP_SECONDS, gap=0.0, threads=1)

    def value(self, opened: NDArray[np.int64], upgraded: NDArray[np.int64]) -> float | None:
        """``c·x`` at the LP optimum of the plan (``None``: infeasible)."""
        import highspy

        fixed = start_vector(self.model, opened, upgraded)[self.cols]
        h = self._h
        h.changeColsBounds(len(self.cols), self.cols, fixed, fixed)  # type: ignore[attr-defined]
        h.run()  # type: ignore[attr-defined]
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:  # type: ignore[attr-defined]
            return None
        return float(self.model.c @ np.asarray(h.getSolution().col_value))  # type: ignore[attr-defined]


def lp_bound(
    model: Model, *, time_limit: float, threads: int = 1
) -> tuple[float, NDArray[np.float64] | None]:
    """The LP relaxation's optimum (a bound on the MILP) and its columns.

    Interior point without crossover: the bound is what matters here, and the
    simplex method is far slower on these models. Returns ``-inf`` (no bound)
    when the time limit is hit.
    """
    import highspy

    h = _highs(model, integer=False, time_limit=time_limit, gap=0.0, threads=threads)
    h.setOptionValue("solver", "ipm")  # type: ignore[attr-defined]
    h.setOptionValue("run_crossover", "off")  # type: ignore[attr-defined]
    h.run()  # type: ignore[attr-defined]
    status = h.getModelStatus()  # type: ignore[attr-defined]
    if status == highspy.HighsModelStatus.kInfeasible:
        raise SitingError("问题不可行")
    if status != highspy.HighsModelStatus.kOptimal:
        return -INF, None
    info = h.getInfo()  # type: ignore[attr-defined]
    # the IPM objective is within its tolerance of the LP optimum: use the dual
    # objective when it is available, which is a valid bound
    value = float(info.objective_function_value)
    dual = getattr(info, "dual_objective_value", None)
    bound = min(value, float(dual)) if dual is not None and np.isfinite(dual) else value
    bound -= IPM_BOUND_SLACK * max(1.0, abs(bound))
    return bound, np.asarray(h.getSolution().col_value)  # type: ignore[attr-defined]


def solve_highs(
    model: Model,
    *,
    time_limit: float,
    gap: float,
    start: NDArray[np.float64] | None = None,
    threads: int = 1,
) -> MilpOutcome:
    """Branch and bound with HiGHS, from an optional full start vector."""
    import highspy

    t = time.perf_counter()
    h = _highs(model, integer=True, time_limit=time_limit, gap=gap, threads=threads)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(start)
        h.setSolution(sol)  # type: ignore[attr-defined]
    h.run()  # type: ignore[attr-defined]
    status = h.getModelStatus()  # type: ignore[attr-defined]
    seconds = time.perf_counter() - t
    if status == highspy.HighsModelStatus.kInfeasible:
        return MilpOutcome(None, INF, INF, True, True, seconds)
    info = h.getInfo()  # type: ignore[attr-defined]
    if info.primal_solution_status != HIGHS_FEASIBLE:  # no feasible solution found
        return MilpOutcome(None, INF, float(info.mip_dual_bound), False, False, seconds)
    x = np.asarray(h.getSolution().col_value)  # type: ignore[attr-defined]
    value = float(model.c @ x)
    reported = float(info.objective_function_value)
    if start is not None and abs(value - reported) > STALE_TOL * max(1.0, abs(reported)):
        # HiGHS 1.16 may report a better objective than the columns it returns
        # when it was given a start (the columns are the start's): solve again
        # without it, in the time left
        left = max(time_limit - seconds, STALE_MIN_SECONDS)
        again = solve_highs(model, time_limit=left, gap=gap, start=None, threads=threads)
        return replace(again, seconds=seconds + again.seconds)
    bound = float(info.mip_dual_bound) if model.integer.any() else value
    finished = status == highspy.HighsModelStatus.kOptimal
    return MilpOutcome(x, value, min(bound, value), finished, False, seconds)


_CBC_BOUND = re.compile(r"^(?:Lower bound|Objective value):\s+(\S+)", re.M)


def cbc_path() -> str:
    """Path of the CBC binary bundled with PuLP."""
    import warnings

    import pulp

    with warnings.catch_warnings():
        # PuLP ≥ 3.3 deprecates PULP_CBC_CMD (the bundled binary) with a
        # DeprecationWarning; only its path is wanted here
        warnings.simplefilter("ignore", DeprecationWarning)
        path = pulp.PULP_CBC_CMD().path
    if not path or not Path(path).exists():
        raise SitingError("找不到 CBC 求解器（随 PuLP 安装）；请重新安装 pulp，或改用 highs")
    return str(path)


def solve_cbc(
    model: Model,
    *,
    time_limit: float,
    gap: float,
    start: NDArray[np.float64] | None = None,
    threads: int = 1,
) -> MilpOutcome:
    """Branch and cut with the CBC binary (MPS in, solution file out)."""
    t = time.perf_counter()
    h = _highs(model, integer=True, time_limit=1.0, gap=gap, threads=1)
    with tempfile.TemporaryDirectory(prefix="coverplan-cbc-") as tmp:
        mps, sol, mst = Path(tmp, "model.mps"), Path(tmp, "model.sol"), Path(tmp, "start.sol")
        h.writeModel(str(mps))  # type: ignore[attr-defined]
        args = [cbc_path(), str(mps), "-sec", f"{max(time_limit, 0.01):.2f}"]
        args += ["-ratioGap", f"{gap:g}", "-threads", str(threads), "-randomSeed", "1"]
        args += ["-timeMode", "elapsed"]  # CBC counts CPU seconds by default
        if start is not None:
            with mst.open("w") as f:
                f.write("Feasible - objective value 0\n")
                f.writelines(f"{j} c{j} {v:.12g} 0\n" for j, v in enumerate(start))
            args += ["-mipstart", str(mst)]
        args += ["-solve", "-solu", str(sol)]
        run = subprocess.run(args, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - t
        if not sol.exists():
            tail = f"{run.stdout[-_OUTPUT_TAIL:]}{run.stderr[-_OUTPUT_TAIL:]}"
            raise SitingError(f"CBC 求解失败：{tail}")
        lines = sol.read_text().splitlines()
    head = lines[0].lower() if lines else ""
    if head.startswith("infeasible") or "integer infeasible" in head:
        return MilpOutcome(None, INF, INF, True, True, seconds)
    x = np.zeros(model.n_cols)
    for line in lines[1:]:
        parts = line.replace("**", " ").split()
        if len(parts) >= 3 and parts[1].startswith("c"):
            x[int(parts[1][1:])] = float(parts[2])
    x[model.integer] = np.round(x[model.integer])
    if "no feasible" in head or "objective value" not in head:
        return MilpOutcome(None, INF, -INF, False, False, seconds)
    value = float(model.c @ x)
    found: dict[str, float | None] = dict.fromkeys(("Lower bound", "Objective value"))
    for match in _CBC_BOUND.finditer(run.stdout):
        key = match.group(0).split(":")[0]
        try:
            found[key] = float(match.group(1))
        except ValueError:
            continue
    finished = head.startswith("optimal")
    bound = value if finished else float(found["Lower bound"] or -INF)
    return MilpOutcome(x, value, min(bound, value), finished, False, seconds)


def solve_model(
    model: Model,
    *,
    solver: Solver,
    time_limit: float,
    gap: float,
    start: NDArray[np.float64] | None = None,
    threads: int = 1,
) -> MilpOutcome:
    """Dispatch to :func:`solve_highs` or :func:`solve_cbc`."""
    if solver == "highs":
        return solve_highs(model, time_limit=time_limit, gap=gap, start=start, threads=threads)
    if solver == "cbc":
        return solve_cbc(model, time_limit=time_limit, gap=gap, start=start, threads=threads)
    raise SitingError(f"未知的求解器 {solver!r}；可选 highs、cbc")
