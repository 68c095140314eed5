"""The shapes of the MCP tools' results, published as output schemas.

A client's model reads these descriptions to know what it may cite and how to read
further, so they say what each field is for rather than how it is computed.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Passage(BaseModel):
    """Where a passage comes from: enough to cite it and to read around it."""

    reference: str = Field(description="Stable reference of the document; pass it to fetch_document to read it.")
    kind: str = Field(description="email, chat, file or note.")
    title: str = Field(description="Subject of an email, name of a chat, title of a file or note.")
    author: str | None = Field(None, description="Sender of an email or author of a file, when known.")
    time: str | None = Field(None, description="When it was sent or written (ISO 8601, UTC), when known.")
    locator: str = Field(
        "", description="Where inside the document: 'page N' of a PDF, the Message-ID of an email, a chat time range."
    )
    message_id: str | None = Field(None, description="The email's Message-ID (for emails and their attachments).")
    page: int | None = Field(None, description="Page number in a PDF or paged file.")
    time_range: str | None = Field(None, description="First and last message time of a chat passage.")
    source: str = Field(description="The file or folder on the user's machine the document was read from.")
    snippet: str = Field(description="The matching passage, query words in **bold**.")


class SearchHit(Passage):
    score: float = Field(description="Relevance (higher is better); only comparable within one search.")
    text: str | None = Field(None, description="The whole passage, when include_text was set.")


class SearchResponse(BaseModel):
    query: str = Field(description="The query as given.")
    searched: str = Field(description="What was searched once filter words were read off the query.")
    applied_filters: list[str] = Field(
        description="Filters read from the query's words (e.g. 'kind: email', 'person: Anna Keller')."
    )
    results: list[SearchHit] = Field(description="Best first.")


class LocatorAt(BaseModel):
    locator: str = Field(description="A page, Message-ID or chat time range inside the document.")
    offset: int = Field(description="Character offset where it starts; pass it as offset to fetch_document.")


class DocumentPage(BaseModel):
    reference: str = Field(description="The document's stable reference.")
    kind: str
    title: str
    author: str | None = None
    time: str | None = Field(None, description="ISO 8601, UTC.")
    participants: list[str] = Field(default_factory=list, description="Recipients of an email, members of a chat.")
    message_id: str | None = None
    source: str = Field(description="The file or folder the document was read from.")
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="What the reader found: headers, chat name, page count, …"
    )
    parent_reference: str | None = Field(None, description="For an attachment: the email it came with.")
    attachments: list[str] = Field(default_factory=list, description="References of the document's attachments.")
    text: str = Field(description="This part of the document's text.")
    offset: int = Field(description="Character offset of this part in the whole text.")
    next_offset: int | None = Field(
        description="Pass it as offset to read the next part; null when this part is the end."
    )
    total_chars: int = Field(description="Length of the whole text in characters.")
    locators: list[LocatorAt] = Field(
        default_factory=list, description="Pages, messages or chat time ranges that start in this part."
    )


class AnswerSource(Passage):
    n: int = Field(description="The number the answer cites as [n].")
    cited: bool = Field(description="Whether the answer cites it.")


class AnswerResponse(BaseModel):
    question: str
    answer: str = Field(description="Satchel's answer from the local model, citing sources as [n].")
    answered: bool = Field(description="False when the sources did not hold an answer and Satchel declined.")
    sources: list[AnswerSource] = Field(description="The sources given to the model, numbered as the answer cites.")
    applied_filters: list[str] = Field(default_factory=list, description="Filters read from the question's words.")
    model: str | None = Field(None, description="The local model that answered (null when it declined unasked).")


class SourceInfo(BaseModel):
    id: int = Field(description="Source id; search and ask take it in 'source'.")
    path: str
    connector: str | None = Field(None, description="The reader forced for it, when one was.")
    documents: int = Field(description="Documents this server may show from it.")
    last_sync: str | None = None


class SourcesResponse(BaseModel):
    sources: list[SourceInfo]
