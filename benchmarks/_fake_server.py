"""The scripted OpenAI-compatible server of tests/support/fake_openai.py in its own process, for benchmarks.

`python _fake_server.py '<Script fields as JSON>'` prints the base URL, then reads commands from
stdin, one a line: `dump PATH` writes the request bodies received since the last dump to PATH (JSON)
and answers `ok`; end of input stops the server. Recording lets a baseline replay exactly the
requests our command sent (same bodies, same turns). Loopback only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.fake_openai import FakeOpenAI, Script  # noqa: E402 - after the path is set


def main() -> int:
    spec = json.loads(sys.argv[1])
    spec["keywords"] = [tuple(k) for k in spec.get("keywords", [])]
    with FakeOpenAI(Script(**spec)) as srv:
        print(srv.base_url, flush=True)
        for line in sys.stdin:
            cmd, _, arg = line.strip().partition(" ")
            if cmd == "dump":
                with srv.state.lock:
                    bodies = list(srv.state.bodies)
                    srv.state.bodies.clear()
                Path(arg).write_text(json.dumps(bodies), encoding="utf-8")
                print("ok", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
