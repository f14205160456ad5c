"""Client classes, importable as from `langgraph_sdk.client`."""

from graphport.sdk._async.assistants import AssistantsClient
from graphport.sdk._async.client import LangGraphClient, get_client
from graphport.sdk._async.crons import CronClient
from graphport.sdk._async.http import HttpClient
from graphport.sdk._async.runs import RunsClient
from graphport.sdk._async.store import StoreClient
from graphport.sdk._async.thread_stream import AsyncThreadStream
from graphport.sdk._async.threads import ThreadsClient
from graphport.sdk._shared.retry import Backoff, RetryPolicy
from graphport.sdk._shared.sentinel import NOT_PROVIDED
from graphport.sdk._sync.assistants import SyncAssistantsClient
from graphport.sdk._sync.client import SyncLangGraphClient, get_sync_client
from graphport.sdk._sync.crons import SyncCronClient
from graphport.sdk._sync.http import SyncHttpClient
from graphport.sdk._sync.runs import SyncRunsClient
from graphport.sdk._sync.store import SyncStoreClient
from graphport.sdk._sync.thread_stream import SyncThreadStream
from graphport.sdk._sync.threads import SyncThreadsClient
from graphport.sdk._transports import AsyncInProcessTransport, InProcessTransport, Lifespan

__all__ = [
    "NOT_PROVIDED",
    "AssistantsClient",
    "AsyncInProcessTransport",
    "AsyncThreadStream",
    "Backoff",
    "CronClient",
    "HttpClient",
    "InProcessTransport",
    "LangGraphClient",
    "Lifespan",
    "RetryPolicy",
    "RunsClient",
    "StoreClient",
    "SyncAssistantsClient",
    "SyncCronClient",
    "SyncHttpClient",
    "SyncLangGraphClient",
    "SyncRunsClient",
    "SyncStoreClient",
    "SyncThreadStream",
    "SyncThreadsClient",
    "ThreadsClient",
    "get_client",
    "get_sync_client",
]
