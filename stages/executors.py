"""Where ``ganbench launch`` runs its stages: each executor turns a
:class:`~stages.launch_worker.StageTask` into a ``concurrent.futures.Future`` of its
:class:`~stages.launch_worker.StageResult`, so the scheduler is the same for both.

- ``local``: a pool of ``jobs`` worker processes on this machine (``python -m
  stages.launch_worker STAGE``), each stage in its own process.
- ``ray``: a Ray task per stage on a Ray cluster (``ray`` is imported only here: PyPI's
  ``ganbench[cluster]`` extra), with the stage's CPUs and GPUs as its resource request.

Either way a worker that dies (killed, out of memory, its machine lost) has its stage retried,
up to ``retries`` times; a stage whose command fails is not retried (it would fail again).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor

from stages.launch_worker import StageFailed, StageResult, StageTask, run_stage

EXECUTORS = ("local", "ray")
FAILED_EXIT = 3  # launch_worker's exit status when the stage's command failed


@dataclasses.dataclass(frozen=True)
class Resources:
    """What one stage asks of a worker."""

    cpus: float = 1.0
    gpus: float = 0.0


class LocalExecutor:
    def __init__(self, jobs: int, retries: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=jobs)
        self._retries = retries

    def submit(self, task: StageTask, resources: Resources) -> Future:
        return self._pool.submit(self._run, task)

    def _run(self, task: StageTask) -> StageResult:
        payload = json.dumps(dataclasses.asdict(task))
        for attempt in range(self._retries + 1):
            proc = subprocess.run(
                [sys.executable, "-m", "stages.launch_worker", task.stage],
                input=payload, capture_output=True, text=True,
            )  # fmt: skip
            if proc.returncode == 0:
                return StageResult(**json.loads(proc.stdout.strip().splitlines()[-1]))
            if proc.returncode == FAILED_EXIT:
                raise StageFailed(proc.stderr.strip())
            died = f"worker died (exit {proc.returncode}) on attempt {attempt + 1}"
            print(f"launch: {task.stage}: {died}", file=sys.stderr, flush=True)
        raise RuntimeError(f"{task.stage}: {died}; no retries left")

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayExecutor:
    def __init__(self, address: str | None, jobs: int, retries: int) -> None:
        import ray

        self._ray = ray
        if not ray.is_initialized():
            # No address: a Ray instance of `jobs` CPUs on this machine, for trying it out.
            ray.init(address=address, num_cpus=None if address else jobs,
                     include_dashboard=False, log_to_driver=False)  # fmt: skip
        self._remote = ray.remote(run_stage)
        self._retries = retries

    def submit(self, task: StageTask, resources: Resources) -> Future:
        ref = self._remote.options(
            name=f"ganbench:{task.stage}", num_cpus=resources.cpus, num_gpus=resources.gpus,
            max_retries=self._retries, retry_exceptions=False,
        ).remote(task)  # fmt: skip
        return ref.future()

    def close(self) -> None:
        pass  # a cluster outlives the launch; a local instance ends with the process


def make_executor(name: str, jobs: int, retries: int, address: str | None):
    if name == "local":
        return LocalExecutor(jobs, retries)
    try:
        import ray  # noqa: F401
    except ImportError:
        raise ValueError(
            "--executor ray: Ray is not installed (pip install 'ganbench[cluster]')"
        ) from None
    return RayExecutor(address, jobs, retries)
