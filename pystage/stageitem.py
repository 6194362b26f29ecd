"""How a staged item is shown, field by field: npm's logStageItem order (fixed keys
renamed, then the rest as the registry sent them, null values left out). Shared by
``pystage view`` and the registry's review page, so it imports nothing else."""

from __future__ import annotations

from typing import Any

NPM_ITEM_KEYS = ("id", "packageName", "version", "tag", "createdAt", "actor", "actorType", "shasum")


def stage_item_fields(item: dict) -> list[tuple[str, Any]]:
    actor, actor_type = item.get("actor"), item.get("actorType")
    fields = [
        ("id", item.get("id")),
        ("package name", item.get("packageName")),
        ("version", item.get("version")),
        ("tag", item.get("tag")),
        ("date staged", item.get("createdAt")),
        ("staged by", f"{actor} ({actor_type})" if actor_type else actor),
        ("shasum", item.get("shasum")),
    ]
    fields += [(k, v) for k, v in item.items() if k not in NPM_ITEM_KEYS]
    return [(k, v) for k, v in fields if v is not None]
