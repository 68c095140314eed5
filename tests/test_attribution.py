"""The speaker check: an answer about one person in a chat must rest on their words
(assistant/answer/attribution.py; issue 17, false premises)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from assistant.answer.attribution import chat_lines, misattribution
from assistant.answer.rag import named_in
from assistant.backends.llm import GenerationStats

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
    yes_line = "2023-05-25 13:22 Melanie: Yes, that one looks great!"
    assert (
        check("Did Caroline research adoption agencies?", "Yes, Caroline researched them [1].", CHUNK + "\n" + yes_line)
        is None
    )


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


def test_declines_in_the_models_own_words_and_languages() -> None:
    from assistant.answer.declines import is_decline

    declines = [
        "I could not find that in the documents.",
        "The blood type of Sofia Rivera is not mentioned in the provided documents [1].",
        "The documents do not contain the answer.",
        "The price is not provided in the documents.",
        "Les documents ne mentionnent pas le code.",
        "Je n'ai pas trouvé cette information.",
        "Non ho trovato informazioni su questo.",
        "Il codice non è indicato nei documenti.",
        "Ich konnte diese Information nicht finden.",
        "Das wird in den Dokumenten nicht erwähnt.",
        "No he encontrado nada sobre eso.",
        "No se menciona en los documentos.",
    ]
    answers = [
        "Towels are not provided [1].",
        "Breakfast is not included in the price [1].",
        "Das Frühstück ist nicht enthalten [1].",
        "The key was not found until Monday [2].",
        "Il n'a pas trouvé de place [1].",
        "No, Melanie did not make the bowl [1].",
        # the first sentence answers; a gap after it is no decline
        "The invoice is €420 [1]. The documents do not say when it is due.",
    ]
    assert [text for text in declines if not is_decline(text)] == []
    assert [text for text in answers if is_decline(text)] == []


class JudgingModel:
    """A canned answer, and a fixed yes-probability for the answerability check."""

    name = "judging"

    def __init__(self, answer: str, yes: float) -> None:
        self.answer, self.yes = answer, yes
        self.asked: list[list[dict[str, str]]] = []
        self.streamed = 0

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def yes_probability(self, messages: list[dict[str, str]], stats: GenerationStats | None = None) -> float:
        self.asked.append(messages)
        if stats is not None:  # as LocalModel: the check reads the whole prompt
            stats.prompt_tokens = stats.prompt_tokens_evaluated = 100
            stats.total_s = 2.0
        return self.yes

    def stream(self, messages, *, max_tokens, temperature, stats, should_stop=None, words_first=False):  # type: ignore[no-untyped-def]
        self.streamed += 1
        stats.prompt_tokens, stats.prompt_tokens_evaluated = 104, 4  # the prompt reused
        stats.time_to_first_token_s, stats.total_s = 0.1, 0.5
        yield self.answer


def test_the_model_is_asked_first_whether_its_sources_hold_the_answer(fake_app, tmp_path: Path) -> None:
    from assistant.answer.rag import ANSWERABLE_QUESTION, UNCONFIRMED_MESSAGE
    from tests.test_core_unit import write

    write(
        tmp_path / "notes" / "seville.md",
        "Welcome to the flat in Seville: Calle Betis 12, second floor. The Wi-Fi password is Triana2026.",
    )
    fake_app.add_source(tmp_path / "notes")
    fake_app.sync()
    fake_app.settings = dataclasses.replace(fake_app.settings, min_relevance=-1.0, min_answerable=0.55)
    answerer = fake_app.answerer()

    unsure = JudgingModel("The key box code is 4471 [1].", yes=0.3)
    declined = answerer.answer("What is the key box code of the flat in Seville?", model=unsure)  # type: ignore[arg-type]
    assert not declined.answered and declined.answer == UNCONFIRMED_MESSAGE
    assert unsure.streamed == 0  # declined before generating
    assert declined.answerable == 0.3 and declined.as_json()["answerable"] == 0.3
    # asked on the answer's own prompt, with the question appended to the last turn
    asked = unsure.asked[0]
    assert asked[-1]["content"].endswith(ANSWERABLE_QUESTION) and "Triana2026" in asked[-1]["content"]

    sure = JudgingModel("The Wi-Fi password is Triana2026 [1].", yes=0.8)
    answered = answerer.answer("What is the Wi-Fi password of the flat in Seville?", model=sure)  # type: ignore[arg-type]
    assert answered.answered and sure.streamed == 1 and answered.answerable == 0.8
    # the meter counts the check: its prompt before the first token
    assert answered.stats is not None
    assert answered.stats.prompt_tokens_evaluated == 104 and answered.stats.time_to_first_token_s == 2.1
    assert declined.stats is not None and declined.stats.generated_tokens == 0 and declined.stats.prompt_tokens == 100

    # off at 0, and skipped for a backend without probabilities (a server)
    fake_app.settings = dataclasses.replace(fake_app.settings, min_answerable=0.0)
    off = fake_app.answerer().answer("What is the key box code of the flat in Seville?", model=unsure)  # type: ignore[arg-type]
    assert off.answerable is None and unsure.streamed == 1


def test_a_source_in_another_language_is_not_held_to_the_questions_words(fake_app, tmp_path: Path) -> None:
    """An English question on a French letter shares no topic words with it; the
    cited-coverage check withdrew right answers (multilingual check set: 11 of 28)."""
    from tests.test_core_unit import CannedModel, write

    write(
        tmp_path / "mail" / "loyer.md",
        "Madame, Monsieur, nous vous informons que le montant du loyer de janvier, charges comprises, "
        "s'élève à 985,00 euros. Le prélèvement sera effectué le 5 janvier sur votre compte bancaire.",
    )
    fake_app.add_source(tmp_path / "mail")
    fake_app.sync()
    fake_app.settings = dataclasses.replace(
        fake_app.settings, min_relevance=-1.0, min_answerable=0.0, min_cited_coverage=0.25
    )
    question = "How much do we have to pay for the January rent with service charges?"
    answer = fake_app.answerer().answer(question, model=CannedModel("The January rent is 985,00 euros [1]."))  # type: ignore[arg-type]
    assert answer.answered, answer.answer
    # the same answer to a question in the source's language is still held to its words
    off_topic = fake_app.answerer().answer(
        "Quel est le code de la porte du garage de l'immeuble ?",
        model=CannedModel("Le code est 985,00 [1]."),  # type: ignore[arg-type]
    )
    assert not off_topic.answered


def test_questions_whose_answer_is_spread_over_many_messages_get_more_sources(fake_app, tmp_path: Path) -> None:
    from assistant.answer.aggregate import AGGREGATE_FACTOR, asks_for_many
    from assistant.retrieval.search_types import Filters
    from tests.test_core_unit import write

    many = [
        "What books has John read?",
        "List every invoice from Gamberini.",
        "How many times did Joanna find new hiking trails?",
        "Which weekly activities does Alma do?",
        "What are Marta's hobbies?",
        "Combien de fois Marco a-t-il appelé ?",
        "Quante volte siamo andati al mare?",
        "Wie oft war Jonas beim Training?",
        "¿Cuántas veces llamó Nora?",
    ]
    one = [
        "What is the door code of the cabin?",
        "When did Caroline join the activist group?",
        "Combien coûte une nuit à l'hôtel à Madrid ?",
        "Quando si va alle terme?",
        "Wann essen wir zusammen?",
    ]
    assert [q for q in many if not asks_for_many(q)] == []
    assert [q for q in one if asks_for_many(q)] == []

    for day in range(1, 13):
        write(tmp_path / "notes" / f"day{day}.md", f"Day {day}: John read a chapter of book number {day}.")
    fake_app.add_source(tmp_path / "notes")
    fake_app.sync()
    answerer = fake_app.answerer()
    _, single, _ = answerer.retrieve("Which chapter did John read on day 3?", Filters())
    _, spread, _ = answerer.retrieve("What books has John read?", Filters())
    assert len(single) == answerer.answer_sources
    assert len(spread) == answerer.answer_sources * AGGREGATE_FACTOR


def test_an_answer_citing_no_source_is_withdrawn(fake_app, tmp_path: Path) -> None:
    """A reply with no [n] whose words match no source cannot be checked
    (multilingual check set: "Il Maggiolino giallo della mamma era il nome di un
    animale domestico." was shown as an answer)."""
    from tests.test_core_unit import CannedModel, write

    write(tmp_path / "notes" / "car.md", "Mum's yellow Beetle was called Zitrone; she sold it in 1998.")
    fake_app.add_source(tmp_path / "notes")
    fake_app.sync()
    fake_app.settings = dataclasses.replace(fake_app.settings, min_relevance=-1.0, min_answerable=0.0)
    answer = fake_app.answerer().answer(
        "What was the name of Mum's yellow Beetle?",
        model=CannedModel("It was the name of a pet."),  # type: ignore[arg-type]
    )
    assert not answer.answered and "cited none" in answer.answer
    assert not any(s.cited for s in answer.sources)
