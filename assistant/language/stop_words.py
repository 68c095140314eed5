"""Function words of the question languages besides English.

A French question ("Quel est le code de la porte ?") counted *le*, *de*, *la* as
topic words, so any French source "covered" half of it: the relevance floor and the
cited-coverage check let through what they exist to stop. The words are dropped only
for a question in their language, as py3langid reads it: "son", "come" and "die"
are English words too.

The lists are the most frequent articles, prepositions, pronouns, auxiliaries,
conjunctions and question words of each language (after the Snowball project's stop
lists), written out here so that nothing is downloaded.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["QUESTION_LANGUAGES", "QUESTION_WORDS", "STOP_WORDS", "foreign_stop_words", "stop_words_of"]

# English function words that only add noise to an OR-ed BM25 query.
STOP_WORDS = frozenset(
    (
        "a about above after again against all am an and any are as at be because been "
        "before being below between both but by can could did do does doing down during "
        "each few for from further had has have having he her here hers herself him "
        "himself his how i if in into is it its itself just me more most my myself no nor "
        "not now of off on once only or other our ours ourselves out over own same she "
        "should so some such than that the their theirs them themselves then there these "
        "they this those through to too under until up very was we were what when where "
        "which while who whom why will with would you your yours yourself yourselves tell "
        "show find give know "
    ).split()
)
# Words that say what kind of answer is wanted, not what it is about.
QUESTION_WORDS = frozenset(
    (
        "time much many long next new total name number date day days week month year cost price does did "
        "will exactly please"
    ).split()
)

# The languages questions are read in: function words here, filter words glossed in
# retrieval/filter_language.py.
QUESTION_LANGUAGES = ("en", "fr", "it", "de", "es")

_WORDS = {
    "fr": """
        a à afin ai aie aient aies ait as au aucun aucune aura aurai auraient aurais aurait aux avaient avais
        avait avant avec avez aviez avions avoir avons ayant c ça ce ceci cela celle celles celui cependant ces cet
        cette ceux chaque chez combien comme comment d dans de des depuis doit donc dont du elle elles en encore
        entre es est et été étaient étais était êtes être eu eux fait faut hors il ils j je jusqu jusque l la là le
        les leur leurs lui m ma mais me même mes moi mon n ne ni nos notre nous on ont ou où par parce pas pendant
        peu peut pour pourquoi qu quand que quel quelle quelles quels qui quoi s sa sans se sera ses si son sont sous
        suis sur t ta te tes toi ton tous tout toute toutes très tu un une vos votre vous y
    """,
    "it": """
        a abbiamo ad agli ai al alla alle allo anche avere aveva avevano c che chi ci come con contro cosa cui da
        dagli dai dal dalla dalle dallo degli dei del della delle dello dentro di dove dopo e è ed era erano essere
        fa fino fra gli ha hanno ho i il in io l la le lei li lo loro lui ma me mi mia mie miei mio ne negli nei nel
        nella nelle nello noi non nostra nostre nostri nostro o ogni per perché più poi qual quale quali quando
        quanta quante quanti quanto quella quelle quelli quello questa queste questi questo se sei si sia siamo
        sono sta su sua sue sugli sui sul sulla sulle sullo suo suoi ti tra tu tua tue tuo tuoi tutti tutto un una
        uno vi voi vostra vostro all dall dell nell sull quest
    """,
    "de": """
        aber alle allem allen aller alles als also am an ander andere anderen auch auf aus bei beim bin bis bist
        da damit dann das dass dein deine dem den denn der des dich die dies diese diesem diesen dieser dieses dir
        doch dort du durch ein eine einem einen einer eines er es etwas euch euer für gegen gewesen hab habe haben
        hat hatte hatten hier hin hinter ich ihm ihn ihnen ihr ihre ihrem ihren ihrer im in ist ja jede jedem jeden
        jeder jetzt kann kein keine können machen man mein meine meinem meinen meiner mich mir mit muss nach nicht
        nichts noch nun nur ob oder ohne seid sein seine seinem seinen seiner seit sich sie sind so soll über um und
        uns unser unsere unter vom von vor wann war waren warum was weil welche welchem welchen welcher welches
        wenn wer werde werden wie wieder wieso wieviel wir wird wo wollen zu zum zur zwischen
    """,
    "es": """
        a al algo algunos ante antes como con contra cual cuál cuales cuando cuándo cuánto cuánta cuántos cuántas de del
        desde donde dónde durante e el él ella ellas ellos en entre era eran es esa esas ese eso esos esta está
        están estas este esto estos fue fueron ha han hasta hay la las le les lo los me mi mis mucho muy más nada
        ni no nos nosotros nuestra nuestro o os otra otro para pero poco por porque qué que quien quién se sea
        ser si sí sin sobre son su sus también te tengo tiene tienen tu tus un una uno unos vosotros y ya yo
    """,
}


@lru_cache(maxsize=8)
def stop_words_of(language: str) -> frozenset[str]:
    """The function words of ``language`` (empty for a language not listed)."""
    return frozenset(_WORDS.get(language, "").split())


@lru_cache(maxsize=1)
def foreign_stop_words() -> frozenset[str]:
    """Every listed function word: a query holding none needs no language check."""
    return frozenset().union(*(stop_words_of(language) for language in _WORDS))
