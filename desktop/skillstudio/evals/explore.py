"""Where a trigger run's exploring commands run: the sandbox, never the host.

A model that looks around (`ls -la`, `rg -l invoice .`) gets real output, so it behaves as it would
in an agent — but nothing it runs may touch the workspace, the network or a secret. Each run gets a
fresh data folder in the system temp folder (the working directory, seeded from the case's
`files:` / `fixture:`), every skill of the catalog read-only at the path the model was told
(`/skills/<name>`), the network off, no secrets, short limits; the folder is deleted when the run
ends. The backend is the run's (`subprocess` = bubblewrap, or `docker`), opened once per suite run
and only when a model first explores. A missing backend stops the run with its fix (a fatal
RouterError): exploring on the host instead would break the promise above.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from skillstudio.evals.routers import RouterError
from skillstudio.evals.suite import CatalogEntry, SuiteCase
from skillstudio.evals.trajectory import CallOutput

WALL_S = 20.0  # per exploring command
OUTPUT_BYTES = 16_000  # per stream, head and tail kept


class Explorer:
    """The sandbox side of one suite run: one backend, the skills' read-only mounts."""

    def __init__(self, catalog: list[CatalogEntry], backend: str = "subprocess") -> None:
        self.catalog = catalog
        self.backend = backend
        self._executor: Any | None = None
        self._lock = threading.Lock()
        self._policy_base: tuple[Any, list[Any]] | None = None

    def _open(self) -> Any:
        with self._lock:
            if self._executor is None:
                from skillstudio.errors import SkillStudioError
                from skillstudio.sandbox.backends import open_executor
                from skillstudio.sandbox.policy import Limits, PolicySettings, SkillMount

                if self.backend == "none":  # exploring on the host is never allowed in trigger tests
                    raise RouterError("trigger tests explore only inside a sandbox", retryable=False, fatal=True)
                try:
                    self._executor = open_executor(self.backend)
                except SkillStudioError as exc:
                    hint = f" ({exc.hint})" if getattr(exc, "hint", None) else ""
                    raise RouterError(f"the model explored, and exploring needs the {self.backend} sandbox: "
                                      f"{exc.message}{hint}", retryable=False, fatal=True) from None
                mounts = []
                for e in self.catalog:
                    if e.source and e.path.startswith("/skills/") and Path(e.source).is_dir():
                        try:
                            mounts.append(SkillMount(source=Path(e.source), name=e.path[len("/skills/"):]))
                        except ValueError:
                            continue  # a name the sandbox cannot mount: the model finds nothing there
                settings = PolicySettings(limits=Limits(wall_s=WALL_S, cpu_s=int(WALL_S), memory_mb=512, pids=64,
                                                        file_size_mb=16, output_bytes=OUTPUT_BYTES))
                self._policy_base = (settings, mounts)
            return self._executor

    def session(self, case: SuiteCase) -> ExploreSession:
        return ExploreSession(self, case)

    def close(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.close()
                self._executor = None


def seed(folder: Path, case: SuiteCase) -> None:
    """Fill a fresh data folder from the case's fixture folder, then its inline `files:`."""
    if case.fixture:
        # symlinks stay links: inside the sandbox they resolve there, never to this machine's files
        shutil.copytree(case.fixture, folder, symlinks=True, dirs_exist_ok=True)
    for rel, text in case.files:
        target = (folder / rel).resolve()
        if not target.is_relative_to(folder.resolve()):
            continue  # checked when the suite was built; never write outside the data folder
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


class ExploreSession:
    """One run's sandbox: made when the model first explores, deleted when the run ends."""

    def __init__(self, explorer: Explorer, case: SuiteCase) -> None:
        self.explorer = explorer
        self.case = case
        self.data: Path | None = None

    def _run_sync(self, commands: list[str]) -> list[CallOutput]:
        from skillstudio.errors import SkillStudioError
        from skillstudio.sandbox.policy import Policy

        executor = self.explorer._open()
        if self.data is None:
            self.data = Path(tempfile.mkdtemp(prefix="ss-explore-"))
            seed(self.data, self.case)
        assert self.explorer._policy_base is not None
        settings, mounts = self.explorer._policy_base
        policy = Policy.build(self.data, settings, mounts)
        outs: list[CallOutput] = []
        for command in commands:
            try:
                res = executor.run(["bash", "-c", command], policy)
            except SkillStudioError as exc:
                raise RouterError(f"the sandbox failed: {exc.message}", retryable=False, fatal=True) from None
            outs.append(CallOutput(res.stdout, res.stderr, res.exit_code, res.timed_out))
            if res.timed_out:
                break
        return outs

    async def run(self, commands: list[str]) -> list[CallOutput]:
        return await asyncio.to_thread(self._run_sync, commands)

    def close(self) -> None:
        if self.data is not None:
            shutil.rmtree(self.data, ignore_errors=True)
            self.data = None
