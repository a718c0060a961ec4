from __future__ import annotations

from chatbot.lexical import analyze, fold


def test_folding_meets_umlauts_digraphs_and_dotless_i() -> None:
    assert fold("Führerschein") == "fuhrerschein"
    assert fold("Straße") == "strasse"
    assert fold("Başvurusu") == "basvurusu"
    assert analyze("Fuehrerschein", "de") == analyze("Führerschein", "de")


def test_german_stemming_conflates_inflections() -> None:
    assert analyze("beantragen", "de") == analyze("beantrage", "de")


def test_languages_without_stemmer_use_prefixes() -> None:
    assert analyze("pasaportê", "ku") == analyze("pasaporta", "ku")
    assert analyze("osobistego", "pl") == analyze("osobisty", "pl")


def test_stopwords_and_punctuation_are_dropped() -> None:
    assert analyze("Wie beantrage ich einen Reisepass?", "de") == ["beantrag", "reisepass"]
    assert analyze("?!", "en") == []
