"""Shared access to chat models for every stage that calls an LLM (annotator, judge, simulator).

One place decides how a model id becomes a langchain chat model, how structured answers are
requested and checked, which failures are retried, what is cached on disk and what a run cost:

- `init_model("openai:gpt-4.1-mini")` → a chat model at temperature 0 (any `init_chat_model` id);
  `register_chat_model("myco", factory)` makes `myco:NAME` resolve to your own model (this is also
  how tests inject a fake model through the CLI).
- `StructuredCaller(model, Schema, ...)` → `.call(messages, cache_input=text)` gives a validated
  `Schema` instance or an error string, never raises for one bad answer. Rate limits, timeouts
  and malformed answers are retried with exponential backoff; refusals are not (they repeat at
  temperature 0). Authentication and unknown-model errors raise `ModelError` and stop the run,
  and so does a provider that fails `max_consecutive_failures` attempts in a row with no good
  answer between (a dead, hung or broken endpoint stops in seconds, not hours of retries).
  A `Retry-After` header sets the wait before the next attempt.
- `LLMCache`: validated answers keyed by (model id, endpoint and parameters, prompt version,
  input hash) in one SQLite file, so a re-run costs nothing and another endpoint asks again.
- `Usage` / `estimate_cost` → token counts and an estimated price from a small table.
- `map_concurrently(fn, items, concurrency=N)` → bounded parallel calls, results in input order.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from evaluator.errors import ModelError
from evaluator.registry import Registry
from evaluator.types import TokenUsage

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = [
    "init_model",
    "CHAT_MODELS",
    "register_chat_model",
    "unregister_chat_model",
    "model_id_of",
    "model_fingerprint",
    "LLMCache",
    "open_cache",
    "cache_key",
    "Usage",
    "estimate_cost",
    "PRICES_PER_MILLION",
    "StructuredCaller",
    "CallOutcome",
    "MalformedOutputError",
    "is_transient",
    "is_fatal",
    "map_concurrently",
]

S = TypeVar("S", bound=BaseModel)
T = TypeVar("T")
R = TypeVar("R")

ModelFactory = Callable[..., "BaseChatModel"]

#: Chat-model factories `factory(NAME, temperature=..., timeout=...)`, by PROVIDER of the id.
CHAT_MODELS: Registry[ModelFactory] = Registry("chat model provider", field="model")

# Providers whose langchain classes take `timeout` and `max_retries`; our own retry loop is the
# one that counts, so the client's is switched off.
_CLIENT_RETRY_PROVIDERS = {
    "openai",
    "azure_openai",
    "anthropic",
    "google_genai",
    "groq",
    "mistralai",
    "deepseek",
    "xai",
    "fireworks",
    "together",
}


def register_chat_model(provider: str, factory: ModelFactory) -> None:
    """Make `PROVIDER:NAME` ids resolve to `factory(NAME, temperature=..., timeout=...)`.

    Registered providers win over langchain's, so a team can route `--annotator myco:bot` or
    `--judge myco:bot` to an in-house client, and tests can route `fake:...` to a fake model.
    """
    CHAT_MODELS.register(provider, factory)


unregister_chat_model = CHAT_MODELS.unregister


def model_id_of(model: str | BaseChatModel) -> str:
    """A stable id for results and cache keys, also for a pre-built model object."""
    if isinstance(model, str):
        return model
    name = getattr(model, "model_name", None) or getattr(model, "model", None)
    return f"{type(model).__name__}:{name}" if isinstance(name, str) else type(model).__name__


#: Chat-model attributes that change an answer: where it is asked and how it samples.
_FINGERPRINT_FIELDS = (
    "openai_api_base",
    "base_url",
    "anthropic_api_url",
    "azure_endpoint",
    "deployment_name",
    "openai_api_version",
    "endpoint",
    "model_name",
    "model",
    "temperature",
    "top_p",
    "top_k",
    "max_tokens",
    "seed",
    "reasoning_effort",
)


def model_fingerprint(model: Any) -> dict[str, Any]:
    """The endpoint and sampling parameters of a chat model, for cache keys: a cached answer
    from one base URL or temperature must not stand in for another's."""
    found: dict[str, Any] = {"class": type(model).__name__}
    for name in _FINGERPRINT_FIELDS:
        value = getattr(model, name, None)
        if isinstance(value, str | int | float | bool):
            found[name] = value
    for name in ("root_client", "client", "_client"):  # where a client read OPENAI_BASE_URL...
        url = getattr(getattr(model, name, None), "base_url", None)
        if url is not None:
            found.setdefault("client_base_url", str(url))
    return found


def init_model(
    model: str | BaseChatModel, *, temperature: float = 0.0, timeout: float = 60.0
) -> BaseChatModel:
    """A chat model for `PROVIDER:MODEL` (e.g. `openai:gpt-4.1-mini`, `ollama:llama3.1`).

    A pre-built langchain chat model is returned unchanged. Problems a user can fix (missing
    provider package, missing API key, malformed id) raise `ModelError`.
    """
    if not isinstance(model, str):
        return model
    provider, _, name = model.partition(":")
    if not provider or not name:
        raise ModelError(
            f"model id {model!r} must look like PROVIDER:MODEL, e.g. openai:gpt-4.1-mini",
            field="model",
        )
    factory = CHAT_MODELS.find(provider)
    if factory is not None:
        return factory(name, temperature=temperature, timeout=timeout)
    kwargs: dict[str, Any] = {"temperature": temperature}
    if provider in _CLIENT_RETRY_PROVIDERS:
        kwargs.update(timeout=timeout, max_retries=0)
    elif provider == "ollama":
        kwargs["client_kwargs"] = {"timeout": timeout}
    try:
        from langchain.chat_models import init_chat_model

        return init_chat_model(model, **kwargs)
    except ImportError as exc:
        package = "langchain-" + provider.replace("_", "-")
        raise ModelError(
            f"provider {provider!r} needs its langchain package: pip install {package}",
            field="model",
        ) from exc
    except Exception as exc:  # missing API key, unsupported provider, bad settings
        raise ModelError(f"cannot initialise {model}: {exc}", field="model") from None


# --- cache -------------------------------------------------------------------------------------


def cache_key(*parts: str) -> str:
    """A digest of the parts; callers pass (model id, fingerprint, prompt version, input)."""
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


class LLMCache:
    """Validated model answers on disk (one SQLite file), safe across threads and processes.

    Only answers that passed validation are stored, so a failure is retried on the next run.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            # A lost cache entry after a power cut costs one model call; fsync per answer
            # would cost more than the whole pipeline.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            self._db.commit()
        except sqlite3.DatabaseError as exc:
            raise ModelError(f"cannot open the model cache: {exc}", file=self.path) from None

    def get(self, key: str) -> Any | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM answers WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: Any) -> None:
        text = json.dumps(value, ensure_ascii=False)
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?)", (key, text))
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def open_cache(cache_dir: str | Path | None) -> LLMCache | None:
    """The answer cache shared by every LLM stage (`settings.cache_dir`); None disables it."""
    if cache_dir is None:
        return None
    return LLMCache(Path(cache_dir) / "llm_answers.sqlite")


# --- usage and cost ----------------------------------------------------------------------------

#: USD per million (input, output) tokens, list prices as of 2025. Longest prefix wins, so
#: dated snapshots (gpt-4o-mini-2024-07-18) price like their family. Local providers are free.
PRICES_PER_MILLION: dict[str, tuple[float, float]] = {
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "o3": (2.00, 8.00),
    "o4-mini": (1.10, 4.40),
    "claude-opus-4": (15.00, 75.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-3-7-sonnet": (3.00, 15.00),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-haiku-4-5": (1.00, 5.00),
    "gemini-2.5-pro": (1.25, 10.00),
    "gemini-2.5-flash": (0.30, 2.50),
    "gemini-2.0-flash": (0.10, 0.40),
}
_FREE_PROVIDERS = {"ollama", "huggingface"}


def estimate_cost(model_id: str, input_tokens: int, output_tokens: int) -> float | None:
    """Estimated USD for the tokens, or None when the model is not in the price table."""
    provider, _, name = model_id.partition(":")
    if provider in _FREE_PROVIDERS:
        return 0.0
    name = (name or provider).lower()
    matches = [key for key in PRICES_PER_MILLION if name == key or name.startswith(key + "-")]
    if not matches:
        return None
    price_in, price_out = PRICES_PER_MILLION[max(matches, key=len)]
    return (input_tokens * price_in + output_tokens * price_out) / 1_000_000


@dataclass
class Usage:
    """Thread-safe counters of model calls and tokens for one run."""

    model: str | None = None
    calls: int = 0
    cached: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record_call(self, message: Any) -> None:
        """Count one model call and the tokens its AIMessage reports (if any)."""
        usage = getattr(message, "usage_metadata", None) or {}
        with self._lock:
            self.calls += 1
            self.input_tokens += int(usage.get("input_tokens", 0) or 0)
            self.output_tokens += int(usage.get("output_tokens", 0) or 0)

    def record_cached(self) -> None:
        with self._lock:
            self.cached += 1

    def record_failed(self) -> None:
        with self._lock:
            self.failed += 1

    def report(self) -> TokenUsage:
        cost = (
            estimate_cost(self.model, self.input_tokens, self.output_tokens) if self.model else None
        )
        return TokenUsage(
            model=self.model,
            calls=self.calls,
            cached=self.cached,
            failed=self.failed,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            estimated_cost_usd=cost,
        )


# --- error classification ----------------------------------------------------------------------

_TRANSIENT_STATUS = {408, 409, 425, 429, 500, 502, 503, 504, 529}
_FATAL_STATUS = {401, 403, 404}
_TRANSIENT_NAMES = (
    "RateLimit",
    "Timeout",
    "APIConnectionError",
    "Overloaded",
    "ServiceUnavailable",
)
_FATAL_NAMES = ("AuthenticationError", "PermissionDenied", "NotFoundError")


def _status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def _class_names(exc: BaseException) -> list[str]:
    return [cls.__name__ for cls in type(exc).__mro__]


def is_transient(exc: BaseException) -> bool:
    """Rate limits, timeouts, overloaded or unreachable servers: worth waiting and retrying."""
    if isinstance(exc, MalformedOutputError | TimeoutError | ConnectionError):
        return True
    if _status_of(exc) in _TRANSIENT_STATUS:
        return True
    return any(marker in name for name in _class_names(exc) for marker in _TRANSIENT_NAMES)


def is_fatal(exc: BaseException) -> bool:
    """Errors that will fail for every input (bad key, no access, unknown model): stop the run."""
    if _status_of(exc) in _FATAL_STATUS:
        return True
    return any(marker in name for name in _class_names(exc) for marker in _FATAL_NAMES)


class MalformedOutputError(Exception):
    """The model answered, but not with a valid instance of the schema."""


class _Refusal(Exception):
    """The model answered in plain text instead of calling the schema's tool."""


# --- structured calls --------------------------------------------------------------------------


@dataclass(frozen=True)
class CallOutcome(Generic[S]):
    """A validated answer, or why there is none. `attempts` is 0 for a cache hit."""

    value: S | None
    error: str | None = None
    cached: bool = False
    attempts: int = 0


class StructuredCaller(Generic[S]):
    """Ask a chat model for an instance of `schema` with retries, caching and usage accounting.

    The schema goes through `with_structured_output(..., method="function_calling")`, the one
    method every tool-calling provider (OpenAI, Anthropic, Google, Ollama) supports the same way.
    """

    def __init__(
        self,
        model: str | BaseChatModel,
        schema: type[S],
        *,
        prompt_version: str,
        cache: LLMCache | None = None,
        max_retries: int = 4,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        timeout: float = 60.0,
        temperature: float = 0.0,
        max_consecutive_failures: int = 4,
    ) -> None:
        self.model_id = model_id_of(model)
        self.schema = schema
        self.prompt_version = prompt_version
        self.cache = cache
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.usage = Usage(model=self.model_id)
        self.breaker = _Breaker(self.model_id, max_consecutive_failures, timeout)
        chat_model = init_model(model, temperature=temperature, timeout=timeout)
        self.fingerprint = json.dumps(model_fingerprint(chat_model), sort_keys=True)
        try:
            self._runnable = chat_model.with_structured_output(
                schema, include_raw=True, method="function_calling"
            )
        except NotImplementedError:
            raise ModelError(
                f"{self.model_id} does not support tool calling, needed for structured output",
                field="model",
            ) from None

    def key(self, cache_input: str) -> str:
        digest = hashlib.sha256(cache_input.encode("utf-8")).hexdigest()
        return cache_key(self.model_id, self.fingerprint, self.prompt_version, digest)

    def call(self, messages: Sequence[Any], *, cache_input: str) -> CallOutcome[S]:
        """One validated answer for `messages`; `cache_input` is what the answer depends on
        besides the prompt version (the post text, a transcript...)."""
        from tenacity import (
            RetryError,
            Retrying,
            retry_if_exception,
            stop_after_attempt,
            wait_exponential_jitter,
            wait_none,
        )

        key = self.key(cache_input)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                try:
                    value = self.schema.model_validate(hit)
                except ValidationError:
                    value = None  # the schema changed since; ask again
                if value is not None:
                    self.usage.record_cached()
                    return CallOutcome(value=value, cached=True)

        backoff = (
            wait_exponential_jitter(initial=self.backoff, max=self.max_backoff)
            if self.backoff > 0
            else wait_none()
        )

        def wait(state) -> float:
            asked = _retry_after(state.outcome.exception())
            return min(asked, self.max_backoff) if asked is not None else backoff(state)

        retrying = Retrying(
            stop=stop_after_attempt(self.max_retries + 1),
            wait=wait,
            retry=retry_if_exception(is_transient),
            reraise=False,
        )
        attempts = 0
        try:
            for attempt in retrying:
                with attempt:
                    attempts += 1
                    self.breaker.check()
                    try:
                        value = self._attempt(messages)
                    except Exception as exc:
                        self.breaker.failed(exc)
                        raise
                    self.breaker.succeeded()
        except ModelError:
            raise
        except RetryError as exc:
            self.usage.record_failed()
            last = exc.last_attempt.exception()
            return CallOutcome(
                value=None,
                error=f"{_describe(last)} (after {attempts} attempts)",
                attempts=attempts,
            )
        except _Refusal as exc:
            self.usage.record_failed()
            return CallOutcome(value=None, error=f"model refused: {exc}", attempts=attempts)
        except Exception as exc:
            if is_fatal(exc):
                raise ModelError(f"{self.model_id}: {_describe(exc)}", field="model") from exc
            self.usage.record_failed()
            return CallOutcome(value=None, error=_describe(exc), attempts=attempts)
        if self.cache is not None:
            self.cache.put(key, value.model_dump(mode="json"))
        return CallOutcome(value=value, attempts=attempts)

    def _attempt(self, messages: Sequence[Any]) -> S:
        result = self._runnable.invoke(list(messages))
        raw = result.get("raw")
        self.usage.record_call(raw)
        parsed = result.get("parsed")
        if parsed is not None:
            return parsed
        error = result.get("parsing_error")
        if error is not None:
            raise MalformedOutputError(f"answer does not fit the schema: {_first_line(error)}")
        if getattr(raw, "invalid_tool_calls", None):
            detail = raw.invalid_tool_calls[0].get("error") or "invalid JSON"
            raise MalformedOutputError(f"malformed tool call: {_first_line(detail)}")
        refusal = getattr(raw, "additional_kwargs", {}).get("refusal") or getattr(raw, "text", "")
        if callable(refusal):  # older langchain-core: `text` is a method
            refusal = refusal()
        raise _Refusal(_first_line(refusal or "empty answer without a tool call")[:200])


def _retry_after(exc: BaseException | None) -> float | None:
    """Seconds a provider asked us to wait (`Retry-After: 12`), if it said."""
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if not headers:
        return None
    try:
        value = float(headers.get("retry-after") or headers.get("Retry-After") or "")
    except (TypeError, ValueError):
        return None
    return value if value >= 0 else None


def _is_rate_limit(exc: BaseException) -> bool:
    return _status_of(exc) == 429 or any("RateLimit" in name for name in _class_names(exc))


class _Breaker:
    """Counts failed attempts in a row across all threads; a success resets it. Rate limits
    and refusals do not count. Once tripped it stays tripped: every attempt then raises the
    same `ModelError` at once, so calls already queued stop too."""

    def __init__(self, model_id: str, limit: int, timeout: float) -> None:
        self.model_id, self.limit, self.timeout = model_id, limit, timeout
        self.in_a_row = 0
        self.tripped: ModelError | None = None
        self._lock = threading.Lock()

    def check(self) -> None:
        if self.tripped is not None:
            raise self.tripped

    def failed(self, exc: BaseException) -> None:
        if self.limit <= 0 or _is_rate_limit(exc) or isinstance(exc, _Refusal):
            return
        with self._lock:
            self.in_a_row += 1
            if self.tripped is None and self.in_a_row >= self.limit:
                self.tripped = ModelError(
                    f"{self.model_id} failed {self.in_a_row} attempts in a row, last: "
                    f"{_describe(exc)}; stopping instead of retrying (check the endpoint and "
                    f"key, or raise --timeout, now {self.timeout:g} s)",
                    field="model",
                )
        self.check()

    def succeeded(self) -> None:
        with self._lock:
            self.in_a_row = 0


def _first_line(value: Any) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else ""


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    message = _first_line(exc)[:300]
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


# --- concurrency -------------------------------------------------------------------------------


def map_concurrently(fn: Callable[[T], R], items: Sequence[T], *, concurrency: int = 4) -> list[R]:
    """`[fn(x) for x in items]` with at most `concurrency` calls in flight, in input order.

    On an exception (or Ctrl-C) calls not yet started are cancelled and running ones finish,
    so no thread keeps writing after the caller has moved on.
    """
    if concurrency <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    pool = ThreadPoolExecutor(max_workers=min(concurrency, len(items)))
    try:
        futures = [pool.submit(fn, item) for item in items]
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
