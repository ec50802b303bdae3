#!/usr/bin/env python3
"""Validate a switch intent (JSON) and render it into a device configuration.

Standard library only, so it runs anywhere the agent has python3. The template language is a
small, strict subset of Jinja: {{ path | filter }}, {% for x in path %}, {% if cond %}/{% else %},
with filters upper, lower, join('sep') and default('value'). An undefined variable in the output
is an error, never an empty string: a half-rendered config must not reach a device.

Usage:
    python3 scripts/render_config.py INTENT.json [--template FILE] [-o OUT] [--check-only]

Exit codes: 0 rendered (warnings may be printed), 1 the intent is invalid, 2 usage error.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import re
import sys
from pathlib import Path

DEFAULT_TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "switch-ios.cfg.j2"
RESERVED_VLANS = range(1002, 1006)
HOSTNAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,62}$")
NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
IFACE = re.compile(r"^[A-Za-z][A-Za-z-]*\d+(/\d+)*(\.\d+)?$")


class TemplateError(Exception):
    pass


# ------------------------------------------------------------------------------------------ template engine

_TAG = re.compile(r"(\{\{.*?\}\}|\{%.*?%\})", re.S)
_BLOCK_LINE = re.compile(r"^[ \t]*(\{%.*?%\})[ \t]*\r?\n", re.M)
_MISSING = object()


def _lookup(path: str, ctx: dict, strict: bool, line: int):
    path = path.strip()
    if re.fullmatch(r"-?\d+", path):
        return int(path)
    if len(path) >= 2 and path[0] == path[-1] and path[0] in "'\"":
        return path[1:-1]
    value: object = ctx
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            if strict:
                raise TemplateError(f"line {line}: undefined value '{path}'")
            return _MISSING
    return value


def _apply_filter(value, flt: str, line: int):
    m = re.fullmatch(r"\s*(\w+)\s*(?:\(\s*(['\"])(.*?)\2\s*\))?\s*", flt)
    if not m:
        raise TemplateError(f"line {line}: cannot read filter '{flt.strip()}'")
    name, arg = m.group(1), m.group(3)
    if name == "default":
        return arg if value is _MISSING or value in (None, "") else value
    if value is _MISSING:
        raise TemplateError(f"line {line}: undefined value before filter '{name}'")
    if name == "upper":
        return str(value).upper()
    if name == "lower":
        return str(value).lower()
    if name == "join":
        if not isinstance(value, list):
            raise TemplateError(f"line {line}: join needs a list")
        return (arg if arg is not None else ",").join(str(x) for x in value)
    raise TemplateError(f"line {line}: unknown filter '{name}'")


def _expr(text: str, ctx: dict, line: int):
    head, *filters = text.split("|")
    has_default = any(f.strip().startswith("default") for f in filters)
    value = _lookup(head, ctx, strict=not has_default, line=line)
    for f in filters:
        value = _apply_filter(value, f, line)
    return value


def _truth(cond: str, ctx: dict, line: int) -> bool:
    cond = cond.strip()
    if cond.startswith("not "):
        return not _truth(cond[4:], ctx, line)
    m = re.fullmatch(r"(.+?)\s*(==|!=)\s*(.+)", cond)
    if m:
        left = _lookup(m.group(1), ctx, strict=False, line=line)
        right = _lookup(m.group(3), ctx, strict=False, line=line)
        return (left == right) if m.group(2) == "==" else (left != right)
    value = _lookup(cond, ctx, strict=False, line=line)
    return value is not _MISSING and bool(value)


def _parse(tokens: list[tuple[str, int]], pos: int, stop: tuple[str, ...]) -> tuple[list, int, str]:
    """Nodes until one of the `stop` tags; returns (nodes, next position, the stop tag found)."""
    nodes: list = []
    while pos < len(tokens):
        tok, line = tokens[pos]
        if tok.startswith("{%"):
            stmt = tok[2:-2].strip()
            word = stmt.split(" ", 1)[0]
            if word in stop:
                return nodes, pos + 1, word
            if word == "for":
                m = re.fullmatch(r"for\s+(\w+)\s+in\s+([\w.]+)", stmt)
                if not m:
                    raise TemplateError(f"line {line}: expected 'for NAME in PATH'")
                body, pos, _ = _parse(tokens, pos + 1, ("endfor",))
                nodes.append(("for", m.group(1), m.group(2), body, line))
                continue
            if word == "if":
                body, pos, found = _parse(tokens, pos + 1, ("else", "endif"))
                other: list = []
                if found == "else":
                    other, pos, _ = _parse(tokens, pos, ("endif",))
                nodes.append(("if", stmt[2:].strip(), body, other, line))
                continue
            raise TemplateError(f"line {line}: unexpected '{{% {stmt} %}}'")
        nodes.append(("var", tok[2:-2], line) if tok.startswith("{{") else ("text", tok))
        pos += 1
    if stop:
        raise TemplateError(f"template ends before '{{% {stop[-1]} %}}'")
    return nodes, pos, ""


def _render(nodes: list, ctx: dict, out: list[str]) -> None:
    for node in nodes:
        kind = node[0]
        if kind == "text":
            out.append(node[1])
        elif kind == "var":
            out.append(str(_expr(node[1], ctx, node[2])))
        elif kind == "for":
            _, var, path, body, line = node
            items = _lookup(path, ctx, strict=False, line=line)
            if items is _MISSING:
                items = []
            if not isinstance(items, list):
                raise TemplateError(f"line {line}: '{path}' is not a list")
            for item in items:
                _render(body, {**ctx, var: item}, out)
        elif kind == "if":
            _, cond, body, other, line = node
            _render(body if _truth(cond, ctx, line) else other, ctx, out)


def render_template(text: str, ctx: dict) -> str:
    text = _BLOCK_LINE.sub(r"\1", text)  # a line holding only a block tag leaves no blank line
    tokens: list[tuple[str, int]] = []
    line = 1
    for part in _TAG.split(text):
        if part:
            tokens.append((part, line))
            line += part.count("\n")
    nodes, _, _ = _parse(tokens, 0, ())
    out: list[str] = []
    _render(nodes, ctx, out)
    return "".join(out)


# ------------------------------------------------------------------------------------------ intent checks

def _endpoint(value: object, where: str, errors: list[str]) -> str:
    """ACL source/destination in IOS syntax: any | host A.B.C.D | A.B.C.D WILDCARD."""
    if value == "any":
        return "any"
    try:
        net = ipaddress.ip_network(str(value), strict=True)
    except ValueError:
        errors.append(f"{where}: '{value}' is not 'any', an IPv4 address or a network like 10.0.0.0/24")
        return "any"
    if net.version != 4:
        errors.append(f"{where}: only IPv4 is supported by this template")
    if net.prefixlen == net.max_prefixlen:
        return f"host {net.network_address}"
    return f"{net.network_address} {net.hostmask}"


def check_intent(intent: dict) -> tuple[dict, list[str], list[str]]:
    """Validate the intent; return (template context, errors, warnings)."""
    errors: list[str] = []
    warnings: list[str] = []
    ctx = dict(intent)
    if not HOSTNAME.match(str(intent.get("hostname", ""))):
        errors.append("hostname: must start with a letter and use letters, digits and '-' (max 63)")
    ctx.setdefault("domain", "local")

    vlan_ids: set[int] = set()
    for n, v in enumerate(intent.get("vlans") or []):
        vid = v.get("id")
        if not isinstance(vid, int) or not 1 <= vid <= 4094:
            errors.append(f"vlans[{n}]: id {vid!r} must be a whole number from 1 to 4094")
            continue
        if vid in RESERVED_VLANS:
            errors.append(f"vlans[{n}]: VLAN {vid} is reserved (1002-1005)")
        if vid in vlan_ids:
            errors.append(f"vlans[{n}]: VLAN {vid} is defined twice")
        vlan_ids.add(vid)
        if not NAME.match(str(v.get("name", ""))):
            errors.append(f"vlans[{n}]: name must be 1-32 letters, digits, '_' or '-'")

    def need_vlan(vid: object, where: str) -> None:
        if vid not in vlan_ids:
            errors.append(f"{where}: VLAN {vid!r} is not defined under 'vlans'")

    seen: set[str] = set()
    for n, i in enumerate(intent.get("interfaces") or []):
        where = f"interfaces[{n}] ({i.get('name', '?')})"
        name = str(i.get("name", ""))
        if not IFACE.match(name):
            errors.append(f"{where}: '{name}' is not an interface name like GigabitEthernet1/0/1")
        if name in seen:
            errors.append(f"{where}: interface configured twice")
        seen.add(name)
        mode = i.get("mode")
        if mode == "access":
            need_vlan(i.get("vlan"), where)
            if i.get("voice_vlan") is not None:
                need_vlan(i.get("voice_vlan"), where + " voice_vlan")
        elif mode == "trunk":
            allowed = i.get("allowed_vlans")
            if not isinstance(allowed, list) or not allowed:
                errors.append(f"{where}: a trunk needs a non-empty 'allowed_vlans' list")
            else:
                for vid in allowed:
                    need_vlan(vid, where + " allowed_vlans")
            if i.get("native_vlan") is not None:
                need_vlan(i.get("native_vlan"), where + " native_vlan")
        else:
            errors.append(f"{where}: mode must be 'access' or 'trunk', not {mode!r}")
        if not i.get("description") and not i.get("shutdown"):
            warnings.append(f"{where}: active port without a description")

    mgmt = dict(intent.get("mgmt") or {})
    try:
        iface = ipaddress.ip_interface(str(mgmt.get("ip", "")))
        mgmt["address"], mgmt["netmask"] = str(iface.ip), str(iface.netmask)
        gateway = ipaddress.ip_address(str(mgmt.get("gateway", "")))
        if gateway not in iface.network:
            errors.append(f"mgmt: gateway {gateway} is not in {iface.network}")
        if iface.ip in (iface.network.network_address, iface.network.broadcast_address):
            errors.append(f"mgmt: {iface.ip} is the network or broadcast address of {iface.network}")
    except ValueError as exc:
        errors.append(f"mgmt: {exc}")
    need_vlan(mgmt.get("vlan"), "mgmt")
    ctx["mgmt"] = mgmt

    for n, server in enumerate(intent.get("ntp") or []):
        try:
            ipaddress.ip_address(str(server))
        except ValueError:
            errors.append(f"ntp[{n}]: '{server}' is not an IP address")

    acl_names = set()
    acls = []
    for n, acl in enumerate(intent.get("acls") or []):
        where = f"acls[{n}]"
        if not NAME.match(str(acl.get("name", ""))):
            errors.append(f"{where}: name must be 1-32 letters, digits, '_' or '-'")
        acl_names.add(acl.get("name"))
        entries = []
        for k, e in enumerate(acl.get("entries") or []):
            ew = f"{where}.entries[{k}]"
            action, proto = e.get("action"), e.get("protocol", "ip")
            if action not in ("permit", "deny"):
                errors.append(f"{ew}: action must be permit or deny")
            if proto not in ("ip", "tcp", "udp", "icmp"):
                errors.append(f"{ew}: protocol must be ip, tcp, udp or icmp")
            line = f"{action} {proto} {_endpoint(e.get('source'), ew + ' source', errors)} " \
                   f"{_endpoint(e.get('destination'), ew + ' destination', errors)}"
            port = e.get("port")
            if port is not None:
                if proto not in ("tcp", "udp"):
                    errors.append(f"{ew}: a port needs protocol tcp or udp")
                elif not isinstance(port, int) or not 1 <= port <= 65535:
                    errors.append(f"{ew}: port must be 1-65535")
                else:
                    line += f" eq {port}"
            entries.append({**e, "line": line})
        if not entries:
            errors.append(f"{where}: an ACL needs at least one entry")
        elif entries[-1].get("action") != "deny":
            warnings.append(f"{where}: no explicit final deny (the implicit deny is not logged)")
        acls.append({**acl, "entries": entries})
    ctx["acls"] = acls
    if intent.get("vty_acl") and intent["vty_acl"] not in acl_names:
        errors.append(f"vty_acl: ACL '{intent['vty_acl']}' is not defined under 'acls'")
    ctx.setdefault("vty_acl", None)
    return ctx, errors, warnings


def check_rendered(config: str) -> list[str]:
    """Last line of defence on the output itself."""
    errors = []
    if "{{" in config or "{%" in config:
        errors.append("rendered config still contains template tags")
    names = [ln.split(None, 1)[1] for ln in config.splitlines() if ln.startswith("interface ")]
    errors += [f"interface {n} appears twice in the output" for n in sorted({n for n in names if names.count(n) > 1})]
    if not config.rstrip().endswith("end"):
        errors.append("rendered config does not finish with 'end'")
    return errors


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Validate a switch intent and render its configuration.")
    ap.add_argument("intent", type=Path, help="intent file (JSON)")
    ap.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE, help="template file")
    ap.add_argument("-o", "--output", type=Path, help="write the config here instead of stdout")
    ap.add_argument("--check-only", action="store_true", help="validate without rendering")
    args = ap.parse_args(argv)
    try:
        intent = json.loads(args.intent.read_text(encoding="utf-8"))
        template = args.template.read_text(encoding="utf-8")
    except (OSError, json.JSONDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not isinstance(intent, dict):
        print("error: the intent must be a JSON object", file=sys.stderr)
        return 2
    ctx, errors, warnings = check_intent(intent)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    if not errors and not args.check_only:
        try:
            config = render_template(template, ctx)
        except TemplateError as exc:
            errors.append(f"template: {exc}")
        else:
            errors += check_rendered(config)
    if errors:
        for e in errors:
            print(f"error: {e}", file=sys.stderr)
        print(f"{len(errors)} error(s); nothing rendered", file=sys.stderr)
        return 1
    if args.check_only:
        print("intent is valid", file=sys.stderr)
        return 0
    if args.output:
        args.output.write_text(config, encoding="utf-8")
        print(f"wrote {args.output} ({len(config.splitlines())} lines)", file=sys.stderr)
    else:
        sys.stdout.write(config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
