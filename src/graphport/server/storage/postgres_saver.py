"""The PostgreSQL checkpointer for encryption at rest.

langgraph's PostgreSQL saver keeps channel values that are None, str, int, float or bool
inline in the checkpoint's JSONB, outside the serializer, so they would stay in clear
however the serializer encrypts. This saver sends them to the blobs table like any other
value, where the (encrypted) serializer writes them; reading needs no change, since the
saver reads a channel's blob before its inline value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import ChannelVersions, Checkpoint, CheckpointMetadata
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver


@dataclass(frozen=True)
class _Boxed:
    """A primitive value dressed up so the saver stores it as a blob."""

    value: Any


def _primitive(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


class BlobOnlyPostgresSaver(AsyncPostgresSaver):
    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        versions = checkpoint["channel_versions"]
        boxed = {
            k for k, v in checkpoint["channel_values"].items() if _primitive(v) and k in versions
        }
        if not boxed:
            return await super().aput(config, checkpoint, metadata, new_versions)
        values = {
            k: _Boxed(v) if k in boxed else v for k, v in checkpoint["channel_values"].items()
        }
        # Every boxed channel's blob at its current version (an unchanged one included, as
        # it may have been inline before encryption was turned on); existing rows are kept.
        new_versions = {**{k: versions[k] for k in boxed}, **new_versions}
        return await super().aput(
            config, {**checkpoint, "channel_values": values}, metadata, new_versions
        )

    def _dump_blobs(
        self,
        thread_id: str,
        checkpoint_ns: str,
        values: dict[str, Any],
        versions: ChannelVersions,
    ) -> list[tuple[str, str, str, str, str, bytes | None]]:
        values = {k: v.value if isinstance(v, _Boxed) else v for k, v in values.items()}
        return super()._dump_blobs(thread_id, checkpoint_ns, values, versions)
