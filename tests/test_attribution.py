"""The speaker check: an answer about one person in a chat must rest on their words
(assistant/answer/attribution.py; issue 17, false premises)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from assistant.answer.attribution import chat_lines, misattribution
from assistant.rag import named_in

CHUNK = (
    "2023-05-25 13:16 Melanie: Thanks, Caroline! The event was really thought-provoking. "
    "I'm starting to realize that self-care is really important.\n"
    "2023-05-25 13:18 Caroline: Totally agree. I've been researching adoption agencies lately.\n"
    "2023-05-25 13:20 Melanie: That's wonderful, which one do you like?"
)


def check(question: str, answer: str, chunk: str = CHUNK):  # type: ignore[no-untyped-def]
    return misattribution(question, answer, named_in(question), [(1, chunk)])


def test_chat_lines_are_read_with_their_senders() -> None:
    lines = chat_lines(CHUNK)
    assert [sender for sender, _ in lines] == ["Melanie", "Caroline", "Melanie"]
    assert lines[1][1].startswith("Totally agree")
    assert chat_lines("An email body: no chat lines here.") == []


def test_what_someone_else_said_of_themself_is_no_answer_about_the_person_asked() -> None:
    found = check("What did Caroline realize after her charity race?", "Caroline realized self-care is important [1].")
    assert found is not None
    assert (found.asked, found.speaker, found.source) == ("Caroline", "Melanie", 1)
    assert "self-care" in found.line


def test_the_persons_own_words_pass() -> None:
    assert check("What has Caroline been researching?", "Caroline has been researching adoption agencies [1].") is None
    # Melanie's own realisation, asked about Melanie
    assert check("What did Melanie realize after the event?", "Melanie realized self-care is important [1].") is None


def test_no_check_without_exactly_one_of_the_chats_people_in_the_question() -> None:
    # both people named: "what did Melanie tell Caroline"
    assert check("What did Melanie tell Caroline about self-care?", "That self-care is really important [1].") is None
    # a name who is not in the chat: the names check deals with that
    assert check("What did Priya realize?", "Self-care is important [1].") is None
    # no words of its own beyond the question's: nothing to place
    assert check("Did Caroline realize that self-care is important?", "Yes [1].") is None


def test_a_tie_goes_to_the_person_asked() -> None:
    """The other person repeating the news ("you got a signed ball?") is no reason to
    withdraw the answer when the person asked says it too."""
    chunk = (
        "2023-08-15 10:00 John: My teammates gave me a signed basketball!\n"
        "2023-08-15 10:01 Tim: A signed basketball from your teammates? Amazing."
    )
    assert check("What did John's teammates give him?", "A signed basketball [1].", chunk) is None


def test_the_answerer_withdraws_an_answer_resting_on_someone_elses_words(fake_app, tmp_path: Path) -> None:
    from tests.test_core_unit import CannedModel, write

    chat = (
        "25/05/2023, 13:16 - Melanie: Thanks, Caroline! The event was really thought-provoking. "
        "I'm starting to realize that self-care is really important.\n"
        "25/05/2023, 13:18 - Caroline: Totally agree. I've been researching adoption agencies lately.\n"
    )
    write(tmp_path / "chats" / "WhatsApp Chat with Melanie.txt", chat)
    fake_app.add_source(tmp_path / "chats")
    fake_app.sync()
    fake_app.settings = dataclasses.replace(fake_app.settings, min_relevance=-1.0)
    answerer = fake_app.answerer()

    wrong = answerer.answer(
        "What did Caroline realize after the event?",
        model=CannedModel("Caroline realized that self-care is really important [1]."),  # type: ignore[arg-type]
    )
    assert not wrong.answered
    assert "Melanie" in wrong.answer and "self-care" in wrong.answer
    assert [s.n for s in wrong.sources if s.cited] == [1]  # the line it would have rested on

    right = answerer.answer(
        "What has Caroline been researching?",
        model=CannedModel("Caroline has been researching adoption agencies [1]."),  # type: ignore[arg-type]
    )
    assert right.answered, right.answer
