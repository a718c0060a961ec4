"""Fusion mechanics with the deterministic fake embedder: features, ranking, aggregation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chatbot.embedding.bundled import bundled_model_id
from chatbot.index import IndexStore, LoadedIndex, build_index
from chatbot.model_profile import load_model_profile
from chatbot.retrieval import HybridRetriever, LinearRanker, SearchMode
from chatbot.retrieval.features import FEATURE_NAMES, document_features
from tests.conftest import FakeEmbedder

# The fitted ranker, applied to the fake embedder's features on purpose: these tests
# check how its features are fused, not which model fitted it.
BUNDLED_RANKER = load_model_profile(bundled_model_id()).ranker


def column(name: str) -> int:
    return FEATURE_NAMES.index(name)


def test_lexical_evidence_counts_only_in_the_query_language() -> None:
    docs = np.array(["pass\x1fde", "pass\x1fen", "hund\x1fde"])
    candidates = document_features(
        chunk_docs=docs,
        dense=np.array([0.8, 0.9, 0.5], dtype=np.float32),
        centred=np.array([0.3, 0.2, 0.1], dtype=np.float32),
        lex_same=np.array([4.0, 0.0, 2.0], dtype=np.float32),
        lex_all=np.array([4.0, 3.0, 2.0], dtype=np.float32),
        query_lang="de",
    )
    features = dict(zip(candidates.documents, candidates.features, strict=True))
    assert features["pass\x1fde"][column("lex_same")] == 1.0
    assert features["hund\x1fde"][column("lex_same")] == 0.5
    assert features["pass\x1fen"][column("lex_same")] == 0.0
    assert features["pass\x1fen"][column("same_lang")] == 0.0
    # Raw dense favours the English version; the gap within each language is 0 for
    # the best document of that language.
    assert features["pass\x1fen"][column("dense_gap")] == 0.0
    assert features["pass\x1fde"][column("dense_same_gap")] == 0.0
    assert features["hund\x1fde"][column("dense_same_gap")] == pytest.approx(-0.3)


def test_softmax_probabilities_sum_to_one() -> None:
    scores = LinearRanker.probabilities(np.array([2.0, 1.0, -3.0]))
    assert scores.sum() == pytest.approx(1.0)
    assert list(np.argsort(-scores)) == [0, 1, 2]


@pytest.fixture
def small_index(write_article, tmp_path: Path) -> LoadedIndex:  # type: ignore[no-untyped-def]
    write_article("reisepass", "de", body="## Pass\n\nReisepass beantragen Gebühr Foto.")
    write_article("reisepass", "en", title="Passport",
                  body="## Passport\n\nApply for a passport, fee, photo.")
    write_article("hund", "de", body="## Hund\n\nHundesteuer Hund anmelden Marke.")
    write_article("hund", "en", title="Dog", body="## Dog\n\nDog tax, register your dog.")
    return built_index(tmp_path)


def built_index(tmp_path: Path) -> LoadedIndex:
    """The index of the articles written under `tmp_path` (the `write_article` fixture)."""
    store = IndexStore(tmp_path / "idx")
    build_index(corpus_dir=tmp_path / "corpus", store=store, embedder=FakeEmbedder())
    return LoadedIndex(store.current_dir())


def test_language_versions_are_fused_into_one_article_hit(small_index: LoadedIndex) -> None:
    retriever = HybridRetriever(small_index, FakeEmbedder(), BUNDLED_RANKER)
    hits = retriever.search("Reisepass beantragen Foto", query_lang="de", top_k=5)
    assert [h.article_id for h in hits] == ["reisepass", "hund"]
    assert hits[0].lang == "de"
    assert 0.0 <= hits[1].score <= hits[0].score <= 1.0
    assert sum(h.score for h in hits) == pytest.approx(1.0, abs=1e-3)


def test_the_hit_is_shown_in_the_preferred_language(small_index: LoadedIndex) -> None:
    retriever = HybridRetriever(small_index, FakeEmbedder(), BUNDLED_RANKER)
    [hit] = retriever.search("Reisepass beantragen", query_lang="de", top_k=1,
                             prefer_lang="en")
    assert (hit.article_id, hit.lang, hit.title) == ("reisepass", "en", "Passport")
    assert "passport" in hit.section.lower()


def test_a_german_service_name_in_another_language_is_source_term_evidence(
        small_index: LoadedIndex) -> None:
    retriever = HybridRetriever(small_index, FakeEmbedder(), BUNDLED_RANKER)
    hits = {h.article_id: h for h in retriever.search(
        "reisepass icin ne kadar odeyecem, hund da var", query_lang="tr", top_k=5)}
    # The German title "Reisepass" is named; "Hund" is too short a word to count.
    assert hits["reisepass"].source_term == 1.0
    assert hits["hund"].source_term == 0.0
    assert small_index.names_source_term("Pass fuer meinen Hund", "reisepass") is False
    assert small_index.names_source_term("REISEPÄSSE", "reisepass") is True


def test_the_ranker_sees_german_terms_only_of_translated_articles(
        write_article, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    write_article("reisepass", "de", body="## Pass\n\nReisepass beantragen Gebühr Foto.")
    write_article("reisepass", "tr", title="Pasaport", body="## Pasaport\n\nPasaport ücreti.")
    # A page in German only (as OMoS-QA's are): its title's words are no German "term"
    # that a question in another language borrowed.
    write_article("information", "de", title="Information und Beratung",
                  body="## Beratung\n\nInformation für Familien.")
    index = built_index(tmp_path)
    assert index.translated_articles_naming("reisepass information icin") == {"reisepass"}
    assert index.translated_articles_naming("pasaport icin") == frozenset()
    candidates = HybridRetriever(index, FakeEmbedder(), BUNDLED_RANKER).candidates(
        "reisepass information icin", FakeEmbedder().embed_queries(["x"])[0], query_lang="tr")
    named = {d.split("\x1f")[0]: f[column("source_term")]
             for d, f in zip(candidates.documents, candidates.features, strict=True)}
    assert named == {"reisepass": 1.0, "information": 0.0}


def test_a_later_noun_of_a_keyword_qualifies_it_and_names_no_article(
        write_article, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    write_article("geburt", "de", title="Geburt beurkunden",
                  extra="keywords: [Geburtsurkunde Kindergeld, Ausweis abgelaufen, "
                        "laute Nachbarn, Hilfe für Geburtshelfer, '']\n",
                  body="## Urkunde\n\nDie Geburtsurkunde brauchen Sie für das Kindergeld.")
    write_article("geburt", "pl", title="Rejestracja urodzenia",
                  body="## Akt\n\nAkt urodzenia dziecka.")
    index = built_index(tmp_path)
    # "Geburtsurkunde Kindergeld" is the certificate one needs for child benefit: a
    # question about child benefit does not name the birth article ...
    assert index.names_source_term("wniosek o kindergeld gdzie", "geburt") is False
    assert index.translated_articles_naming("wniosek o kindergeld gdzie") == frozenset()
    # ... its first noun does, and so do words that are not nouns, before or after it
    assert index.names_source_term("gdzie geburtsurkunde", "geburt") is True
    assert index.names_source_term("abgelaufen co robic", "geburt") is True
    assert index.names_source_term("nachbarn", "geburt") is True
    # a later noun that restates the title still names the article
    assert index.names_source_term("geburtshelfer", "geburt") is True
    # Every German word of a keyword still counts as German for language detection.
    assert index.without_source_terms("kindergeld cawa distinim") == "cawa distinim"


def test_a_keyword_is_named_whole_in_the_version_of_the_messages_language(
        write_article, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    write_article("abmelden", "pl", title="Wymeldowanie",
                  extra="keywords: [wymeldować się, zgłoszenie wyjazdu za granicę, "
                        "Standesamt, '']\n",
                  body="## Jak\n\nWymeldować się można w biurze.")
    write_article("geburt", "pl", title="Urodzenie",
                  extra="keywords: [akt urodzenia, Standesamt, Geburtsurkunde]\n",
                  body="## Akt\n\nAkt urodzenia dziecka.")
    write_article("abmelden", "en", title="Deregistration",
                  extra="keywords: [deregister, moving abroad, B1 German, ID card]\n",
                  body="## How\n\nDeregister at the office.")
    index = built_index(tmp_path)
    # every word of the keyword, in any order, accents as typed on a phone
    assert index.names_keyword("wracam do polski, jak sie wymeldowac?", "abmelden", "pl")
    assert index.names_keyword("zgloszenie za granice wyjazdu", "abmelden", "pl")
    # Polish keeps a 5-letter prefix beside a long word: another ending still names it
    assert index.names_keyword("wymeldowanie sie w krefeld", "abmelden", "pl")
    # part of a keyword is not enough, however short the missing word
    assert not index.names_keyword("wyjazd za granice", "abmelden", "pl")
    assert not index.names_keyword("free german courses", "abmelden", "en")
    assert index.names_keyword("is b1 german enough", "abmelden", "en")
    assert not index.names_keyword("my card is gone", "abmelden", "en")
    # a keyword two articles have names neither
    assert not index.names_keyword("gdzie jest standesamt", "abmelden", "pl")
    assert not index.names_keyword("gdzie jest standesamt", "geburt", "pl")
    assert index.names_keyword("akt urodzenia gdzie", "geburt", "pl")
    # only the version in the message's language, and only an article that exists
    assert not index.names_keyword("deregister", "abmelden", "pl")
    assert index.names_keyword("how do i deregister", "abmelden", "en")
    assert not index.names_keyword("how do i deregister", "abmelden", "fr")
    assert not index.names_keyword("how do i deregister", "nothing", "en")
    # counting only keywords of two words or more
    assert index.names_keyword("akt urodzenia gdzie", "geburt", "pl", min_words=2)
    assert not index.names_keyword("how do i deregister", "abmelden", "en", min_words=2)
    assert index.names_keyword("is b1 german enough", "abmelden", "en", min_words=2)
    # a long word (a compound, a term) named whole counts as two, with another ending too
    assert index.names_keyword("geburtsurkunde dla syna", "geburt", "pl", min_words=2)
    assert index.names_keyword("gdzie geburtsurkunden", "geburt", "pl", min_words=2)
    # the first letters Polish matches a long word by are not enough for that
    assert index.names_keyword("geburtstag syna", "geburt", "pl")
    assert not index.names_keyword("geburtstag syna", "geburt", "pl", min_words=2)


def test_an_acronym_keyword_counts_as_two_words(write_article, tmp_path: Path
                                                ) -> None:  # type: ignore[no-untyped-def]
    write_article("wbs", "tr", title="Konut hakkı belgesi",
                  extra="keywords: [WBS, eAT, sosyal konut, konut]\n",
                  body="## Nasıl\n\nBaşvuru formu.")
    index = built_index(tmp_path)
    # typed in lower case, as on a phone
    assert index.names_keyword("wbs kac gunde cikar", "wbs", "tr", min_words=2)
    assert index.names_keyword("eat kartim hazir mi", "wbs", "tr", min_words=2)
    # a one-word keyword in lower case stays one word
    assert index.names_keyword("konut ariyorum", "wbs", "tr")
    assert not index.names_keyword("konut ariyorum", "wbs", "tr", min_words=2)


@pytest.mark.parametrize("mode", list(SearchMode))
def test_every_mode_ranks_the_lexically_and_densely_obvious_article_first(
    small_index: LoadedIndex, mode: SearchMode
) -> None:
    retriever = HybridRetriever(small_index, FakeEmbedder(), BUNDLED_RANKER)
    hits = retriever.search("Hundesteuer Hund anmelden", query_lang="de", top_k=2, mode=mode)
    assert hits[0].article_id == "hund"
