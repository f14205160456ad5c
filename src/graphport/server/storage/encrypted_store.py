"""The long-term store with item values encrypted at rest.

langgraph's stores keep a value as JSON in a column of their own and have no serializer
hook, so this wraps the store: a value is stored as `{SEALED: [type, base64 ciphertext]}`
(namespaces and keys stay plain: they are how items are found). What encryption costs:

* filters cannot run in SQL on ciphertext: a filtered search pages through the namespace
  (by recency, or by similarity with a query) and matches decrypted values here;
* semantic search embeds the plaintext: the texts to embed travel to the store encrypted
  under `TEXTS` and `OpeningEmbeddings` decrypts them just before the embedding model, so the
  stored vectors come from plaintext (and, like any embedding, say something about it)."""

from __future__ import annotations

import asyncio
import base64
import operator
from collections.abc import Callable, Iterable
from typing import Any, cast

from langchain_core.embeddings import Embeddings
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
from langgraph.store.base import (
    BaseStore,
    GetOp,
    Item,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
)
from langgraph.store.base.embed import ensure_embeddings, get_text_at_path

from graphport.server.storage.encryption import SEALED

TEXTS = "__graphport_aes_texts__"
_TEXT_PREFIX = "graphport-aes:"
_PAGE = 200
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "$eq": operator.eq,
    "$ne": operator.ne,
    "$gt": operator.gt,
    "$gte": operator.ge,
    "$lt": operator.lt,
    "$lte": operator.le,
}


def matches(value: dict[str, Any], flt: dict[str, Any]) -> bool:
    """The store's filter language on a decrypted value, as the SQL stores read it:
    `{"a.b": x}` is equality at a dotted path, `{"k": {"$gt": x}}` a comparison; values
    that do not compare (a missing field against a number) do not match."""
    for path, cond in flt.items():
        field: Any = value
        for part in str(path).split("."):
            field = field.get(part) if isinstance(field, dict) else None
        conds = (
            cond
            if isinstance(cond, dict) and cond and all(str(k).startswith("$") for k in cond)
            else {"$eq": cond}
        )
        for op, operand in conds.items():
            compare = _OPS.get(op)
            if compare is None:
                raise ValueError(f"Unsupported filter operator: {op}")
            try:
                if not compare(field, operand):
                    return False
            except TypeError:
                return False
    return True


class OpeningEmbeddings(Embeddings):
    """The configured embeddings, fed the plaintext of the sealed texts the store hands over
    (anything else, such as a search query, passes unchanged)."""

    def __init__(self, inner: Embeddings, serde: EncryptedSerializer) -> None:
        self._inner = inner
        self._serde = serde

    def _open(self, texts: list[str]) -> list[str]:
        return [
            self._serde.cipher.decrypt("aes", base64.b64decode(t[len(_TEXT_PREFIX) :])).decode()
            if t.startswith(_TEXT_PREFIX)
            else t
            for t in texts
        ]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._inner.embed_documents(self._open(texts))

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return await self._inner.aembed_documents(self._open(texts))

    def embed_query(self, text: str) -> list[float]:
        return self._inner.embed_query(text)

    async def aembed_query(self, text: str) -> list[float]:
        return await self._inner.aembed_query(text)


def opening_index(index: dict[str, Any], serde: EncryptedSerializer) -> dict[str, Any]:
    """The store's `index` config with its embeddings opening sealed texts first."""
    return {**index, "embed": OpeningEmbeddings(ensure_embeddings(index["embed"]), serde)}


class EncryptedStore(BaseStore):
    """`inner` with every value sealed on the way in and opened on the way out."""

    def __init__(
        self, inner: BaseStore, serde: EncryptedSerializer, index_fields: list[str] | None
    ) -> None:
        self._inner = inner
        self._serde = serde
        self._index_fields = index_fields  # None: no semantic index configured
        self.supports_ttl = inner.supports_ttl
        self.ttl_config = inner.ttl_config
        self._loop = asyncio.get_running_loop()

    async def sweep_ttl(self) -> int:
        # langgraph's SQLite and PostgreSQL stores have it; BaseStore does not declare it.
        return await self._inner.sweep_ttl()  # type: ignore[attr-defined]

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        # Sync callers (sync graph nodes) run in worker threads, as for langgraph's stores.
        return asyncio.run_coroutine_threadsafe(self.abatch(ops), self._loop).result()

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        ops = list(ops)
        filtered = {i for i, op in enumerate(ops) if isinstance(op, SearchOp) and op.filter}
        direct = [i for i in range(len(ops)) if i not in filtered]
        results: list[Result] = [None] * len(ops)
        inner_results = await self._inner.abatch([self._seal_op(ops[i]) for i in direct])
        for i, result in zip(direct, inner_results, strict=True):
            results[i] = self._open_result(result)
        for i in sorted(filtered):
            results[i] = await self._filtered_search(ops[i])  # type: ignore[arg-type]
        return results

    def _seal(self, obj: Any) -> list[str]:
        kind, data = self._serde.dumps_typed(obj)
        return [kind, base64.b64encode(data).decode()]

    def _seal_op(self, op: Op) -> Op:
        if not isinstance(op, PutOp) or op.value is None:
            return op
        value: dict[str, Any] = {SEALED: self._seal(op.value)}
        index = op.index
        if self._index_fields is not None and index is not False:
            texts = [
                t for path in index or self._index_fields for t in get_text_at_path(op.value, path)
            ]
            value[TEXTS] = [
                _TEXT_PREFIX + base64.b64encode(self._serde.cipher.encrypt(t.encode())[1]).decode()
                for t in texts
            ]
            index = [f"{TEXTS}[*]"] if texts else False
        return PutOp(op.namespace, op.key, value, index=index, ttl=op.ttl)

    def _open_item(self, item: Item) -> Item:
        sealed = item.value.get(SEALED)
        if sealed is not None:
            kind, data = sealed
            item.value = self._serde.loads_typed((kind, base64.b64decode(data)))
        return item

    def _open_result(self, result: Result) -> Result:
        if isinstance(result, Item):
            return self._open_item(result)
        if isinstance(result, list) and result and isinstance(result[0], Item):
            return [self._open_item(item) for item in result]
        return result

    async def _filtered_search(self, op: SearchOp) -> list[SearchItem]:
        """Pages through the unfiltered search (without refreshing TTLs) until `offset +
        limit` items match; then refreshes the TTL of those returned only."""
        wanted = op.offset + op.limit
        wanted_filter = op.filter or {}
        found: list[SearchItem] = []
        offset = 0
        while len(found) < wanted:
            page_op = SearchOp(op.namespace_prefix, None, _PAGE, offset, op.query, False)
            [result] = await self._inner.abatch([page_op])
            page = cast(list[SearchItem], result)  # a SearchOp's result
            found += [i for i in page if matches(self._open_item(i).value, wanted_filter)]
            if len(page) < _PAGE:
                break
            offset += _PAGE
        found = found[op.offset : wanted]
        if op.refresh_ttl and found:
            await self._inner.abatch([GetOp(i.namespace, i.key, refresh_ttl=True) for i in found])
        return found
