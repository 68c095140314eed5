"""Source code and hand-written configuration as text, in line-range sections.

Code keeps its indentation (only line ends are unified and trailing spaces dropped);
sections are cut at blank lines near every ``LINES_PER_SECTION`` lines and located
as "lines 41-87", which is what a reader looks up in an editor.

``.json`` is not claimed: the chat connectors look inside JSON files for exports,
and any other JSON is mostly machine-made data that would flood the index. YAML and
TOML are in: people write them by hand.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from pathlib import Path

from connectors.base import Connector, Document, ItemError, Section
from connectors.files.textutil import NotTextError, decode_bytes, file_mtime
from connectors.kinds import KIND_FILE

# A source file larger than this is generated (a bundle, a dump), not written.
MAX_CODE_BYTES = 1024 * 1024
LINES_PER_SECTION = 60

LANGUAGES: dict[str, str] = {
    ".py": "Python", ".pyi": "Python", ".pyw": "Python",
    ".js": "JavaScript", ".mjs": "JavaScript", ".cjs": "JavaScript", ".jsx": "JavaScript",
    ".ts": "TypeScript", ".tsx": "TypeScript", ".mts": "TypeScript", ".cts": "TypeScript",
    ".go": "Go", ".rs": "Rust", ".java": "Java", ".kt": "Kotlin", ".kts": "Kotlin",
    ".scala": "Scala", ".groovy": "Groovy", ".gradle": "Groovy",
    ".c": "C", ".h": "C", ".cpp": "C++", ".cc": "C++", ".cxx": "C++", ".hpp": "C++",
    ".hh": "C++", ".hxx": "C++", ".cs": "C#", ".fs": "F#", ".swift": "Swift",
    ".m": "Objective-C", ".mm": "Objective-C", ".rb": "Ruby", ".php": "PHP",
    ".pl": "Perl", ".pm": "Perl", ".lua": "Lua", ".r": "R", ".jl": "Julia",
    ".dart": "Dart", ".ex": "Elixir", ".exs": "Elixir", ".erl": "Erlang",
    ".hs": "Haskell", ".ml": "OCaml", ".clj": "Clojure", ".cljs": "Clojure",
    ".el": "Emacs Lisp", ".lisp": "Lisp", ".scm": "Scheme", ".zig": "Zig", ".nim": "Nim",
    ".sh": "Shell", ".bash": "Shell", ".zsh": "Shell", ".fish": "Shell", ".ps1": "PowerShell",
    ".bat": "Batch", ".cmd": "Batch", ".sql": "SQL", ".vim": "Vim script",
    ".css": "CSS", ".scss": "SCSS", ".sass": "Sass", ".less": "Less",
    ".vue": "Vue", ".svelte": "Svelte", ".tf": "Terraform", ".proto": "Protocol Buffers",
    ".graphql": "GraphQL", ".tex": "LaTeX", ".bib": "BibTeX",
    ".yaml": "YAML", ".yml": "YAML", ".toml": "TOML", ".ini": "INI", ".cfg": "INI",
    ".properties": "Properties",
}  # fmt: skip
FILE_NAMES: dict[str, str] = {
    "makefile": "Makefile",
    "dockerfile": "Dockerfile",
    "containerfile": "Dockerfile",
    "cmakelists.txt": "CMake",
    "justfile": "Just",
    "vagrantfile": "Ruby",
    "gemfile": "Ruby",
    "rakefile": "Ruby",
}
# Suffixes that other, binary formats share (".ts" is also an MPEG transport stream):
# for these, claims() looks at the first bytes.
_AMBIGUOUS = (".ts",)
# Minified and generated files are not anybody's code to read.
_GENERATED = ("*.min.js", "*.min.css", "*.bundle.js", "*.map", "*_pb2.py", "*.pb.go")


def code_sections(text: str, lines_per_section: int = LINES_PER_SECTION) -> list[Section]:
    """Sections of about ``lines_per_section`` lines, cut at a blank line when one
    is near (so a function is rarely split), located as "lines A-B" (1-based)."""
    lines = text.split("\n")
    sections: list[Section] = []
    start = 0
    while start < len(lines):
        end = min(start + lines_per_section, len(lines))
        if end < len(lines):
            # look back up to a third of a section for a blank line to cut at
            for cut in range(end, end - lines_per_section // 3, -1):
                if not lines[cut - 1].strip():
                    end = cut
                    break
        chunk = "\n".join(lines[start:end]).strip("\n")
        if chunk.strip():
            first = start + 1
            while not lines[first - 1].strip():
                first += 1
            last = end
            while not lines[last - 1].strip():
                last -= 1
            locator = f"line {first}" if first == last else f"lines {first}-{last}"
            sections.append(Section(text=chunk, locator=locator))
        start = end
    return sections


class CodeConnector(Connector):
    """Source code and configuration files, as text."""

    name = "code"
    kind = KIND_FILE
    patterns = tuple(f"*{suffix}" for suffix in LANGUAGES) + tuple(FILE_NAMES)
    description = "Source code and config files (YAML, TOML, INI) as text, line ranges"

    def claims(self, path: Path) -> bool:
        name = path.name.lower()
        if any(fnmatch.fnmatch(name, pattern) for pattern in _GENERATED):
            return False
        if not super().claims(path):
            return False
        if path.suffix.lower() in _AMBIGUOUS:
            try:
                with path.open("rb") as handle:
                    head = handle.read(512)
            except OSError:
                return False
            mpeg_ts = len(head) > 188 and head[0] == head[188] == 0x47
            return b"\x00" not in head and not mpeg_ts
        return True

    def iter_documents(self, path: Path) -> Iterator[Document | ItemError]:
        size = path.stat().st_size
        if size > MAX_CODE_BYTES:
            yield ItemError(
                path=str(path),
                reason=f"source file of {size:,} bytes: probably generated, not indexed",
            )
            return
        try:
            raw = decode_bytes(path.read_bytes())
        except NotTextError:
            yield ItemError(path=str(path), reason="binary content, not source code")
            return
        lines = raw.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
        text = "\n".join(line.rstrip() for line in lines).strip("\n")
        if not text.strip():
            return  # an empty __init__.py has nothing to index
        language = FILE_NAMES.get(path.name.lower()) or LANGUAGES.get(path.suffix.lower(), "")
        yield Document(
            key=path.name,
            kind=self.kind,
            title=path.name,
            text=text,
            timestamp=file_mtime(path),
            metadata={"format": "code", "language": language, "lines": text.count("\n") + 1},
            sections=code_sections(text),
        )
