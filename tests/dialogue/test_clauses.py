from __future__ import annotations

from chatbot.dialogue.clauses import split_clauses


def test_clauses_are_split_at_punctuation_and_short_pieces_dropped() -> None:
    assert split_clauses("I am asylum seeker living in krefeld, my money didnt come this "
                         "month. who do i contact") == [
        "I am asylum seeker living in krefeld", "my money didnt come this month",
        "who do i contact"]
    assert split_clauses("mein perso ist weg - was muss ich jetzt machen? danke!") == [
        "mein perso ist weg", "was muss ich jetzt machen"]
    # phone messages break lines instead of punctuating; a repeated clause counts once
    assert split_clauses("bin nach krefeld gezogen\nwie melde ich mich an\n"
                         "wie melde ich mich an") == [
        "bin nach krefeld gezogen", "wie melde ich mich an"]


def test_a_message_of_one_clause_has_no_clauses() -> None:
    assert split_clauses("wie melde ich mich in krefeld um") == []
    assert split_clauses("hallo, wie melde ich mich in krefeld um?") == []
    assert split_clauses("") == []


def test_numbers_and_dates_do_not_split_a_clause() -> None:
    # "1.500" and "12.05.2026" are not sentence ends: only punctuation followed by a
    # space or the end is
    assert split_clauses("ich verdiene 1.500 euro netto im monat, bekomme ich wohngeld "
                         "ab dem 12.05.2026") == [
        "ich verdiene 1.500 euro netto im monat", "bekomme ich wohngeld ab dem 12.05.2026"]
