"""Signed export on a 50 MB bundle, against baselines measured in the same run.

- pack (deterministic zip) vs a plain `zipfile` write of the same files;
- sign (read + per-file digests + DSSE) and verify vs a bare sha256 of the zip;
- push / pull through our OCI client (bundle + signature referrer, verify before write) against a
  local Debian `docker-registry` vs a plain HTTP blob upload / download of the same bytes to the same
  registry. Prints markdown rows; asserts nothing. Skips the registry rows without docker-registry.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "desktop"))

RUNS = 3
SIZE = 50 * 1024 * 1024


def p50(fn: Callable[[int], object], runs: int = RUNS) -> float:
    times = []
    for i in range(runs):
        t = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def row(name: str, measured: float, baseline: float, target: str) -> None:
    mbps = SIZE / measured / 2**20
    print(f"| {name} | {measured * 1000:.0f} ms ({mbps:.0f} MB/s) | {baseline * 1000:.0f} ms | "
          f"{measured / baseline:.1f}x | {target} |")


def make_skill(root: Path) -> Path:
    d = root / "big-skill"
    (d / "assets").mkdir(parents=True)
    (d / "SKILL.md").write_text("---\nname: big-skill\ndescription: Benchmark bundle.\nmetadata:\n"
                                "  version: \"1.0.0\"\n---\n# Big\n")
    rnd = os.urandom(SIZE // 2)
    for i in range(10):  # half random (incompressible), half text-like (compressible)
        (d / "assets" / f"r{i}.bin").write_bytes(rnd[i * len(rnd) // 10:(i + 1) * len(rnd) // 10])
        lines = (f"{n},account-{n * 7919 % 100003},{n * 31 % 977}.{n % 100:02d}\n" for n in range(10**9))
        text = bytearray()
        while len(text) < SIZE // 2 // 10:
            text += next(lines).encode()
        (d / "assets" / f"t{i}.csv").write_bytes(bytes(text))
    return d


def start_registry(tmp: Path) -> tuple[subprocess.Popen[bytes], str] | None:
    if not shutil.which("docker-registry"):
        return None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp / "reg.yml").write_text(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
                                 f"    rootdirectory: {tmp / 'reg'}\nhttp:\n  addr: 127.0.0.1:{port}\n")
    proc = subprocess.Popen(["docker-registry", "serve", str(tmp / "reg.yml")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(300):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"127.0.0.1:{port}"
        time.sleep(0.05)
    proc.kill()
    return None


def main() -> int:
    import json

    import httpx

    from skillstudio.release import attest, crypto, oci
    from skillstudio.release.dsse import Envelope
    from skillstudio.release.pack import pack_skill
    from skillstudio.release.registry import OciRef

    print("| benchmark | measured | baseline | ratio | target |")
    print("|---|---|---|---|---|")
    tmp = Path(tempfile.mkdtemp(prefix="ss-bench-release-"))
    proc = None
    try:
        d = make_skill(tmp)

        def plain_zip(i: int) -> None:
            with zipfile.ZipFile(tmp / f"plain{i}.zip", "w", zipfile.ZIP_DEFLATED) as zf:
                for p in sorted(d.rglob("*")):
                    if p.is_file():
                        zf.write(p, p.relative_to(d).as_posix())

        row("pack 50 MB (deterministic zip)", p50(lambda i: pack_skill(d, tmp / "b.zip")), p50(plain_zip),
            "< 1.3x")
        z = tmp / "b.zip"
        key = crypto.generate("ed25519")
        pub = {crypto.key_id(key.public_key()): key.public_key()}

        def sign(_: int) -> Envelope:
            st = attest.build_statement(attest.read_bundle(z.read_bytes()))
            env = Envelope(payload=json.dumps(st, sort_keys=True).encode())
            env.sign(key)
            return env

        sha = p50(lambda i: hashlib.sha256(z.read_bytes()).hexdigest())
        row("sign 50 MB bundle (per-file digests + DSSE)", p50(sign), sha, "reported")
        env = sign(0)
        row("verify 50 MB bundle", p50(lambda i: attest.verify_bundle(z, env, pub)), sha, "< 2x")

        started = start_registry(tmp)
        if started is None:
            print("docker-registry missing: registry rows skipped", file=sys.stderr)
            return 0
        proc, host = started
        data = z.read_bytes()
        http = httpx.Client(timeout=120)

        def plain_upload(i: int) -> None:  # same bytes, a repository of its own each time (no dedup)
            base = f"http://{host}/v2/plain/u{i}/blobs/"
            r = http.post(base + "uploads/")
            loc = httpx.URL(f"http://{host}").join(r.headers["location"])
            http.put(str(loc) + ("&" if "?" in str(loc) else "?") + "digest=sha256:" + hashlib.sha256(data).hexdigest(),
                     content=data, headers={"Content-Type": "application/octet-stream"}).raise_for_status()

        row("push 50 MB (bundle + signature referrer)",
            p50(lambda i: oci.push_bundle(z, env, OciRef(host, f"bench/p{i}", "1.0.0"), plain_http=True)),
            p50(plain_upload), "< 2x")
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        plain_get = p50(lambda i: http.get(f"http://{host}/v2/plain/u0/blobs/{digest}").raise_for_status())
        row("pull 50 MB (resolve, verify, then extract)",
            p50(lambda i: oci.pull_bundle(OciRef(host, "bench/p0", "1.0.0"), tmp / f"out{i}", pub, plain_http=True)),
            plain_get, "reported")
        http.close()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
