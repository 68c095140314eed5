"""People named in a question ("mails from Anna", "my chat with Marco and me"), matched
against the people the store knows."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from assistant.language.stop_words import STOP_WORDS
from assistant.retrieval.filter_dates import MONTHS
from assistant.retrieval.filter_kinds import CONFIRM_KIND, KIND_WORD
from assistant.retrieval.filter_words import ADDRESS, FLAGS, TOKEN, Spans, any_of_words, next_word, skip_space

# --------------------------------------------------------------------------- persons

# single-word names that are also common words: matched only when written capitalised
_COMMON = (
    frozenset(
        (
            "may will mark bill grace hope joy rose summer april june august art guy page case sky dawn faith chase "
            "hunter max ray frank jack sue pat rob don drew gene penny ruby amber iris lily ivy jean jade angel sunny "
            "storm ash river rich victor major king young long white black brown green gray grey little love mom dad "
            "mum me you unknown signal slack note email file chat group"
        ).split()
    )
    | STOP_WORDS
    | frozenset(MONTHS)
)


@dataclass(frozen=True)
class _Person:
    display: str
    value: str


@dataclass(frozen=True)
class _Directory:
    people: tuple[_Person, ...]
    keys: dict[tuple[str, ...], tuple[int, ...]]  # name tokens -> people
    addresses: dict[str, int]
    longest: int


_ANGLE = re.compile(r"^(?P<name>.*?)\s*<\s*(?P<addr>[^<>\s]+@[^<>\s]+?)\s*>\s*$")
_NAME_TOKEN = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def _norm_token(token: str) -> str:
    return token.lower().replace("’", "'")


def _split_known(raw: str) -> tuple[str | None, str | None]:
    raw = " ".join(raw.split())
    m = _ANGLE.match(raw)
    name, addr = (m["name"], m["addr"]) if m else (raw, None)
    if addr is None and "@" in raw and " " not in raw:
        name, addr = None, raw
    if name is not None:
        name = name.strip(" \"'")
        if not name or "@" in name:
            name = None
    return name, (addr.lower() if addr else None)


def _name_tokens(name: str) -> list[str]:
    parts = name.split(",")
    if len(parts) == 2:  # "Keller, Anna"
        parts = [parts[1], parts[0]]
    return [_norm_token(t) for part in parts for t in _NAME_TOKEN.findall(part)]


@lru_cache(maxsize=8)
def person_directory(known: tuple[str, ...]) -> _Directory:
    """People grouped by shared names and addresses (one person may appear as
    "Anna Keller <anna@x>", "Anna Keller" and "anna@x")."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    entries: list[tuple[str | None, str | None]] = []
    for raw in (part for value in known for part in value.split(";")):
        name, addr = _split_known(raw)
        if not name and not addr:
            continue
        entries.append((name, addr))
        nodes = [f"n:{name.lower()}" if name else "", f"a:{addr}" if addr else ""]
        nodes = [n for n in nodes if n]
        for node in nodes[1:]:
            parent[find(node)] = find(nodes[0])
        find(nodes[0])

    names: dict[str, Counter[str]] = {}
    displays: dict[str, str] = {}
    addrs: dict[str, list[str]] = {}
    order: list[str] = []
    for name, addr in entries:
        root = find(f"n:{name.lower()}" if name else f"a:{addr}")
        if root not in names:
            names[root], addrs[root] = Counter(), []
            order.append(root)
        if name:
            names[root][name.lower()] += 1
            displays.setdefault(name.lower(), name)
        if addr and addr not in addrs[root]:
            addrs[root].append(addr)

    people: list[_Person] = []
    keys: dict[tuple[str, ...], list[int]] = {}
    addresses: dict[str, int] = {}
    for root in order:
        index = len(people)
        if names[root]:
            best = names[root].most_common(1)[0][0]
            people.append(_Person(display=displays[best], value=best))
            token_lists = [_name_tokens(displays[n]) for n in names[root]]
        else:
            people.append(_Person(display=addrs[root][0], value=addrs[root][0]))
            token_lists = []
        for addr in addrs[root]:
            addresses[addr] = index
            local = re.split(r"[._-]+", addr.split("@")[0])
            if not names[root] and len(local) >= 2 and all(p.isalpha() and len(p) > 1 for p in local):
                token_lists.append([p.lower() for p in local])  # anna.keller@ -> Anna Keller
        for tokens in token_lists:
            if not tokens:
                continue
            variants = {tuple(tokens)}
            if len(tokens) >= 2:
                variants |= {(tokens[0],), (tokens[-1],), (tokens[0], tokens[-1])}
            for key in variants:
                if len(key) == 1 and len(key[0]) < 2:
                    continue
                if index not in keys.setdefault(key, []):
                    keys[key].append(index)
    return _Directory(
        people=tuple(people),
        keys={k: tuple(v) for k, v in keys.items()},
        addresses=addresses,
        longest=max((len(k) for k in keys), default=0),
    )


_COMM_WITH = any_of_words(
    "chat chats chatted chatting conversation conversations thread threads message messages messaged messaging "
    "email emails emailed e-mail e-mails texts texted texting talk talks talked talking spoke speak speaking "
    "discuss discussed discussing discussion discussions agree agreed decide decided plan planned planning "
    "argue argued argument correspondence exchange exchanged call calls called dm dms whatsapp telegram signal "
    "slack discord messenger"
)
_COMM_TO = any_of_words(
    "send sends sent write writes wrote written email emailed emails e-mail e-mailed message messaged messages "
    "text texted reply replied replies forward forwarded say said mention mentioned talk talked spoke speak "
    "explain explained respond responded answer answered letter letters note notes complain complained "
    "promise promised mail mails"
)
_SUBJECT_VERBS = any_of_words(
    "say says said saying write writes wrote written writing send sends sent sending mention mentions "
    "mentioned mentioning tell tells told telling ask asks asked asking suggest suggests suggested recommend "
    "recommends recommended reply replies replied answer answers answered share shares shared post posts posted "
    "propose proposes proposed promise promises promised explain explains explained email emails emailed "
    "e-mail e-mailed message messages messaged text texts texted forward forwards forwarded complain complains "
    "complained talk talks talked talking discuss discusses discussed discussing think thinks thought respond "
    "responds responded report reports "
    "reported announce announced confirm confirms confirmed agree agreed decide decided want wants wanted"
)
_COMM_NOUNS = any_of_words(
    "message messages email emails e-mail e-mails mail mails text texts note notes chat chats words reply replies "
    "answer answers letter letters post posts comment comments file files document documents pdf pdfs dm dms "
    "update updates suggestion suggestions recommendation recommendations whatsapps"
)
# "Anna's email" may be her address, "Anna's file" a folder about her: these need
# a word after them that makes them messages ("Anna's email about the rent")
_ATTRIBUTE_NOUNS = frozenset("email e-mail mail text note chat dm file document pdf".split())
_EMAIL_VERB = re.compile(r"e-?mail(?:s|ed|ing)?", FLAGS)
_BEFORE_PREP = re.compile(r"(?:^|(?<=\W))(?P<w>from|by|cc|cc'd|bcc|between)\s+$", FLAGS)
_BEFORE_WITH = re.compile(rf"\b{_COMM_WITH}\b(?:\s+\S+){{0,3}}?\s+(?P<w>with)\s+$", FLAGS)
_BEFORE_TO = re.compile(rf"\b{_COMM_TO}\b(?:\s+\S+){{0,3}}?\s+(?P<w>to)\s+$", FLAGS)
_BEFORE_OBJECT = re.compile(
    r"\b(?P<w>tell|told|telling|ask|asked|asking|e-?mail|e-?mailed|e-?mailing|message|messaged|text|texted|"
    r"remind|reminded|thank|thanked|invite|invited|cc|cc'd|call|called|answer|answered|"
    r"(?:reply|replied|write|wrote|forward|forwarded)\s+to)\s+$",
    FLAGS,
)
_BEFORE_ME_AND = re.compile(r"\b(?P<w>me|i)\s+and\s+$", FLAGS)
_AUX = re.compile(
    r"\b(?P<w>did|does|do|has|have|had|will|would|could|can|was|is|didn't|doesn't|hasn't|haven't|wasn't)\s+$",
    FLAGS,
)
_AFTER_VERB = re.compile(
    r"\s+(?:(?:ever|also|just|actually|really|originally|first|last|then|once|already|recently|never)\s+)?"
    rf"(?P<v>{_SUBJECT_VERBS})\b",
    FLAGS,
)
_AFTER_NOUN = re.compile(rf"\s+(?P<n>{_COMM_NOUNS})\b", FLAGS)
_AFTER_AND_ME = re.compile(r"\s+and\s+(?:i|me)\b", FLAGS)
_JOIN = re.compile(r"\s*(?:,\s*(?:and\s+)?|and\s+|&\s*)", FLAGS)


@dataclass
class _Mention:
    start: int  # the name
    end: int  # the name, without a possessive 's
    stop: int  # the name with its possessive 's
    key: tuple[str, ...]
    people: tuple[int, ...]
    address: str | None = None
    phrase: tuple[int, int] | None = None  # set when accepted as a filter phrase
    email: bool = False  # the phrase says it was an email ("did I email Anna")


def person_mentions(q: str, spans: Spans, directory: _Directory) -> list[_Mention]:
    found: list[_Mention] = []
    address_spans: list[tuple[int, int]] = []
    for m in ADDRESS.finditer(q):
        address_spans.append(m.span())
        addr = m.group().lower()
        if addr in directory.addresses and spans.free(*m.span()):
            found.append(_Mention(m.start(), m.end(), m.end(), (addr,), (directory.addresses[addr],), address=addr))
    tokens = [t for t in TOKEN.finditer(q) if all(t.end() <= s or t.start() >= e for s, e in address_spans)]
    i = 0
    while i < len(tokens):
        hit = None
        for n in range(min(directory.longest, len(tokens) - i), 0, -1):
            group = tokens[i : i + n]
            if any(not q[a.end() : b.start()].isspace() for a, b in zip(group, group[1:], strict=False)):
                continue
            words = [_norm_token(t.group()) for t in group]
            stop = end = group[-1].end()
            key = tuple(words)
            if key not in directory.keys and words[-1].endswith("'s"):
                key, end = (*words[:-1], words[-1][:-2]), stop - 2
            if key not in directory.keys:
                continue
            if n == 1 and key[0] in _COMMON and not group[0].group()[0].isupper():
                continue
            if q[group[0].start() - 1 : group[0].start()] in (":", "@", "/"):
                continue
            if spans.free(group[0].start(), end):
                hit = _Mention(group[0].start(), end, stop, key, directory.keys[key])
            break
        if hit:
            found.append(hit)
            i += len(hit.key)
        else:
            i += 1
    found.sort(key=lambda x: x.start)
    return found


def _accept(q: str, mention: _Mention, spans: Spans) -> None:
    pre, possessive = q[: mention.start], mention.stop > mention.end
    for pattern in (_BEFORE_PREP, _BEFORE_WITH, _BEFORE_TO, _BEFORE_OBJECT, _BEFORE_ME_AND):
        m = pattern.search(pre)
        if m:
            mention.phrase = (m.start("w"), mention.stop)
            mention.email = pattern is _BEFORE_OBJECT and bool(_EMAIL_VERB.fullmatch(m["w"]))
            return
    if possessive:
        m = _AFTER_NOUN.match(q, mention.stop)
        if m and m["n"].lower() in _ATTRIBUTE_NOUNS:
            nxt = skip_space(q, m.end())
            if not (next_word(q, nxt) in CONFIRM_KIND or spans.starts_at(nxt)):
                return
        if m:
            kind_word = KIND_WORD.fullmatch(m["n"]) is not None
            mention.phrase = (mention.start, mention.stop if kind_word else m.end())
        return
    m = _AFTER_VERB.match(q, mention.stop)
    if m:
        aux = _AUX.search(pre)
        mention.phrase = (aux.start("w") if aux else mention.start, m.end())
        mention.email = bool(_EMAIL_VERB.fullmatch(m["v"]))
        return
    m = _AFTER_AND_ME.match(q, mention.stop)
    if m:
        mention.phrase = (mention.start, m.end())


def extract_persons(q: str, spans: Spans, directory: _Directory) -> tuple[list[tuple[str, str]], bool]:
    """(value, label) per person said as a filter; True when a phrase said "emailed"."""
    if not directory.people:
        return [], False
    mentions = person_mentions(q, spans, directory)
    for mention in mentions:
        _accept(q, mention, spans)
    changed = True
    while changed:  # "from Anna and Marco", "Anna and Marco said"
        changed = False
        for a, b in zip(mentions, mentions[1:], strict=False):
            if (a.phrase is None) == (b.phrase is None):
                continue
            joined = _JOIN.fullmatch(q, a.stop, b.start)
            if joined:
                if a.phrase is None:
                    a.phrase = (a.start, b.start)
                else:
                    b.phrase = (a.stop, b.stop)
                changed = True
    out: list[tuple[str, str]] = []
    email = False
    for mention in mentions:
        if mention.phrase is None or not spans.unprotected(*mention.phrase):
            continue
        spans.take(*mention.phrase)
        email = email or mention.email
        if mention.address:
            value, label = mention.address, mention.address
        elif len(mention.people) == 1:
            person = directory.people[mention.people[0]]
            value, label = person.value, person.display
        else:
            said = q[mention.start : mention.end]
            value = " ".join(mention.key)
            names = sorted(directory.people[i].display for i in mention.people)
            who = " or ".join(names) if len(names) <= 3 else f"{len(names)} people"
            label = f"{said} ({who})"
        if value not in [v for v, _ in out]:
            out.append((value, label))
    return out, email
