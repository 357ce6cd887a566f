"""Background jobs of the HTTP API (siting solves), one at a time per app.

:class:`JobRunner` runs each submitted job in a single worker thread (a
``ThreadPoolExecutor`` with one worker: the solver uses the CPU fully, so two
solves side by side would only both be slower); further jobs wait as
``queued``. A job reports its progress (0–1, a Chinese message) through the
callback it is given; it ends ``done`` with its result or ``failed`` with a
problem document (a user's mistake: its Chinese message and 4xx status; anything
else: a generic 500 message, the details only in the log). Jobs live in memory:
a restart forgets them (saved scenarios stay in the store).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from api.http.problems import TITLES, status_of
from geo.errors import CoverplanError
from planner.progress import Progress

__all__ = ["Job", "JobRunner"]

log = logging.getLogger("coverplan.http.jobs")

Status = Literal["queued", "running", "done", "failed"]
#: Finished jobs kept in memory (the oldest finished ones are forgotten first).
MAX_JOBS = 200
INTERNAL_ERROR = "求解时发生内部错误，已记录；请稍后重试或联系管理员"
STOPPED = "服务已停止，排队中的作业未执行；请重新提交"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Job:
    """One job: who asked, its state, progress and outcome."""

    id: str
    kind: str
    subject: str
    status: Status = "queued"
    progress: float = 0.0
    message: str = "排队等待求解"
    created_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "progress": round(self.progress, 3),
            "message": self.message,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "result": self.result,
            "error": self.error,
        }


class JobRunner:
    """Runs jobs one at a time in a worker thread; thread-safe."""

    def __init__(self, *, max_jobs: int = MAX_JOBS) -> None:
        self._pool: ThreadPoolExecutor | None = None  # started by the first job
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_jobs

    def submit(self, *, kind: str, subject: str, work: Callable[[Progress], dict[str, Any]]) -> Job:
        """Queue ``work`` (called with a progress callback, returning the result JSON)."""
        job = Job(id=uuid.uuid4().hex, kind=kind, subject=subject)
        with self._lock:
            self._jobs[job.id] = job
            self._forget_old()
            # (re)start the worker here, not in the app's lifespan: an app used
            # without its lifespan, or whose lifespan ended once already (a test
            # client entered and left, a server restarted in-process), still runs
            # jobs instead of failing with "cannot schedule new futures after
            # shutdown" (a 500)
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coverplan-job")
            self._pool.submit(self._run, job, work)
        return job

    def get(self, job_id: str) -> Job | None:
        """The job ``job_id`` (None when unknown or forgotten)."""
        with self._lock:
            return self._jobs.get(job_id)

    def shutdown(self) -> None:
        """Stop the worker: queued jobs fail (:data:`STOPPED`), the running one
        finishes; a later :meth:`submit` starts a new worker."""
        with self._lock:
            pool, self._pool = self._pool, None
            queued = [j for j in self._jobs.values() if j.status == "queued"]
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        for job in queued:
            with self._lock:
                cancelled = job.status == "queued"
            if cancelled:
                self._fail(job, 503, STOPPED)

    def _forget_old(self) -> None:
        finished = [j.id for j in self._jobs.values() if j.status in ("done", "failed")]
        while len(self._jobs) > self._max and finished:
            self._jobs.pop(finished.pop(0), None)

    def _run(self, job: Job, work: Callable[[Progress], dict[str, Any]]) -> None:
        def progress(message: str, fraction: float | None = None) -> None:
            with self._lock:
                job.message = message
                if fraction is not None:
                    job.progress = max(job.progress, min(max(float(fraction), 0.0), 1.0))

        with self._lock:
            if job.status != "queued":  # failed by shutdown() meanwhile
                return
            job.status = "running"
            job.started_at = _now()
            job.message = "开始求解"
        try:
            result = work(progress)
        except CoverplanError as exc:
            self._fail(job, status_of(exc), str(exc))
        except Exception as exc:  # a job must end; the cause is logged
            log.error("作业 %s 失败: %s", job.id, type(exc).__name__)
            self._fail(job, 500, INTERNAL_ERROR)
        else:
            with self._lock:
                job.result = result
                job.status = "done"
                job.progress = 1.0
                job.message = "求解完成"
                job.finished_at = _now()

    def _fail(self, job: Job, status: int, detail: str) -> None:
        with self._lock:
            job.error = {
                "type": "about:blank",
                "title": TITLES.get(status, "错误"),
                "status": status,
                "detail": detail,
                "instance": f"/api/v1/siting/jobs/{job.id}",
            }
            job.status = "failed"
            job.message = detail
            job.finished_at = _now()
