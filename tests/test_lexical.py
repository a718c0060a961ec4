from __future__ import annotations

from chatbot.index.lexical import analyze, analyze_query
from chatbot.text import fold


def test_folding_meets_umlauts_digraphs_and_dotless_i() -> None:
    assert fold("Führerschein") == "fuhrerschein"
    assert fold("Straße") == "strasse"
    assert fold("Başvurusu") == "basvurusu"
    assert analyze("Fuehrerschein", "de") == analyze("Führerschein", "de")


def test_german_stemming_conflates_inflections() -> None:
    assert analyze("beantragen", "de") == analyze("beantrage", "de")


def test_languages_without_stemmer_use_prefixes() -> None:
    assert set(analyze("pasaportê", "ku")) & set(analyze("pasaporta", "ku")) == {"pasa"}
    assert set(analyze("osobistego", "pl")) & set(analyze("osobisty", "pl")) == {"osobi"}


def test_turkish_typed_without_its_letters_meets_the_articles_words() -> None:
    # Snowball's Turkish stemmer expects "ğ" and "ı": on folded text it cut "pasaportu" to
    # "pasapor" but left "pasaport" whole, and "köpeğinizi" to "kopegi" but "kopegim" to
    # "kopeg"; Turkish words are cut to a prefix instead
    assert set(analyze("pasaport", "tr")) & set(analyze("pasaportu", "tr"))
    assert set(analyze("kopegim", "tr")) & set(analyze("Köpeğinizi", "tr"))
    assert set(analyze("suresiz oturum", "tr")) <= set(analyze("süresiz oturum izni", "tr"))


def test_german_terms_in_polish_and_kurmanji_keep_their_whole_word() -> None:
    # "kinderreisepass" must not match every "Kinder..." word only by its prefix
    assert "kinderreisepass" in analyze("kinderreisepass cekim", "ku")
    # typed with an umlaut, written in the article as a digraph (and the other way round)
    assert analyze("Einbürgerung", "ku") == analyze("Einbuergerung", "ku")
    assert analyze("führerschein", "pl") == analyze("fuehrerschein", "pl")


def test_function_words_of_phone_typed_kurmanji_are_dropped() -> None:
    assert analyze("gelo divê ez xwe qeyd bikim", "ku") == ["qeyd", "biki"]


def test_stopwords_and_punctuation_are_dropped() -> None:
    assert analyze("Wie beantrage ich einen Reisepass?", "de") == ["beantrag", "reisepass"]
    assert analyze("?!", "en") == []


def test_a_separated_german_verb_particle_is_joined_to_its_verb_again() -> None:
    # "wie melde ich mich um" must meet the article's "ummelden"
    assert set(analyze("ummelden", "de")) <= set(analyze_query("hallo, wie melde ich mich um",
                                                               "de"))
    assert set(analyze("abmelden", "de")) <= set(analyze_query("ich melde mein Auto ab.", "de"))
    # only at the end of a clause, only to verb forms, never twice
    assert "abmeld" not in analyze_query("ab wann melde ich mich", "de")
    assert analyze_query("ich melde mich beim Amt, ab morgen", "de") == [
        "meld", "beim", "amt", "ab", "morg"]
    assert "umumgezog" not in analyze_query("bin umgezogen, wie melde ich mich um", "de")
    # articles are analysed without joining, and so is a language without such particles
    assert "ummeld" not in analyze("Bitte melden Sie sich um", "de")
    assert analyze_query("where do i sign up", "en") == ["sign", "up"]
