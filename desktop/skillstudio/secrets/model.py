"""What a secret *is*, apart from its value: name, bound domains, and how it is applied.

Kept separate from the vault so the substitution core and the UI can validate input without
touching the keyring. Everything here is non-secret and may be written to disk.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from skillstudio.errors import SkillStudioError

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# Names that would break the tool process if a placeholder replaced them.
RESERVED_NAMES = frozenset({
    "PATH", "HOME", "USER", "SHELL", "PWD", "TMPDIR", "LANG", "TERM", "LD_PRELOAD", "LD_LIBRARY_PATH",
    "PYTHONPATH", "PYTHONHOME", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
})
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MIN_VALUE_LEN = 6  # shorter values cannot be told apart from ordinary text by redaction
MAX_VALUE_LEN = 64 * 1024

APPLY_KINDS = ("bearer", "header", "query", "anywhere")
DEFAULT_APPLY = "bearer"  # the narrowest use: the Authorization header only; widen with --apply
_TOKEN_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")  # an HTTP header name (RFC 9110 token)
_PARAM_RE = re.compile(r"^[A-Za-z0-9._~-]+$")


def validate_name(name: str) -> str:
    if not NAME_RE.match(name or ""):
        raise SkillStudioError(
            f"invalid secret name {name!r}",
            "use an environment-variable style name: letters, digits and _, not starting with a digit "
            "(e.g. GITHUB_TOKEN)")
    if name.upper() in RESERVED_NAMES:
        raise SkillStudioError(f"secret name {name!r} is reserved", "pick another name, e.g. MY_" + name.upper())
    return name


def validate_value(value: str) -> str:
    if len(value) < MIN_VALUE_LEN:
        raise SkillStudioError(
            f"secret value is too short ({len(value)} characters)",
            f"a secret must have at least {MIN_VALUE_LEN} characters so it can be found and redacted")
    if len(value) > MAX_VALUE_LEN:
        raise SkillStudioError("secret value is too large", f"keep it under {MAX_VALUE_LEN // 1024} KiB")
    if "\x00" in value:
        raise SkillStudioError("secret value contains a NUL byte", "store the value as text (e.g. base64 it)")
    return value


def normalize_host(host: str) -> str:
    """Lower-case, without brackets or trailing dot, IDNA-encoded: the form bindings compare."""
    h = host.strip().lower()
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    h = h.rstrip(".")
    try:
        return h.encode("idna").decode("ascii") if not h.isascii() else h
    except UnicodeError:
        return h


def validate_domain(domain: str) -> str:
    """A bare host name, an IP address, or `*.example.com` (any sub-domain, not the apex)."""
    raw = domain.strip()
    d = normalize_host(raw)
    hint = "give a host name such as api.example.com or *.example.com (no scheme, port or path)"
    if not d or any(c in d for c in "/:@ ") and not _is_ip(d):
        raise SkillStudioError(f"invalid domain {raw!r}", hint)
    if _is_ip(d):
        return d
    labels = d[2:].split(".") if d.startswith("*.") else d.split(".")
    if "*" in "".join(labels) or not all(_LABEL_RE.match(label) for label in labels):
        raise SkillStudioError(f"invalid domain {raw!r}", hint)
    if d.startswith("*."):
        problem = wildcard_problem(d[2:])
        if problem:
            raise SkillStudioError(f"wildcard {raw!r} is too broad: {problem}",
                                   "name the organisation's own domain, e.g. *.example.com or *.example.co.uk")
    return d


# Suffixes under which unrelated parties register names: a wildcard directly below one of them would
# cover everyone's hosts. A small, deliberate list (not the whole Public Suffix List): the common
# two-level country suffixes are caught by shape (`co.xx`, `com.xx`, ...), the rest are named here.
_SHARED_SUFFIXES = frozenset({
    "github.io", "gitlab.io", "herokuapp.com", "appspot.com", "blogspot.com",
    "vercel.app", "netlify.app", "pages.dev", "workers.dev", "web.app", "firebaseapp.com",
    "azurewebsites.net", "cloudapp.net", "cloudfront.net", "amazonaws.com", "s3.amazonaws.com",
    "ngrok.io", "ngrok-free.app", "trycloudflare.com", "fly.dev", "onrender.com", "repl.co", "glitch.me",
})
_SECOND_LEVEL = frozenset({"co", "com", "net", "org", "ac", "gov", "edu", "or", "ne", "go", "gob", "nic", "mil",
                           "ltd", "plc", "sch", "nom", "gen", "biz", "info"})


def wildcard_problem(base: str) -> str | None:
    """Why `*.base` is too broad to allow, or None.

    Refused: a base without a dot (`*.com`), a numeric last label (`*.0.0.1`: IP addresses are
    never matched by wildcards), a two-level public suffix (`*.co.uk`, `*.com.au`) and the
    shared-hosting suffixes above (`*.github.io`). Anything deeper (`*.example.co.uk`) is fine.
    """
    labels = base.split(".")
    if len(labels) < 2:
        return "it covers a whole top-level domain"
    if labels[-1].isdigit() or all(label.isdigit() for label in labels):
        return "wildcards over numbers would match IP addresses"
    if base in _SHARED_SUFFIXES:
        return "anyone can register a name under it"
    if len(labels) == 2 and len(labels[-1]) == 2 and labels[0] in _SECOND_LEVEL:
        return "it is a public suffix (names below it belong to unrelated owners)"
    return None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def host_matches(host: str, domain: str) -> bool:
    h = normalize_host(host)
    if domain.startswith("*."):
        return h.endswith(domain[1:]) and len(h) > len(domain) - 1
    return h == domain


@dataclass(frozen=True)
class Apply:
    """Where the placeholder may appear and be replaced by the value on a bound host.

    `bearer` (the default): only in the Authorization header, whatever its scheme; `header`: only in
    header `param`; `query`: only in query parameter `param`; `anywhere`: headers, path/query and
    body — an explicit widening. A placeholder found elsewhere is refused, so a bound API cannot be
    used to echo the value back (e.g. into a posted body that the API stores and shows again).
    """

    kind: str = DEFAULT_APPLY
    param: str = ""

    @classmethod
    def parse(cls, text: str) -> Apply:
        """Parse `bearer`, `header:X-Api-Key`, `query:api_key` or `anywhere` (empty: the default)."""
        kind, _, param = (text or DEFAULT_APPLY).strip().partition(":")
        kind = kind.strip().lower()
        param = param.strip()
        hint = "use bearer, header:NAME, query:NAME or anywhere"
        if kind not in APPLY_KINDS:
            raise SkillStudioError(f"unknown way to apply a secret: {text!r}", hint)
        if kind in ("header", "query"):
            if not param:
                raise SkillStudioError(f"{kind}: needs a name, e.g. {kind}:{'X-Api-Key' if kind == 'header' else 'api_key'}", hint)
            if not (_TOKEN_RE if kind == "header" else _PARAM_RE).match(param):
                raise SkillStudioError(f"invalid {kind} name {param!r}", hint)
            if kind == "header" and param.lower() == "host":
                raise SkillStudioError("a secret cannot be applied to the Host header", hint)
        elif param:
            raise SkillStudioError(f"{kind} takes no name (got {text!r})", hint)
        return cls(kind, param)

    def __str__(self) -> str:
        return f"{self.kind}:{self.param}" if self.param else self.kind

    def describe(self) -> str:
        return {
            "bearer": "the Authorization header",
            "header": f"header {self.param}",
            "query": f"query parameter {self.param}",
            "anywhere": "anywhere (headers, query, body)",
        }[self.kind]


@dataclass
class SecretMeta:
    """The non-secret half of a secret (safe to store beside the workspace)."""

    name: str
    domains: list[str] = field(default_factory=list)
    apply: Apply = field(default_factory=Apply)
    description: str = ""
    plain_http: list[str] = field(default_factory=list)  # bound hosts that may get the value without TLS

    def bound_to(self, host: str) -> bool:
        return any(host_matches(host, d) for d in self.domains)

    def plain_http_to(self, host: str) -> bool:
        """Whether the binding explicitly allows sending the value to `host` over cleartext HTTP."""
        return self.bound_to(host) and any(host_matches(host, d) for d in self.plain_http)
