"""What `chatbot eval retrieval` and `chatbot eval fit-ranker` run: index the pages
(or the corpus) once, then evaluate or fit against labelled questions."""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from chatbot.config import Settings
from chatbot.corpus import chunk_article, load_corpus
from chatbot.embedding import load_embedder
from chatbot.embedding.base import Embedder
from chatbot.embedding.centering import QueryCentroids, fit_query_centroids
from chatbot.errors import CorpusError, DatasetError
from chatbot.evaluation.datasets import load_omos_pages, load_questions
from chatbot.evaluation.retrieval import evaluate_retrieval, format_table
from chatbot.index import IndexStore, LoadedIndex
from chatbot.index.builder import build_index, build_index_from_articles, index_is_current
from chatbot.index.store import read_manifest
from chatbot.language import LanguageDetector
from chatbot.model_profile import (
    PROFILE_FILE,
    ModelProfile,
    ModelProfileError,
    bundled_profile_dir,
    load_model_profile,
    uncalibrated_profile,
)
from chatbot.retrieval import HybridRetriever, LinearRanker
from chatbot.retrieval.fit import collect_labelled_lists, collect_training_lists, fit_weights
from chatbot.retrieval.service import SearchService

METRICS = ("mrr", "hit@1", "hit@3", "hit@5")


def run_retrieval_eval(settings: Settings, *, questions: Path, pages: Path | None,
                       work_dir: Path | None, detect: bool, split: str | None = None) -> str:
    # A mistake in the file, or a split it does not have, fails before the model loads.
    if not load_questions(questions, split=split):
        raise DatasetError(f"{questions}: no questions with an article"
                           + (f" in split {split!r}" if split else ""))
    embedder = load_embedder(settings)
    profile = load_model_profile(embedder.model_id, settings.model_profile)
    centroids = profile.query_centroids
    if pages is not None:
        index, page_langs = omos_index(settings, embedder, pages, work_dir, centroids)
    else:
        index, page_langs = corpus_index(settings, embedder, work_dir, centroids), None
    labelled = load_questions(questions, page_langs, split=split)
    # The path the service would take for an index of this size.
    exhaustive = (settings.search_exhaustive
                  or index.manifest.chunk_count < settings.two_stage_min_chunks)
    retriever = HybridRetriever(index, embedder, profile.ranker, exhaustive=exhaustive,
                                candidate_chunks=settings.search_candidate_chunks)
    lang_of = language_of(labelled, detect)
    started = time.perf_counter()
    results = evaluate_retrieval(retriever, labelled, language_of=lang_of)
    seconds = time.perf_counter() - started
    source = f"{pages.name} ({index.manifest.document_count} pages)" if pages else "the corpus"
    path = ("exhaustive" if retriever.exhaustive
            else f"two-stage ({retriever.candidate_chunks} chunks per signal)")
    chosen = f" (split {split})" if split else ""
    return (f"{len(labelled)} questions from {questions.name}{chosen} against {source}, "
            f"{index.manifest.chunk_count} chunks; language: "
            f"{'detected' if detect else 'labelled'}; search: {path}; {seconds:.1f} s\n\n"
            + format_table(results, METRICS))


def run_fit_ranker(settings: Settings, *, pages: Path, questions: Path,
                   profile_dir: Path | None, work_dir: Path | None,
                   project_questions: Path | None = None, project_weight: float = 2.0,
                   original_weight: float = 5.0) -> str:
    """Fit on OMoS train questions and, when given, the train split of the project's
    own questions over the corpus: OMoS pages have no keywords and are partly
    translated, the city corpus is parallel and keyword-rich, and one ranker has to
    serve both kinds of knowledge base.

    OMoS questions written in their page's own language weigh `original_weight` times
    a machine-translated one: translations outnumber them 2:1 in the train split and
    otherwise teach the ranker to push other-language pages above same-language ones
    (5-fold cross-validation over the train split, folds by page: weights 3 and 5 both
    put every question group above dense-only and BM25-only, 5 with the larger margin).

    Writes the ranker and the query centroids into the model profile at `profile_dir`
    (default: the bundled profile of the model), keeping its other numbers."""
    embedder = load_embedder(settings)
    target, profile = profile_to_update(settings, embedder.model_id, profile_dir)
    train_index, page_langs = omos_index(settings, embedder, pages, work_dir)
    train = load_questions(questions, page_langs, split="train")
    centroids = _fit_centroids(settings, embedder, [q.text for q in train],
                               [q.lang for q in train])
    index = LoadedIndex(train_index.path, query_centroids=centroids)
    lang_of = language_of(train, detect=True)
    # The ranker is fitted on the exhaustive candidate lists: what two-stage search
    # must then reproduce.
    fit_retriever = HybridRetriever(index, embedder, profile.ranker, exhaustive=True)
    labelled = collect_labelled_lists(fit_retriever, train, lang_of)
    lists = [(features, labels) for features, labels, _ in labelled]
    weights = [1.0 if "<-" in question.group else original_weight
               for _, _, question in labelled]
    trained_on = (f"{questions.name} ({len(lists)} lists, originals x{original_weight:g})")
    if project_questions is not None:
        corpus = corpus_index(settings, embedder, work_dir, centroids)
        own = load_questions(project_questions, split="train")
        own_lists = collect_training_lists(
            HybridRetriever(corpus, embedder, profile.ranker, exhaustive=True),
            own, lang_of)
        # Repeat the smaller set so the two kinds of corpus weigh `project_weight` : 1.
        repeat = max(1, round(project_weight * len(lists) / max(len(own_lists), 1)))
        lists = lists + own_lists * repeat
        weights += [1.0] * (len(own_lists) * repeat)
        trained_on += f" + {project_questions.name} train split ({len(own_lists)} lists x{repeat})"
    ranker = LinearRanker(weights=fit_weights(lists, list_weights=weights), trained_on=trained_on)
    profile.replace(ranker=ranker, query_centroids=centroids).save(target)
    shown = ", ".join(f"{k}={v:+.2f}" for k, v in ranker.weights.items())
    return f"wrote the ranker and the query centroids of the model profile {target}\n{shown}"


def profile_to_update(settings: Settings, model_id: str, profile_dir: Path | None
                       ) -> tuple[Path, ModelProfile]:
    """Where a fit writes (the given directory, else CHATBOT_MODEL_PROFILE, else the
    model's bundled profile) and the profile whose other numbers it keeps."""
    target = profile_dir or settings.model_profile or bundled_profile_dir(model_id)
    if (target / PROFILE_FILE).is_file():
        profile = ModelProfile.load(target)
        if profile.model_id != model_id:
            raise ModelProfileError(f"{target} holds the profile of {profile.model_id!r}, "
                                    f"not of the embedding model {model_id!r}")
        return target, profile
    return target, uncalibrated_profile(model_id)


def omos_search_service(settings: Settings, served: SearchService, pages: Path,
                        work_dir: Path | None) -> SearchService:
    """A search service over the OMoS pages, sharing the loaded model and detector."""
    index, _ = omos_index(settings, served.embedder, pages, work_dir,
                           served.profile.query_centroids)
    return SearchService(embedder=served.embedder, detector=served.detector,
                         index_root=index.path.parent, profile=served.profile,
                         exhaustive=served.exhaustive,
                         two_stage_min_chunks=served.two_stage_min_chunks,
                         candidate_chunks=served.candidate_chunks)


def _fit_centroids(settings: Settings, embedder: Embedder, texts: list[str],
                   langs: list[str]) -> QueryCentroids:
    """Query means: the training questions fix the shared part, the project's
    parallel corpus gives each of the seven languages its offset."""
    loaded = load_corpus(settings.corpus_dir)
    if not loaded.articles:
        raise CorpusError(f"no articles in {settings.corpus_dir} to measure language offsets")
    chunks = [c for a in loaded.articles for c in chunk_article(a, max_chars=settings.chunk_chars)]
    return fit_query_centroids(
        model_id=embedder.model_id,
        base_queries=embedder.embed_queries(texts),
        base_langs=langs,
        parallel_queries=embedder.embed_queries([c.passage for c in chunks]),
        parallel_langs=[c.lang for c in chunks],
    )


def language_of(questions: list, detect: bool) -> Callable[[str], str | None]:  # type: ignore[type-arg]
    if not detect:
        labels = {q.text: q.lang for q in questions}
        return labels.get
    detector = LanguageDetector()

    def detected(text: str) -> str | None:
        guess = detector.detect(text)
        return guess.code if guess.supported else None

    return detected


def omos_index(settings: Settings, embedder: Embedder, pages: Path, work_dir: Path | None,
                query_centroids: QueryCentroids | None = None
                ) -> tuple[LoadedIndex, dict[str, str]]:
    articles = load_omos_pages(pages)
    digest = hashlib.sha256(pages.read_bytes()).hexdigest()
    root = (work_dir or Path(tempfile.gettempdir()) / "chatbot-eval") / f"omos-{digest[:12]}"
    store = IndexStore(root)
    if not _store_matches(store, digest, embedder.model_id):
        build_index_from_articles(articles=articles, issues=[], source_hash=digest, store=store,
                                  embedder=embedder, chunk_chars=settings.chunk_chars,
                                  keep_versions=1)
    return (LoadedIndex(store.current_dir(), query_centroids=query_centroids),
            {a.id: a.lang for a in articles})


def corpus_index(settings: Settings, embedder: Embedder, work_dir: Path | None,
                  query_centroids: QueryCentroids | None = None) -> LoadedIndex:
    store = IndexStore(settings.index_dir)
    if not index_is_current(store, settings.corpus_dir, embedder.model_id):
        store = IndexStore((work_dir or Path(tempfile.gettempdir()) / "chatbot-eval") / "corpus")
        if not index_is_current(store, settings.corpus_dir, embedder.model_id):
            # A private evaluation cache, not a served index: whatever corpus is
            # evaluated replaces the last one, however small.
            build_index(corpus_dir=settings.corpus_dir, store=store, embedder=embedder,
                        chunk_chars=settings.chunk_chars, keep_versions=1, force=True)
    return LoadedIndex(store.current_dir(), expected_model_id=embedder.model_id,
                       query_centroids=query_centroids)


def _store_matches(store: IndexStore, digest: str, model_id: str) -> bool:
    if store.current_version() is None:
        return False
    manifest = read_manifest(store.current_dir())
    return manifest.corpus_hash == digest and manifest.model_id == model_id
