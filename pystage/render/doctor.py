"""``pystage doctor``'s report: one aligned line per topic on stdout (``--json``: the
report as it was gathered). Values quote config files and the registry's answers:
each is escaped (``safe``)."""

from __future__ import annotations

from typing import Any

from pystage.render import LazyConsoles, print_json, safe


def _describe(topic: str, value: dict | None) -> str:
    if value is None:
        return "not checked (--offline)"
    if topic == "registry":
        where = f" (from {value['source']})"
        package = f", for {value['package']} (./package.json)" if value.get("package") else ""
        return f"{value['url']}{where}{package}"
    if topic == "credential":
        if not value.get("kind"):
            return value.get("problem") or value.get("note") or "none"
        return f"{value['kind']} from {value['source']} (secret redacted)"
    if topic == "account":
        if not value.get("name"):
            return value.get("problem") or value.get("note") or "unknown"
        tfa = value.get("tfa")
        shown = f"two-factor auth: {tfa}" if tfa else f"two-factor auth: {value.get('note')}"
        return f"{value['name']}, {shown}"
    if topic == "keyring":
        return value.get("backend") or value.get("note") or "none"
    if topic == "ca":
        extra = f"; plus {value['extra']}" if value.get("extra") else ""
        return (value.get("source") or value.get("problem") or "") + extra
    if topic == "proxy":
        return value.get("problem") or value.get("url") or "none (direct connection)"
    if topic == "oidc":
        if not value.get("provider"):
            return value.get("note") or "not available"
        ready = "id token available" if value.get("id_token") else value.get("note")
        return f"{value['provider']}: {ready}"
    return str(value)


_LABELS = {
    "registry": "registry",
    "credential": "credential",
    "account": "account",
    "keyring": "keyring",
    "ca": "TLS trust",
    "proxy": "proxy",
    "oidc": "trusted publishing",
}


class DoctorRenderer(LazyConsoles):
    def json(self, report: dict[str, Any]) -> None:
        print_json(report)

    def report(self, report: dict[str, Any]) -> None:
        from rich.text import Text

        width = max(len(label) for label in _LABELS.values())
        for topic, label in _LABELS.items():
            value = report.get(topic)
            problem = isinstance(value, dict) and value.get("problem")
            line = Text(label.ljust(width) + "  ", style="bold")
            line.append(safe(_describe(topic, value)), "red" if problem else "")
            self.out.print(line, soft_wrap=True)
