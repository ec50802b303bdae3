"""CLI commands: keys, pack, sign, verify, push, pull (plus registry login and trust)."""

from __future__ import annotations

import functools
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from skillstudio.errors import CheckFailed, SkillStudioError
from skillstudio.openai_defaults import DEFAULT_MODEL

if TYPE_CHECKING:
    from skillstudio.release import crypto

keys_app = typer.Typer(help="Signing keys in the OS keyring.", no_args_is_help=True)
registry_app = typer.Typer(help="Registry credentials (kept in the OS keyring).", no_args_is_help=True)
trust_app = typer.Typer(help="A workspace's trust store (.skillstudio/trust).", no_args_is_help=True)


F = TypeVar("F", bound=Callable[..., Any])


def _os_errors(fn: F) -> F:
    """A file we cannot read or write (permissions, missing folder, full disk) is one line, exit 2."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except OSError as exc:
            where = Path(str(exc.filename)) if exc.filename else None
            if where is not None and where.name.startswith(".") and where.suffix in (".tmp", ".partial"):
                where = where.parent  # our temporary file: name the folder the user chose
            raise SkillStudioError(f"cannot write or read {where or 'a file'}: {exc.strerror or exc}",
                                   "check the path, its folder and permissions") from None

    return run  # type: ignore[return-value]


def _read_pems(paths: list[Path]) -> dict[str, crypto.PublicKey]:
    from skillstudio.release import crypto

    out: dict[str, crypto.PublicKey] = {}
    for p in paths:
        try:
            data = Path(p).read_bytes()
        except OSError as exc:
            raise SkillStudioError(f"cannot read {p}: {exc.strerror}",
                                   "give the PEM written by `keys export`") from None
        key = crypto.load_public_pem(data, str(p))
        out[crypto.key_id(key)] = key
    return out


JSON_HELP = "Print one JSON object (shapes in docs/release-json.md) instead of prose."


def _emit(as_json: bool, data: dict[str, Any], prose: str) -> None:
    """CI reads JSON (no scraping of prose); people read the sentence."""
    if as_json:
        import json

        typer.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        typer.echo(prose)


def _trust(workspace: Path | None):  # type: ignore[no-untyped-def]
    if workspace is None:
        return None
    from skillstudio.release import trust

    return trust.load(workspace)


# ------------------------------------------------------------------------------------------- keys

@keys_app.command("generate")
@_os_errors
def keys_generate(
    name: str = typer.Argument(..., help="Key name, e.g. your user name or 'release'."),
    algorithm: str = typer.Option("ed25519", "--algorithm", "-a", help="ed25519 or ecdsa-p256."),
    rotate: bool = typer.Option(False, "--rotate", help="Replace an existing key; its public key is kept."),
) -> None:
    """Create a signing key in the OS keyring (the private key never touches the disk)."""
    from skillstudio.release import keys

    info = keys.generate(name, algorithm, rotate=rotate)
    typer.echo(f"generated {info.algorithm} key {name!r} (key id {info.keyid})")


@keys_app.command("export")
@_os_errors
def keys_export(
    name: str = typer.Argument(...),
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the public key (PEM)."),
) -> None:
    """Write the public key as PEM, for `verify --pubkey` and trust stores."""
    from skillstudio.bundle.fileio import atomic_write
    from skillstudio.release import keys

    atomic_write(output, keys.export_public(name))
    typer.echo(f"wrote public key of {name!r} to {output}")


@keys_app.command("list")
@_os_errors
def keys_list(all_: bool = typer.Option(False, "--all", help="Include retired (rotated) keys.")) -> None:
    """Keys created on this machine."""
    from skillstudio.release import keys

    found = keys.list_keys(include_retired=all_)
    if not found:
        typer.echo("no signing keys yet; create one with `skillstudio keys generate NAME`")
    for k in found:
        typer.echo(f"{k.name}\t{k.algorithm}\t{k.keyid}" + ("\tretired" if k.retired else ""))


@keys_app.command("delete")
@_os_errors
def keys_delete(name: str = typer.Argument(...)) -> None:
    """Remove the private key from the keyring (its public key stays, so old signatures verify)."""
    from skillstudio.release import keys

    keys.delete(name)
    typer.echo(f"deleted private key {name!r}")


# ------------------------------------------------------------------------------ pack/sign/verify

def _secret_values(skill_dir: Path) -> list[str]:
    """Values of stored secrets (user and workspace vaults): a bundle holding one is refused."""
    from skillstudio.release.leaks import known_secret_values

    return known_secret_values(skill_dir)


def pack(
    skill_dir: Path = typer.Argument(..., help="The skill folder (holds SKILL.md)."),
    output: Path = typer.Option(..., "-o", "--output", help="The zip to write."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Deterministic zip: the same content always gives the same bytes."""
    from skillstudio.release.pack import pack_skill

    res = pack_skill(skill_dir, output, secret_values=_secret_values(skill_dir), validate=True)
    _emit(as_json, {"command": "pack", "name": res.name, "version": res.version, "digest": res.digest,
                    "size": res.size, "written": [str(output)],
                    "files": [{"path": f.path, "sha256": f.sha256, "size": f.size} for f in res.files]},
          f"packed {res.name}{'@' + res.version if res.version else ''}: {len(res.files)} files, "
               f"{res.size} bytes, sha256:{res.sha256} -> {output}")



def sign(
    zip_file: Path = typer.Argument(..., metavar="FILE.zip"),
    key: str = typer.Option(..., "--key", "-k", help="Name of the signing key (keys generate)."),
    output: Path | None = typer.Option(None, "-o", "--output",
                                       help="Signature file (default FILE.zip.sig.json); an existing one gets "
                                            "this signature added (author + approver)."),
    source: Path | None = typer.Option(None, "--source", help="Skill folder it was packed from (records the git "
                                                                 "revision)."),
    bundle: Path | None = typer.Option(None, "--bundle", help="Also write a Sigstore bundle (v0.3) with this "
                                                                 "signature, for cosign verify-blob-attestation."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Sign a bundle: a DSSE envelope around an in-toto statement."""
    from skillstudio.bundle.fileio import atomic_write
    from skillstudio.release import attest, sigstore_bundle

    path, env, kid = attest.sign_bundle(zip_file, key, output, source_dir=source)
    written = [str(path)]
    if bundle is not None:
        atomic_write(bundle, sigstore_bundle.to_json(env, kid))
        written.append(str(bundle))
    st = attest.parse_statement(env)
    _emit(as_json, {"command": "sign", "zip": str(zip_file), "digest": "sha256:" + attest.subject_sha256(st),
                    "name": st["subject"][0].get("name"), "keyid": kid, "key": key,
                    "signers": [s["keyid"] for s in env.signatures], "signature": str(path),
                    "sigstore_bundle": str(bundle) if bundle else None, "written": written,
                    "timestamp": (st.get("predicate") or {}).get("timestamp")},
          f"signed {zip_file} with {key!r} (key id {kid[:16]}); {len(env.signatures)} signature(s) in {path}"
          + (f"; Sigstore bundle {bundle}" if bundle else ""))


def verify(
    zip_file: Path = typer.Argument(..., metavar="FILE.zip"),
    pubkey: list[Path] = typer.Option([], "--pubkey", "-p", help="Public key PEM (repeatable)."),
    signature: Path | None = typer.Option(None, "--signature", "-s", help="Default FILE.zip.sig.json; a Sigstore "
                                                                          "bundle from `sign --bundle` works too."),
    trust_ws: Path | None = typer.Option(None, "--trust", help="Workspace whose trust store and policy apply."),
    require_role: list[str] = typer.Option([], "--require-role", help="Role that must have signed (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Exit 0 when the bundle is signed by the key (and policy holds), 1 otherwise."""
    from skillstudio.release import attest
    from skillstudio.release.dsse import Envelope

    if not pubkey and trust_ws is None:
        raise SkillStudioError("no key to verify with", "give --pubkey PEM (or --trust WORKSPACE)")
    sig = signature or zip_file.with_name(zip_file.name + ".sig.json")
    if not zip_file.is_file():
        raise SkillStudioError(f"{zip_file} does not exist", "give the zip written by `skillstudio pack`")
    if not sig.is_file():
        raise CheckFailed(f"no signature: {sig} does not exist", "sign it with `skillstudio sign` or give --signature")
    given = _read_pems(pubkey)
    store = _trust(trust_ws)
    keys = dict(given)
    if store is not None:
        keys.update(store.public_keys())
    raw_sig = sig.read_bytes()
    if b"application/vnd.dev.sigstore.bundle" in raw_sig[:4096]:  # a Sigstore bundle from `sign --bundle`
        from skillstudio.release import sigstore_bundle

        env = sigstore_bundle.envelope_of(raw_sig)
    else:
        env = Envelope.from_json(raw_sig, str(sig))
    v = attest.verify_bundle(zip_file, env, keys)
    if given and not any(k in given for k in v.keyids):
        raise CheckFailed("not signed by the given public key", "the bundle was signed with another key")
    if store is not None:
        store.check_policy(v.keyids, require_role or None)
    _emit(as_json, {"command": "verify", "valid": True, "name": v.name, "version": v.version,
                    "digest": f"sha256:{v.sha256}", "signers": v.keyids, "timestamp": v.signed_at,
                    "signature": str(sig), "written": []},
          f"valid: {v.name}{'@' + v.version if v.version else ''} sha256:{v.sha256} signed by "
          + ", ".join(k[:16] for k in v.keyids))


# ---------------------------------------------------------------------------------------- push/pull

def push(
    skill_dir: Path = typer.Argument(...),
    ref: str = typer.Argument(..., help="oci://host[:port]/repo:tag, oci-layout:PATH[:tag] or openai:[SKILL_ID]"),
    key: str = typer.Option(..., "--key", "-k", help="Signing key name."),
    plain_http: bool = typer.Option(False, "--plain-http", help="Talk HTTP, not HTTPS (local registries)."),
    base_url: str | None = typer.Option(None, "--base-url", help="OpenAI-compatible API base URL (openai:)."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Pack, sign and publish a skill (OCI registry with a signature referrer, or the OpenAI Skills API)."""
    from skillstudio.release import attest, oci
    from skillstudio.release.pack import pack_skill

    target = None if ref.startswith("openai:") else oci.parse_target(ref)
    with tempfile.TemporaryDirectory(prefix="skillstudio-push-") as tmp:
        res = pack_skill(skill_dir, Path(tmp) / f"{Path(skill_dir).resolve().name}.zip",
                         secret_values=_secret_values(skill_dir), validate=True)  # push validates first
        _, env, kid = attest.sign_bundle(res.path, key, source_dir=skill_dir)
        if ref.startswith("openai:"):
            from skillstudio.release import openai_skills

            pub = openai_skills.push_zip(res.path, res.name, base_url=base_url, target=ref)
            _emit(as_json, {"command": "push", "ref": f"openai:{pub.skill_id}@{pub.version}", "name": res.name,
                            "version": res.version, "digest": res.digest, "keyid": kid,
                            "openai": {"skill_id": pub.skill_id, "version": str(pub.version)},
                            "written": [f"openai:{pub.skill_id}@{pub.version}"]},
                  f"pushed {res.name}@{pub.version} to OpenAI skill {pub.skill_id} "
                       f"(zip sha256:{res.sha256}, signed by {kid[:16]}); source openai:{pub.skill_id}@{pub.version}")
            return
        assert target is not None
        out = oci.push_bundle(res.path, env, target, plain_http=plain_http)
        how = ("index.json" if ref.startswith("oci-layout:") else "Referrers API") if out.referrers_api \
            else "tag " + out.manifest_digest.replace(":", "-")
        _emit(as_json, {"command": "push", "ref": str(out.ref), "name": res.name, "version": res.version,
                        "digest": out.zip_digest, "manifest_digest": out.manifest_digest,
                        "signature_digest": out.signature_digest, "keyid": kid, "referrer_via": how,
                        "written": [str(out.ref), out.signature_digest]},
              f"pushed {res.name}{'@' + res.version if res.version else ''} to {out.ref} "
              f"manifest {out.manifest_digest} zip {out.zip_digest}; signature {out.signature_digest} "
              f"by {kid[:16]} (referrer via {how})")


def pull(
    ref: str = typer.Argument(..., help="oci://host[:port]/repo:tag (or @sha256:...), or oci-layout:PATH[:tag]"),
    output: Path = typer.Option(..., "-o", "--output", help="Folder for the skill (new or empty; a non-empty "
                                                            "folder gets the skill in a sub-folder)."),
    pubkey: list[Path] = typer.Option([], "--pubkey", "-p", help="Public key PEM that must have signed."),
    plain_http: bool = typer.Option(False, "--plain-http"),
    trust_ws: Path | None = typer.Option(None, "--trust", help="Workspace whose trust store and policy apply."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Download, verify the signature, and only then write the skill."""
    from skillstudio.release import oci

    if not pubkey and trust_ws is None:
        raise SkillStudioError("no key to verify with", "give --pubkey PEM (or --trust WORKSPACE)")
    res = oci.pull_bundle(oci.parse_target(ref), output, _read_pems(pubkey), trust=_trust(trust_ws),
                          plain_http=plain_http)
    v = res.verified
    _emit(as_json, {"command": "pull", "ref": str(res.ref), "name": v.name, "version": v.version,
                    "digest": f"sha256:{v.sha256}", "manifest_digest": res.manifest_digest, "signers": v.keyids,
                    "roles": res.trusted_roles, "timestamp": v.signed_at, "note": res.note,
                    "written": [str(res.dest)]},
          f"verified {v.name}{'@' + v.version if v.version else ''} (sha256:{v.sha256}, signed by "
          f"{', '.join(k[:16] for k in v.keyids)}) -> {res.dest}" + (f"; {res.note}" if res.note else ""))


def approve(
    ref: str = typer.Argument(..., help="oci://host/repo:tag or oci-layout:PATH[:tag]"),
    key: str = typer.Option(..., "--key", "-k", help="The approver's signing key."),
    plain_http: bool = typer.Option(False, "--plain-http"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Add your signature to a published bundle (e.g. the security team approving a version)."""
    from skillstudio.release import keys, oci

    digest, n = oci.approve(oci.parse_target(ref), key, plain_http=plain_http)
    _emit(as_json, {"command": "approve", "ref": ref, "manifest_digest": digest, "keyid": keys.current(key).keyid,
                    "signatures": n, "written": [ref]},
          f"approved {ref} ({digest}); the signature now carries {n} signature(s)")


def copy(
    src: str = typer.Argument(..., help="oci-layout:PATH[:tag] or oci://host/repo:tag"),
    dst: str = typer.Argument(..., help="oci://host/repo:tag or oci-layout:PATH[:tag]"),
    plain_http: bool = typer.Option(False, "--plain-http"),
) -> None:
    """Copy a signed bundle with its signatures (e.g. from a local layout folder to a registry)."""
    from skillstudio.release import oci

    digest, n = oci.copy_bundle(oci.parse_target(src), oci.parse_target(dst), plain_http=plain_http)
    typer.echo(f"copied {digest} and {n} signature(s) to {dst}")


# ----------------------------------------------------------------------------------- registry/trust

@registry_app.command("login")
@_os_errors
def registry_login(
    host: str = typer.Argument(..., help="host[:port] of the registry"),
    username: str = typer.Option(..., "-u", "--username"),
) -> None:
    """Store registry credentials in the OS keyring; the password is read from stdin."""
    from skillstudio.release.registry import store_credentials

    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise SkillStudioError("no password on stdin", f"echo PASSWORD | skillstudio registry login {host} -u USER")
    store_credentials(host, username, password)
    typer.echo(f"stored credentials for {host}")


@registry_app.command("logout")
@_os_errors
def registry_logout(host: str = typer.Argument(...)) -> None:
    from skillstudio.release.registry import delete_credentials

    delete_credentials(host)
    typer.echo(f"removed credentials for {host}")


@trust_app.command("add")
@_os_errors
def trust_add(
    workspace: Path = typer.Argument(...),
    name: str = typer.Argument(..., help="Name for the key, e.g. alice or security-team."),
    pem: Path = typer.Argument(..., help="Public key PEM (keys export)."),
    role: list[str] = typer.Option([], "--role", "-r", help="author or approver (repeatable)."),
) -> None:
    """Trust a public key in a workspace, with roles."""
    from skillstudio.release import trust

    try:
        data = pem.read_bytes()
    except OSError as exc:
        raise SkillStudioError(f"cannot read {pem}: {exc.strerror}", "give the PEM written by `keys export`") from None
    k = trust.add_key(workspace, name, data, list(role))
    typer.echo(f"trusted {name} ({k.keyid[:16]}) as {', '.join(k.roles) or 'no role'}")


@trust_app.command("policy")
@_os_errors
def trust_policy(
    workspace: Path = typer.Argument(...),
    require_role: list[str] = typer.Option([], "--require-role", help="Role that must have signed (repeatable)."),
) -> None:
    """Set which roles must have signed a bundle for this workspace to accept it."""
    from skillstudio.release import trust

    trust.set_policy(workspace, list(require_role))
    typer.echo(f"policy: {', '.join(require_role) or 'any trusted signature'} required")


@trust_app.command("list")
@_os_errors
def trust_list(workspace: Path = typer.Argument(...)) -> None:
    from skillstudio.release import trust

    store = trust.load(workspace)
    for k in store.keys.values():
        typer.echo(f"{k.name}\t{k.keyid}\t{','.join(k.roles)}")
    typer.echo(f"policy: {', '.join(store.require_roles) or 'any trusted signature'}")


def lock(
    path: Path = typer.Argument(..., help="The skill folder to approve (or, with --check, the workspace)."),
    signature: Path | None = typer.Option(None, "--signature", "-s", help="Its .sig.json (signed per the trust "
                                                                           "policy)."),
    source: str | None = typer.Option(None, "--source", help="Where it was published: the oci:// ref, or "
                                                               "openai:SKILL_ID@VERSION as `push` printed it."),
    check: bool = typer.Option(False, "--check", help="Verify the workspace against skills.lock; exit 1 on drift."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Record an approved skill version in skills.lock, or check a workspace against it."""
    from skillstudio.release import lockfile, trust
    from skillstudio.release.dsse import Envelope

    if check:
        problems = lockfile.verify_lock(path)
        if as_json:
            _emit(True, {"command": "lock", "check": True, "ok": not problems, "problems": problems, "written": []}, "")
        else:
            for p in problems:
                typer.echo(p)
        if problems:
            raise CheckFailed(f"{len(problems)} problem(s) against {lockfile.LOCK_NAME}",
                              "approve or revert the changes")
        if not as_json:
            typer.echo(f"{path}: matches {lockfile.LOCK_NAME}")
        return
    if signature is None:
        raise SkillStudioError("--signature is required to approve a skill", "sign it first: `skillstudio sign`")
    workspace = Path(path).resolve().parent
    env = Envelope.from_json(signature.read_bytes(), str(signature))
    entry = lockfile.lock_from_signature(workspace, path, env, trust.load(workspace), source)
    _emit(as_json, {"command": "lock", "check": False, "name": Path(path).name, "version": entry.version,
                    "digest": entry.digest, "signers": entry.signers, "sources": entry.sources,
                    "written": [str(workspace / lockfile.LOCK_NAME)]},
          f"locked {Path(path).name}@{entry.version} {entry.digest} in {workspace / lockfile.LOCK_NAME}")



def snippet(
    workspace: Path = typer.Argument(...),
    route: str = typer.Argument(..., help="A route name from routes.yaml."),
    hosted: bool = typer.Option(False, "--hosted", help="OpenAI-hosted (skill_reference) instead of local."),
    model: str = typer.Option(DEFAULT_MODEL, "--model"),
) -> None:
    """Print ready-to-run Python for a route, pinned to the version approved in skills.lock."""
    from skillstudio.release import snippets

    typer.echo((snippets.hosted if hosted else snippets.local)(workspace, route, model=model), nl=False)

def register(app: typer.Typer) -> None:
    """Adds the commands of this module to the main app."""
    app.add_typer(keys_app, name="keys")
    for name, fn in (("pack", pack), ("sign", sign), ("verify", verify), ("push", push), ("pull", pull),
                     ("copy", copy), ("approve", approve), ("lock", lock), ("snippet", snippet)):
        app.command(name)(_os_errors(fn))
    app.add_typer(registry_app, name="registry")
