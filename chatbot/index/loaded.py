"""An index version in memory: manifest first, then vectors, chunks and BM25."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from chatbot.corpus.models import SOURCE_LANGUAGE
from chatbot.embedding.centering import (
    QueryCentroids,
    center_documents,
    center_query,
    document_means,
)
from chatbot.errors import IndexIncompatibleError
from chatbot.index import lexical_index, vector_index
from chatbot.index.builder import ARTICLES_FILE, CENTRED_FILE, CHUNKS_FILE, VECTORS_FILE
from chatbot.index.lexical import analyze, analyze_query, analyze_words
from chatbot.index.manifest import FORMAT_VERSION, IndexManifest
from chatbot.index.store import read_manifest

_NO_ROWS = np.zeros(0, dtype=np.intp)
MAX_RELATED = 3
"""At most this many related articles (follow-ups may move to them)."""
SOURCE_TERM_MIN_CHARS = 6
"""German stems this long are service names or their parts ("anmeld", "kinderreisepass",
"personalausweis"); shorter ones are too often function words or fragments."""

LONG_KEYWORD_WORD_CHARS = 9
"""A keyword word this long, named whole (the query has a word beginning with the same
this many letters), names a service as specifically as two words do: a compound or a
term ("Asylbewerberleistungen", "vatandaslik"), where a short one is often an everyday
word ("ticket", "Anmeldung" as "anmeld"). Below the chat's suggestion band
(`NAMED_KEYWORD_MIN_WORDS` in the dialogue), on the train rows: right +4, nothing more
answered wrongly or out of scope. Matching a long word by the four or five letters
Polish, Turkish and Kurmanji keep of it gave +7, but those letters are shared by
everyday words ("przepraszam" begins like "przeprowadzka", "naturalnie" like
"naturalizacja"); counting any word of 6+ letters answered four out-of-scope questions
("tickets for the zoo", "kita platz ... anmelden")."""
ACRONYM_MIN_CAPITALS = 2
"""A one-word keyword with this many capitals ("WBS", "eAT", "IDP", "STIKO") is an
acronym: it names one service as specifically as two words do, where a one-word
keyword in lower case is often an everyday word. Below the chat's suggestion band,
on the train rows: right +2 (Kurmanji "ji bo malbateke 5 kesi wbs ciqas dom dike"),
dev +1 ("how long is the IDP valid"), nothing more answered wrongly or out of scope,
SIB-200 train sentences unchanged. An acronym can be an everyday word as typed ("eat"
for "eAT", French "plu" for "PLU"): the article must still be likely enough on its own
evidence (`NAMED_KEYWORD_MIN_PROBABILITY` in the dialogue), which "what did you eat
today" and "est ce qu il a plu hier" are not (p 0.03-0.05)."""


@dataclass(frozen=True)
class StoredArticle:
    id: str
    lang: str
    title: str
    department: str
    updated: str
    url: str | None
    keywords: tuple[str, ...]
    appointment_service: str | None
    source_revision: str | None
    path: str
    body: str
    summary: str | None = None
    machine_translated: bool = False


@dataclass(frozen=True)
class StoredChunk:
    row: int
    article_id: str
    lang: str
    position: int
    heading: str
    text: str
    passage: str


class LoadedIndex:
    def __init__(self, path: Path, *, expected_model_id: str | None = None,
                 query_centroids: QueryCentroids | None = None) -> None:
        import faiss

        self.path = path
        self.manifest: IndexManifest = read_manifest(path)
        if self.manifest.format_version != FORMAT_VERSION:
            raise IndexIncompatibleError(
                f"index {path.name} has format {self.manifest.format_version}, this version "
                f"reads {FORMAT_VERSION}; rebuild it with `chatbot ingest --full`"
            )
        if expected_model_id is not None and self.manifest.model_id != expected_model_id:
            raise IndexIncompatibleError(
                f"index {path.name} was built with {self.manifest.model_id!r}, but the service "
                f"uses {expected_model_id!r}; rebuild it with `chatbot ingest --full`"
            )
        self.vectors: Any = vector_index.prepare_loaded(
            faiss.read_index(str(path / VECTORS_FILE)), self.manifest.vector_index)
        if self.vectors.d != self.manifest.dimension:
            raise IndexIncompatibleError(f"index {path.name}: vectors do not match its manifest")
        self.chunks = [
            StoredChunk(row=row, **{k: v for k, v in json.loads(line).items()
                                    if k in _CHUNK_FIELDS})
            for row, line in enumerate(_lines(path / CHUNKS_FILE))
        ]
        self.articles: dict[tuple[str, str], StoredArticle] = {}
        self._versions: dict[str, dict[str, StoredArticle]] = {}
        for line in _lines(path / ARTICLES_FILE):
            record = json.loads(line)
            record["keywords"] = tuple(record["keywords"])
            article = StoredArticle(**record)
            self.articles[(article.id, article.lang)] = article
            self._versions.setdefault(article.id, {})[article.lang] = article
        self.lexical = lexical_index.load(path)
        self._article_terms: dict[tuple[str, str], frozenset[str]] = {}
        self._title_terms: dict[tuple[str, str], frozenset[str]] = {}
        self._naming_terms: dict[str, frozenset[str]] = {}
        self._distinctive_keywords: dict[str, dict[str, tuple[_DistinctKeyword, ...]]] = {}
        self._article_vectors: tuple[list[str], npt.NDArray[np.float64]] | None = None
        self._source_vocabulary: frozenset[str] | None = None
        self._source_term_articles: dict[str, frozenset[str]] | None = None
        self.chunk_langs = np.array([c.lang for c in self.chunks])
        self.chunk_docs = np.array([f"{c.article_id}\x1f{c.lang}" for c in self.chunks])
        documents, inverse = np.unique(self.chunk_docs, return_inverse=True)
        self.chunk_document = inverse.astype(np.intp)
        """Per chunk, its document's position in `documents` (sorted names)."""
        self.documents = documents
        order = np.argsort(inverse, kind="stable")
        counts = np.bincount(inverse, minlength=len(documents))
        bounds = np.cumsum(counts)[:-1]
        self._document_row_lists = np.split(order, bounds)
        self._document_rows = dict(zip((str(d) for d in documents),
                                       self._document_row_lists, strict=True))
        raw = self.vectors.reconstruct_n(0, self.vectors.ntotal)
        self.document_means = document_means(raw, self.chunk_langs)
        if self.manifest.vector_index.kind == "flat":
            # Scored through FAISS rather than numpy: a numpy mat-vec wakes OpenBLAS's
            # thread pool, whose spinning threads then slow the next model encode
            # tenfold on a 2-core machine (measured: 11 ms -> 110 ms per query).
            self.centred_vectors: Any = faiss.IndexFlatIP(raw.shape[1])
            self.centred_vectors.add(
                center_documents(raw, self.chunk_langs, self.document_means))
        else:
            self.centred_vectors = vector_index.prepare_loaded(
                faiss.read_index(str(path / CENTRED_FILE)), self.manifest.vector_index)
        del raw
        # Query means are fitted per model (its profile); without them the documents'
        # own language means are the closest available estimate.
        self.query_centroids = (
            query_centroids
            if query_centroids is not None and query_centroids.model_id == self.manifest.model_id
            else QueryCentroids(model_id=self.manifest.model_id, means=self.document_means)
        )

    @property
    def version(self) -> str:
        return self.manifest.version

    def dense_scores(self, query_vector: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Cosine similarity of the query to every chunk, in chunk order."""
        return _all_scores(self.vectors, query_vector)

    def centred_scores(self, query_vector: npt.NDArray[np.float32], lang: str | None
                       ) -> npt.NDArray[np.float32]:
        """Cosine after removing each side's language mean, in chunk order."""
        query = center_query(query_vector, self.query_centroids.mean_for(lang))
        return _all_scores(self.centred_vectors, query)

    def centred_query(self, query_vector: npt.NDArray[np.float32], lang: str | None
                      ) -> npt.NDArray[np.float32]:
        return center_query(query_vector, self.query_centroids.mean_for(lang))

    def dense_top(self, query_vector: npt.NDArray[np.float32], n: int) -> npt.NDArray[np.intp]:
        """Rows of the `n` chunks nearest to the query (approximate above the size
        threshold, see `vector_index`)."""
        return _top_rows(self.vectors, query_vector, n)

    def centred_top(self, centred_query: npt.NDArray[np.float32], n: int
                    ) -> npt.NDArray[np.intp]:
        """Rows of the `n` chunks nearest by language-centred cosine."""
        return _top_rows(self.centred_vectors, centred_query, n)

    def dense_at(self, query_vector: npt.NDArray[np.float32], rows: npt.NDArray[np.intp]
                 ) -> npt.NDArray[np.float32]:
        """Exact cosine of the query to the chunks in `rows`."""
        return _scores_at(self.vectors, query_vector, rows)

    def centred_at(self, centred_query: npt.NDArray[np.float32], rows: npt.NDArray[np.intp]
                   ) -> npt.NDArray[np.float32]:
        return _scores_at(self.centred_vectors, centred_query, rows)

    def rows_of_documents(self, documents: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
        """Every chunk row of the given documents (positions in `documents`)."""
        if not len(documents):
            return _NO_ROWS
        return np.concatenate([self._document_row_lists[int(d)] for d in documents])

    def lexical_scores(self, query: str, lang: str | None) -> npt.NDArray[np.float32]:
        """BM25 of the query against chunks in `lang` (analysed as `lang`), 0 elsewhere;
        `lang=None` uses the all-language index with folding only."""
        key = lang if lang is not None else lexical_index.ALL_LANGUAGES
        out = np.zeros(len(self.chunks), dtype=np.float32)
        index = self.lexical.get(key)
        if index is not None:
            out[index.rows] = index.scores(query)
        return out

    def article_terms(self, article_id: str, lang: str) -> frozenset[str]:
        """Analysed terms of a version's title, keywords and body (for query coverage)."""
        key = (article_id, lang)
        terms = self._article_terms.get(key)
        if terms is None:
            article = self.articles[key]
            text = " ".join((article.title, " ".join(article.keywords), article.body))
            terms = self._article_terms[key] = frozenset(analyze(text, lang))
        return terms

    def coverage(self, terms: set[str], article_id: str, lang: str, *,
                 title_only: bool = False) -> float:
        """Share of `terms` (analysed in `lang`) found in that version, or only in its
        title and keywords; 0 without terms."""
        if not terms:
            return 0.0
        found = (self.title_terms if title_only else self.article_terms)(article_id, lang)
        return len(terms & found) / len(terms)

    def document_rows(self, article_id: str, lang: str) -> npt.NDArray[np.intp]:
        """The chunk rows of one article language version, in chunk order."""
        return self._document_rows.get(f"{article_id}\x1f{lang}", _NO_ROWS)

    def title_terms(self, article_id: str, lang: str) -> frozenset[str]:
        """Analysed terms of a version's title and keywords."""
        key = (article_id, lang)
        terms = self._title_terms.get(key)
        if terms is None:
            article = self.articles[key]
            text = " ".join((article.title, " ".join(article.keywords)))
            terms = self._title_terms[key] = frozenset(analyze(text, lang))
        return terms

    def names_keyword(self, query: str, article_id: str, lang: str, *,
                      min_words: int = 1) -> bool:
        """Whether the query names one of the keywords of the article's version in `lang`
        whole: each of the keyword's words that is not a function word is among the
        query's terms (one of its forms, where the language keeps a long word whole
        beside its prefix), in any order ("wracam do polski, jak sie wymeldowac" names
        "wymeldować się"; "immatriculer en allemagne une voiture" names "immatriculer une
        voiture"). A keyword that another article of that language also has
        ("Standesamt", "foreigners office") names neither. Only keywords of at least
        `min_words` such words count; a word of LONG_KEYWORD_WORD_CHARS letters or more
        counts as two when the query has it whole (`_names_long_word`), not only its
        prefix, and so does an acronym (ACRONYM_MIN_CAPITALS)."""
        keywords = self._keywords_of(lang).get(article_id, ())
        if not keywords:
            return False
        terms = frozenset(analyze_query(query, lang))
        return any(all(not forms.isdisjoint(terms) for forms in keyword.words)
                   and (len(keyword.words) >= min_words
                        or len(keyword.words) + keyword.acronym
                        + sum(_names_long_word(forms, terms) for forms in keyword.words)
                        >= min_words)
                   for keyword in keywords)

    def _keywords_of(self, lang: str) -> dict[str, tuple[_DistinctKeyword, ...]]:
        """Per article, the analysed keywords of its version in `lang` that no other
        article's version in `lang` has."""
        found = self._distinctive_keywords.get(lang)
        if found is None:
            analysed: dict[str, dict[_Keyword, bool]] = {}
            for (article_id, version_lang), article in self.articles.items():
                if version_lang == lang:
                    own = analysed[article_id] = {}
                    for keyword in article.keywords:
                        words = _analysed_keyword(keyword, lang)
                        if words:
                            own[words] = own.get(words, False) or _is_acronym(str(keyword))
            holders = Counter(k for keywords in analysed.values() for k in keywords)
            found = self._distinctive_keywords[lang] = {
                article_id: tuple(_DistinctKeyword(k, acronym) for k, acronym in keywords.items()
                                  if holders[k] == 1)
                for article_id, keywords in analysed.items()}
        return found

    def names_source_term(self, query: str, article_id: str) -> bool:
        """Whether the query contains a word of the source-language (German) version's
        title or keywords that names the article (`naming_terms`): citizens writing in
        Turkish, Polish or Kurmanji type the official German name ("kinderreisepass",
        "Anmeldung") where their own language's version says it in their words. Only
        words of at least SOURCE_TERM_MIN_CHARS letters (after German analysis) count,
        so "ab" or "bei" never match."""
        if (article_id, SOURCE_LANGUAGE) not in self.articles:
            return False
        return not _source_words(query).isdisjoint(self.naming_terms(article_id))

    def naming_terms(self, article_id: str) -> frozenset[str]:
        """Analysed terms of the German version's title and keywords that name the article
        on their own: the title's words; of each keyword its first noun (the first
        capitalised word), every word that is not a noun ("laute Nachbarn", "Ausweis
        abgelaufen"), and a later noun that restates the title ("Leistungen für
        Asylbewerber" in "Leistungen nach dem Asylbewerberleistungsgesetz"). Any other
        later noun qualifies the first ("Geburtsurkunde Kindergeld": the birth
        certificate one needs for child benefit), so a question about child benefit
        does not name the birth article."""
        terms = self._naming_terms.get(article_id)
        if terms is None:
            article = self.articles[(article_id, SOURCE_LANGUAGE)]
            title = frozenset(analyze(article.title, SOURCE_LANGUAGE))
            found = set(title)
            for keyword in article.keywords:
                head_seen = False
                for word in str(keyword).split():
                    analysed = analyze(word, SOURCE_LANGUAGE)
                    if not word[:1].isupper() or not head_seen:
                        found.update(analysed)
                    else:
                        found.update(t for t in analysed if _restates(t, title))
                    head_seen = head_seen or (word[:1].isupper() and bool(analysed))
            terms = self._naming_terms[article_id] = frozenset(found)
        return terms

    def translated_articles_naming(self, query: str) -> frozenset[str]:
        """The translated articles (a German version and at least one other) whose German
        title or keywords the query names, as `names_source_term` decides it. A ranker
        feature: a Kurmanji question typing "wohngeld" names the housing-benefit article
        however poorly e5 reads the rest. Articles in one language only (the OMoS-QA
        pages) never count: there a French question's "Information" would name a German
        page's title without meaning a German term."""
        named = self._source_terms()
        return frozenset(article_id for word in _source_words(query)
                         for article_id in named.get(word, ())
                         if len(self._versions[article_id]) > 1)

    def _source_terms(self) -> dict[str, frozenset[str]]:
        """Each naming term of a German title or keywords -> the articles it names."""
        if self._source_term_articles is None:
            by_term: dict[str, set[str]] = {}
            for article_id, versions in self._versions.items():
                if SOURCE_LANGUAGE in versions:
                    for term in self.naming_terms(article_id):
                        by_term.setdefault(term, set()).add(article_id)
            self._source_term_articles = {t: frozenset(a) for t, a in by_term.items()}
        return self._source_term_articles

    def without_source_terms(self, text: str) -> str:
        """The text without the words that name a German title or keyword of the
        corpus (words of at least SOURCE_TERM_MIN_CHARS letters after analysis)."""
        if self._source_vocabulary is None:
            # Every word of a title or keyword is German, also one that names no article.
            self._source_vocabulary = frozenset(
                term for (article_id, lang) in self.articles if lang == SOURCE_LANGUAGE
                for term in self.title_terms(article_id, SOURCE_LANGUAGE)
                if len(term) >= SOURCE_TERM_MIN_CHARS)
        vocabulary = self._source_vocabulary

        def names_term(word: str) -> bool:
            terms = _source_words(word)
            return bool(terms) and terms <= vocabulary

        return " ".join(word for word in text.split() if not names_term(word))

    def related_articles(self, article_id: str, max_gap: float,
                         max_related: int = MAX_RELATED) -> list[str]:
        """The articles nearest to this one by mean chunk vector, closest first, that are
        at most `max_gap` less close than the nearest: "Kinderreisepass" for "Reisepass
        beantragen", not "Anmeldung". (A relative cut: e5's cosines between articles of
        one city's corpus all lie between 0.94 and 0.99.)"""
        if self._article_vectors is None:
            ids = sorted({c.article_id for c in self.chunks})
            raw = self.vectors.reconstruct_n(0, self.vectors.ntotal)
            position = {a: i for i, a in enumerate(ids)}
            sums = np.zeros((len(ids), raw.shape[1]), dtype=np.float64)
            np.add.at(sums, [position[c.article_id] for c in self.chunks], raw)
            sums /= np.linalg.norm(sums, axis=1, keepdims=True)
            self._article_vectors = (ids, sums)
        ids, vectors = self._article_vectors
        if article_id not in ids:
            return []
        cosines = vectors @ vectors[ids.index(article_id)]
        order = [int(i) for i in np.argsort(-cosines) if ids[int(i)] != article_id]
        if not order:
            return []
        nearest = cosines[order[0]]
        return [ids[i] for i in order[:max_related] if cosines[i] >= nearest - max_gap]

    def article_versions(self, article_id: str) -> dict[str, StoredArticle]:
        return dict(self._versions.get(article_id, {}))


def _restates(term: str, title: frozenset[str]) -> bool:
    """Whether a keyword's term is a title word or the stem of one, or the reverse."""
    return len(term) >= SOURCE_TERM_MIN_CHARS and any(
        word.startswith(term) or term.startswith(word)
        for word in title if len(word) >= SOURCE_TERM_MIN_CHARS)


_Keyword = tuple[frozenset[str], ...]
"""A keyword as analysed: per word that is not a function word, its forms."""


@dataclass(frozen=True)
class _DistinctKeyword:
    words: _Keyword
    acronym: bool
    """Written as one word with ACRONYM_MIN_CAPITALS capitals or more ("WBS")."""


def _is_acronym(keyword: str) -> bool:
    return (len(keyword.split()) == 1 and "-" not in keyword
            and sum(c.isupper() for c in keyword) >= ACRONYM_MIN_CAPITALS)


def _names_long_word(forms: frozenset[str], terms: frozenset[str]) -> bool:
    """Whether the query has a word that begins with the same LONG_KEYWORD_WORD_CHARS
    letters as a keyword word: the long word itself, another ending of it or a compound
    of it ("asylbewerberleistungen" for "Asylbewerberleistungsgesetz"). Polish, Turkish
    and Kurmanji also match a long word by its first four or five letters, which is not
    enough here: "przepraszam" (sorry) begins like "przeprowadzka" (moving)."""
    size = LONG_KEYWORD_WORD_CHARS
    return any(len(form) >= size and form[:size] == term[:size]
               for form in forms for term in terms)


def _analysed_keyword(keyword: object, lang: str) -> _Keyword:
    return tuple(sorted(set(analyze_words(str(keyword), lang)), key=sorted))


@lru_cache(maxsize=64)
def _source_words(query: str) -> frozenset[str]:
    """The query's long words analysed as German; cached because every hit of one
    search asks for them."""
    return frozenset(t for t in analyze_query(query, SOURCE_LANGUAGE)
                     if len(t) >= SOURCE_TERM_MIN_CHARS)


_CHUNK_FIELDS = {"article_id", "lang", "position", "heading", "text", "passage"}


def _all_scores(index: Any, query: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Exact scores of every vector, also from an approximate index (every list scanned)."""
    params = vector_index.exact_search_params(index)
    scores, rows = index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32),
                                index.ntotal, params=params)
    out = np.empty(index.ntotal, dtype=np.float32)
    out[rows[0]] = scores[0]
    return out


def _top_rows(index: Any, query: npt.NDArray[np.float32], n: int) -> npt.NDArray[np.intp]:
    _, rows = index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32),
                           min(n, index.ntotal))
    found = rows[0]
    return np.asarray(found[found >= 0], dtype=np.intp)


def _scores_at(index: Any, query: npt.NDArray[np.float32], rows: npt.NDArray[np.intp]
               ) -> npt.NDArray[np.float32]:
    if not len(rows):
        return np.zeros(0, dtype=np.float32)
    vectors = index.reconstruct_batch(np.ascontiguousarray(rows, dtype=np.int64))
    # einsum, not `@`: a BLAS mat-vec would wake OpenBLAS's spinning threads (above).
    return np.asarray(np.einsum("ij,j->i", vectors, query.astype(np.float32)),
                      dtype=np.float32)


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line]
