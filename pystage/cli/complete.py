"""Shell completion of what the registry has staged: stage ids and name@version for
view, download, approve and reject, package names for list. Cheap by construction: one
request (the first page of the stage list) with a 2 s deadline and no retries; any
failure completes nothing rather than hang or print into the user's shell line."""

from __future__ import annotations

from typing import Any

# fetch-timeout in ms, no retries: a shell waits for this while the user waits for it
_QUICK = {"fetch-timeout": 2000, "fetch-retries": 0}


def _staged(ctx) -> list[dict]:
    from pystage.cli.options import get_options
    from pystage.context import make_client

    try:
        with make_client(get_options(ctx), extra=_QUICK, interactive=False) as client:
            answer = client.json(
                "GET", "/-/stage", params={"page": 0, "perPage": 100}, otp_ok=False
            )
    except Exception:  # noqa: BLE001 - completion must never fail the shell
        return []
    items = answer.get("items") if isinstance(answer, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def stage_refs(ctx, param, incomplete: str) -> list[Any]:
    """Stage ids (with name@version as their help) and name@version, matching what is
    typed so far; only values that are themselves valid, checked ids or specs."""
    from click.shell_completion import CompletionItem

    from pystage.staging import is_stage_id

    found = []
    for item in _staged(ctx):
        stage_id, name, version = item.get("id"), item.get("packageName"), item.get("version")
        if not is_stage_id(stage_id) or not isinstance(name, str) or not isinstance(version, str):
            continue
        spec = f"{name}@{version}"
        if not spec.isprintable() or " " in spec:
            continue  # nothing a registry sends may reach the shell's line but plain text
        if stage_id.startswith(incomplete):
            found.append(CompletionItem(stage_id, help=spec))
        if spec.startswith(incomplete):
            found.append(CompletionItem(spec))
    return found


def package_names(ctx, param, incomplete: str) -> list[Any]:
    from click.shell_completion import CompletionItem

    names: list[str] = []
    for item in _staged(ctx):
        name = item.get("packageName")
        if isinstance(name, str) and name.isprintable() and " " not in name and name not in names:
            names.append(name)
    return [CompletionItem(n) for n in names if n.startswith(incomplete)]
