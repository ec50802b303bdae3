"""Run options of a trigger suite, checked once with messages that speak neither CLI nor widgets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from skillstudio.errors import SkillStudioError

if TYPE_CHECKING:
    from skillstudio.evals.runner import RunSettings


class InvalidSetting(SkillStudioError):
    """One run option is out of range; `setting` names it so a shell can point at its own control."""

    setting: str

    def __init__(self, setting: str, message: str, hint: str = "") -> None:
        super().__init__(message, hint, setting=setting)


class RunOptions(BaseModel):
    model_config = ConfigDict(frozen=True)

    runs: int = 3
    concurrency: int = 8
    threshold: float = 0.5
    timeout_s: float = 60.0
    retries: int = 4
    use_cache: bool = True
    max_turns: int = 4  # model turns a run may take (exploring in the sandbox) before it is undecided
    sandbox: str = "subprocess"  # where exploring commands run: subprocess (bubblewrap) or docker

    def checked(self) -> RunOptions:
        if self.runs < 1:
            raise InvalidSetting("runs", "Runs must be at least 1", "each case is sent this many times")
        if self.concurrency < 1:
            raise InvalidSetting(
                "concurrency", "Concurrency must be at least 1", "requests in flight at once"
            )
        if not 0.0 < self.threshold <= 1.0:
            raise InvalidSetting(
                "threshold",
                "The threshold must be above 0 and at most 1",
                "e.g. 0.5 means triggered in half the runs",
            )
        if self.timeout_s <= 0:
            raise InvalidSetting("timeout", "The timeout must be positive", "seconds per request attempt")
        if not 1 <= self.max_turns <= 50:
            raise InvalidSetting("max-turns", "Model turns must be between 1 and 50", "the default is 4 model turns")
        if self.sandbox not in ("subprocess", "docker"):
            raise InvalidSetting("sandbox", f"Unknown sandbox {self.sandbox!r} for exploring commands",
                                 "use subprocess (bubblewrap) or docker")
        return self

    def run_settings(self) -> RunSettings:
        from skillstudio.evals.runner import RunSettings

        self.checked()
        return RunSettings(runs=self.runs, concurrency=self.concurrency, threshold=self.threshold,
                           timeout_s=self.timeout_s, retries=max(0, self.retries), use_cache=self.use_cache,
                           max_turns=self.max_turns, sandbox=self.sandbox)
