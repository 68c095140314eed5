"""The MCP server: Satchel's tools on the official MCP Python SDK (`mcp`, MCPServer).

The SDK speaks the protocol (stdio, streamable HTTP), builds each tool's input
schema from the annotated signature below, validates arguments against it and turns
a failed call into a tool error the client's model can read. This module only says
what each tool is for, in words written for that model, and converts Satchel's
errors at the boundary, as the CLI does for its exit codes.

Not imported by the core, nor by the CLI until `satchel mcp` runs (the SDK pulls in
starlette, pydantic and uvicorn).
"""

import logging
import sys
import threading
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from assistant.errors import SatchelError
from assistant.mcp.schemas import AnswerResponse, DocumentPage, SearchResponse, SourcesResponse
from assistant.mcp.tools import DEFAULT_PAGE_CHARS, MAX_PAGE_CHARS, MAX_RESULTS, SatchelTools

log = logging.getLogger("satchel.mcp")
T = TypeVar("T")

INSTRUCTIONS = """\
Satchel holds the user's own email, chat messages, files and notes, indexed on their
machine. Use `search` to find passages (keyword and semantic search together), then
`fetch_document` with a result's reference to read the whole document. `ask` has
Satchel's local model answer from the passages it finds, with numbered citations.
When you use what these tools return, cite it: title, author, time and the locator
(PDF page, email Message-ID or chat time range). Everything here is the user's
private data: use it for the user's request only.
"""

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
# `ask` reads only (it does not save the turn), but the model may word an answer
# differently each time
ANSWERS = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=False, open_world_hint=False)
# Writes are all marked destructive: adding a source exposes more of the machine to
# this and every client, a sync deletes what left the disk, forget erases for good.
WRITES = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False)

Kind = Annotated[
    str | list[str] | None,
    Field(description="Only these kinds: 'email', 'chat', 'file' or 'note' (one, or a list)."),
]
Person = Annotated[
    str | list[str] | None,
    Field(
        description=(
            "Only what this person wrote or took part in (sender, recipient, chat member): "
            "a name or an email address (one, or a list)."
        )
    ),
]
After = Annotated[str | None, Field(description="Only from this date on: YYYY, YYYY-MM or YYYY-MM-DD.")]
Before = Annotated[str | None, Field(description="Only before this date: YYYY, YYYY-MM or YYYY-MM-DD.")]
Source = Annotated[
    str | list[str] | None,
    Field(description="Only these sources: a source id or path as list_sources gives them (one, or a list)."),
]
ReadFilters = Annotated[
    bool,
    Field(
        description=(
            "Read filters said in words ('emails from Anna last March') off the text and apply them "
            "(default). Set false to search the words as they are."
        )
    ),
]


def satchel_version() -> str:
    try:
        return version("satchel")
    except PackageNotFoundError:
        return "0"


def boundary(call: Callable[[], T]) -> T:
    """Satchel's errors become tool errors with their message, which says what to
    do; the SDK reports anything else as a failed call without the details."""
    try:
        return call()
    except SatchelError as exc:
        raise ToolError(str(exc)) from exc


def build_server(tools: SatchelTools) -> MCPServer:
    server: MCPServer = MCPServer(
        "satchel",
        title="Satchel",
        description="The user's email, chats and files, searched on their own machine.",
        instructions=INSTRUCTIONS,
        version=satchel_version(),
        log_level="WARNING",
    )

    def search(
        query: Annotated[
            str,
            Field(
                min_length=1,
                description=(
                    "What to look for, in plain words. Filters said in words are understood: "
                    "'emails from Anna about the budget last March'."
                ),
            ),
        ],
        kind: Kind = None,
        person: Person = None,
        after: After = None,
        before: Before = None,
        source: Source = None,
        k: Annotated[int, Field(ge=1, le=MAX_RESULTS, description="How many passages to return.")] = 10,
        read_filters: ReadFilters = True,
        include_text: Annotated[
            bool, Field(description="Also return each passage's whole text, not only its snippet.")
        ] = False,
    ) -> SearchResponse:
        return boundary(
            lambda: tools.search(
                query,
                kind=kind,
                person=person,
                after=after,
                before=before,
                source=source,
                k=k,
                read_filters=read_filters,
                include_text=include_text,
            )
        )

    server.add_tool(
        search,
        name="search",
        title="Search the user's email, chats and files",
        description=(
            "Search the user's own email, chat messages, files and notes, indexed on this machine "
            "(keyword and semantic search combined). Returns passages best first, each with title, "
            "author, time, a locator (PDF page, email Message-ID or chat time range), a snippet and a "
            "reference. Pass a reference to fetch_document to read the whole document. Filters can be "
            "given as arguments or said in the query; those read from the query are listed in "
            "applied_filters."
        ),
        annotations=READ_ONLY,
        structured_output=True,
    )

    def fetch_document(
        reference: Annotated[
            str,
            Field(
                min_length=1,
                description="A search result's reference (like 'doc:123'), or an email's Message-ID.",
            ),
        ],
        offset: Annotated[
            int, Field(ge=0, description="Character offset to read from: the next_offset of the previous part.")
        ] = 0,
        max_chars: Annotated[
            int,
            Field(ge=200, le=MAX_PAGE_CHARS, description="The most characters to return in this part."),
        ] = DEFAULT_PAGE_CHARS,
        locator: Annotated[
            str | None,
            Field(
                description=(
                    "Start where this place begins instead of at offset: 'page 3' of a PDF, or a search "
                    "result's locator (a Message-ID, a chat time range)."
                )
            ),
        ] = None,
    ) -> DocumentPage:
        return boundary(lambda: tools.fetch_document(reference, offset=offset, max_chars=max_chars, locator=locator))

    server.add_tool(
        fetch_document,
        name="fetch_document",
        title="Read a document",
        description=(
            "Read a document that search found: an email with its headers, a month of a chat, a file "
            "or a note, with its metadata. Long documents come in parts: call again with offset set to "
            "next_offset until next_offset is null. 'locators' tell where pages, messages or chat "
            "time ranges start in the part, for citing."
        ),
        annotations=READ_ONLY,
        structured_output=True,
    )

    def ask(
        question: Annotated[str, Field(min_length=1, description="The question, in plain words.")],
        kind: Kind = None,
        person: Person = None,
        after: After = None,
        before: Before = None,
        source: Source = None,
        read_filters: ReadFilters = True,
    ) -> AnswerResponse:
        return boundary(
            lambda: tools.ask(
                question,
                kind=kind,
                person=person,
                after=after,
                before=before,
                source=source,
                read_filters=read_filters,
            )
        )

    server.add_tool(
        ask,
        name="ask",
        title="Ask Satchel's local model",
        description=(
            "Have Satchel answer a question about the user's data with its own local language model: "
            "it retrieves passages and answers from them only, citing them as [n]; 'sources' lists "
            "them with their locators and references. Takes seconds, more than search. When the "
            "passages do not hold the answer it declines (answered: false). Use search instead when "
            "you want to read the passages yourself."
        ),
        annotations=ANSWERS,
        structured_output=True,
    )

    def list_sources() -> SourcesResponse:
        return boundary(tools.list_sources)

    server.add_tool(
        list_sources,
        name="list_sources",
        title="List the sources",
        description=(
            "The files and folders this server reads (the user's mail exports, chat exports, document "
            "folders), with their ids and how many documents each holds."
        ),
        annotations=READ_ONLY,
        structured_output=True,
    )

    def status() -> dict[str, Any]:
        return boundary(tools.status)

    server.add_tool(
        status,
        name="status",
        title="Index status",
        description=(
            "How much is indexed (documents, chunks, sources, read errors), which embedding and answer "
            "models serve, whether this server may change the store and whether its view is restricted."
        ),
        annotations=READ_ONLY,
        structured_output=True,
    )

    if tools.allow_writes:
        _add_write_tools(server, tools)
    return server


def _add_write_tools(server: MCPServer, tools: SatchelTools) -> None:
    def add_source(
        path: Annotated[str, Field(min_length=1, description="A file or folder on this machine.")],
        kind: Annotated[
            str | None,
            Field(description="Force a reader (a connector name such as 'mbox' or 'whatsapp'); usually left out."),
        ] = None,
        index: Annotated[bool, Field(description="Index it now (default); false only registers it.")] = True,
    ) -> dict[str, Any]:
        return boundary(lambda: tools.add_source(path, kind=kind, index=index))

    server.add_tool(
        add_source,
        name="add_source",
        title="Add a source",
        description=(
            "Register a file or folder on this machine as a source and index it. Its content becomes "
            "searchable through Satchel by this and every other client: add only what the user asked for."
        ),
        annotations=WRITES,
    )

    def sync(
        source: Annotated[str | None, Field(description="One source id or path; all sources when left out.")] = None,
    ) -> dict[str, Any]:
        return boundary(lambda: tools.sync(source))

    server.add_tool(
        sync,
        name="sync",
        title="Sync the sources",
        description=(
            "Read the sources again and index what changed; documents deleted from disk leave the "
            "index. Can take minutes on large sources."
        ),
        annotations=WRITES,
    )

    def forget(
        document: Annotated[
            str | None, Field(description="A document's reference (like 'doc:123') or an email's Message-ID.")
        ] = None,
        source: Annotated[str | None, Field(description="A source id or path: the source and all from it.")] = None,
        person: Annotated[
            str | None, Field(description="A name or address: everything the person wrote or took part in.")
        ] = None,
        dry_run: Annotated[
            bool,
            Field(description="Only count what would be erased (default). Set false to erase, for good."),
        ] = True,
    ) -> dict[str, Any]:
        return boundary(lambda: tools.forget(document=document, source=source, person=person, dry_run=dry_run))

    server.add_tool(
        forget,
        name="forget",
        title="Erase from the store",
        description=(
            "Erase one document, one source, or everything from or with a person: rows, full-text "
            "entries, vectors and stored answers that quoted them, with no copy left in the files. "
            "Give exactly one of document, source or person. By default it only counts (dry_run); "
            "erasing cannot be undone, so do it only when the user asked for it."
        ),
        annotations=WRITES,
    )


def warm_up_in_background(tools: SatchelTools) -> threading.Thread:
    """Load the embedder and the index while the client connects, so that the
    initialize handshake is answered at once and the first search finds them warm."""

    def work() -> None:
        try:
            tools.warm_up()
        except SatchelError as exc:  # each call reports it again, as a tool error
            log.warning("warm-up: %s", exc)
        except Exception:
            log.exception("warm-up failed")

    thread = threading.Thread(target=work, name="satchel-mcp-warm-up", daemon=True)
    thread.start()
    return thread


def configure_logging(verbose: bool = False) -> None:
    """Diagnostics on stderr, which MCP clients keep as the server's log; stdout is
    the protocol's. Set before the SDK's own set-up, which then leaves it alone."""
    from assistant.ops.logs import quiet_third_party

    def shown(record: logging.LogRecord) -> bool:
        # with --verbose, the SDK's INFO records too: they name each failed call
        return quiet_third_party(record) or (verbose and record.name.startswith("mcp."))

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s", datefmt="%H:%M:%S"))
    handler.addFilter(shown)
    # the `satchel` loggers also write INFO to the log file (ops.setup_file_logging)
    handler.setLevel(logging.INFO if verbose else logging.WARNING)
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler], force=True)
