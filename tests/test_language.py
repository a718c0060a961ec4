"""Tests of chatbot.language on hand-written hotline messages.

The messages were written for these tests (not taken from any corpus); they are the
kind a city's citizen service receives: questions, very short replies, lowercase,
and text typed without the accents the keyboard lacks.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from chatbot.evaluation.sib import evaluate_detector
from chatbot.language import (
    SUPPORTED_LANGUAGES,
    LanguageDetector,
    LanguageGuess,
)


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


MESSAGES: dict[str, list[str]] = {
    "de": [
        "Wo kann ich meinen Reisepass verlängern?",
        "ich brauche einen termin beim bürgeramt",
        "muss ich fur die ummeldung persoenlich kommen",
        "Mein Sperrmüll wurde nicht abgeholt",
        "wie beantrage ich wohngeld",
        "ich habe meinen führerschein verloren was muss ich tun",
    ],
    "en": [
        "Where can I renew my passport?",
        "i need an appointment at the citizens office",
        "is the town hall open on saturday",
        "can my husband collect the passport for me",
        "my neighbours are very loud every night who can i call",
        "thanks a lot for your help",
    ],
    "fr": [
        "Où puis-je renouveler mon passeport ?",
        "je voudrais prendre rendez-vous pour une carte d'identite",
        "combien coute un nouveau passeport",
        "ou est le bureau des objets trouves",
        "j'ai perdu mon permis de conduire que dois je faire",
        "merci beaucoup pour votre aide",
    ],
    "it": [
        "Dove posso rinnovare il mio passaporto?",
        "vorrei prendere un appuntamento per la carta d'identita",
        "il comune e aperto il sabato?",
        "come faccio a chiedere il sussidio per l'affitto",
        "ho perso la patente cosa devo fare",
        "grazie mille per l'aiuto",
    ],
    "pl": [
        "Gdzie mogę przedłużyć paszport?",
        "chcialbym umowic wizyte w urzedzie",
        "ile kosztuje nowy dowód osobisty",
        "gdzie jest biuro rzeczy znalezionych",
        "zgubilam prawo jazdy co mam zrobic",
        "dziekuje bardzo za pomoc",
    ],
    "tr": [
        "Pasaportumu nerede yenileyebilirim?",
        "belediyeden randevu almak istiyorum",
        "belediye cumartesi gunu acik mi",
        "ehliyetimi kaybettim ne yapmaliyim",
        "Berlin'de oturma izni için hangi belgeler gerekli?",
        "yardiminiz icin cok tesekkurler",
    ],
    "ku": [
        "Ez dikarim pasaporta xwe li ku derê nû bikim?",
        "ez dixwazim li şaredariyê randevûyekê bigirim",
        "gelo şaredarî roja şemiyê vekirî ye",
        "min ehlîyeta xwe winda kir ez ci bikim",
        "gelek spas ji bo alîkariya we",
        "cawa ez dikarim randevu bigirim",
    ],
}


@pytest.mark.parametrize(
    ("expected", "text"),
    [(lang, text) for lang, texts in MESSAGES.items() for text in texts],
)
def test_chat_messages_in_supported_languages(
    detector: LanguageDetector, expected: str, text: str
) -> None:
    guess = detector.detect(text)
    assert guess.code == expected, text
    assert guess.supported
    assert guess.confidence > 0.5


KURMANJI_WITHOUT_KURDISH_LETTERS = [
    "ez dixwazim pasaporta xwe nu bikim",
    "ji kerema xwe alikariya min bikin",
    "ez li vir nu me, divê ez xwe qeyd bikim",
    "roj bas, ez ci bikim ji bo kaxeza nasnameye",
    "spas",
    "Ez dixwazim",
]


@pytest.mark.parametrize("text", MESSAGES["ku"] + KURMANJI_WITHOUT_KURDISH_LETTERS)
def test_kurmanji_is_never_taken_for_turkish(detector: LanguageDetector, text: str) -> None:
    # Turkish is the usual wrong answer for Kurmanji, and the one we must never give,
    # not even when the conversation so far was in Turkish.
    assert detector.detect(text).code == "ku"
    assert detector.detect(text, prior="tr").code == "ku"


def test_turkish_is_not_taken_for_kurmanji_even_after_kurmanji(
    detector: LanguageDetector,
) -> None:
    assert detector.detect("yeni kimlik kartı için ne yapmam lazım", prior="ku").code == "tr"
    assert detector.detect("Teşekkürler", prior="ku").code == "tr"
    assert detector.detect("evet", prior="ku").code == "tr"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("سڵاو، دەمەوێت پاسپۆرتەکەم نوێ بکەمەوە", "ckb"),
        ("چۆن دەتوانم مۆڵەتی نیشتەجێبوون وەربگرم؟", "ckb"),
        ("ژوانێکم پێویستە لە شارەوانی", "ckb"),
        ("مرحبا، أين يمكنني تجديد جواز سفري؟", "ar"),
        ("أحتاج إلى موعد في البلدية", "ar"),
        ("Де я можу продовжити свій паспорт?", "uk"),
        ("скільки коштує посвідка на проживання", "uk"),
        ("Где я могу продлить свой паспорт?", "ru"),
        ("мне нужна запись на приём в ведомство", "ru"),
    ],
)
def test_other_scripts_are_unsupported(detector: LanguageDetector, text: str, code: str) -> None:
    guess = detector.detect(text)
    assert guess.code == code
    assert not guess.supported
    # The conversation's language must not pull a message in another script into it.
    assert not detector.detect(text, prior="de").supported


@pytest.mark.parametrize("text", ["Дякую", "Спасибо", "شكرا", "سوپاس", "سڵاو"])
def test_short_words_in_other_scripts_are_unsupported(
    detector: LanguageDetector, text: str
) -> None:
    assert not detector.detect(text, prior="ku").supported


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("quiero saber cuanto cuesta el permiso de residencia", "es"),
        ("Waar kan ik mijn paspoort verlengen?", "nl"),
        ("Olá, onde posso renovar o meu passaporte?", "pt"),
        ("Tôi có thể gia hạn hộ chiếu ở đâu?", "vi"),
    ],
)
def test_unsupported_latin_languages(detector: LanguageDetector, text: str, code: str) -> None:
    guess = detector.detect(text)
    assert guess.code == code
    assert not guess.supported


@pytest.mark.parametrize("text", ["", "   ", "12345", "0176 1234567", "😀", "👍👍", "?!", "3.50 €"])
def test_nothing_to_say(detector: LanguageDetector, text: str) -> None:
    assert detector.detect(text) == LanguageGuess(code="und", confidence=0.0, supported=False)


def test_neutral_word_without_prior_is_undetermined(detector: LanguageDetector) -> None:
    assert detector.detect("ok").code == "und"
    assert detector.detect("ok", prior="pl").code == "pl"


@pytest.mark.parametrize(
    ("text", "prior"),
    [
        ("Danke", "en"),
        ("Reisepass?", "en"),
        ("ok", "fr"),
        ("Okay!", "tr"),
        ("Termin?", "tr"),
        ("Anmeldung", "it"),
        ("grazie", "fr"),
        ("spas", "de"),
        ("tamam", "ku"),
        ("thanks", "de"),
        ("ok danke", "pl"),
        ("Kita", "fr"),
    ],
)
def test_prior_wins_on_short_ambiguous_messages(
    detector: LanguageDetector, text: str, prior: str
) -> None:
    guess = detector.detect(text, prior=prior)
    assert guess.code == prior
    assert 0.0 < guess.confidence <= 1.0


def test_without_prior_short_messages_get_their_own_language(
    detector: LanguageDetector,
) -> None:
    # The same words as above, now with nothing to lean on.
    assert detector.detect("Danke").code == "de"
    assert detector.detect("Reisepass?").code == "de"
    assert detector.detect("grazie").code == "it"
    assert detector.detect("thanks").code == "en"


@pytest.mark.parametrize(
    ("text", "prior", "expected"),
    [
        ("Teşekkürler", "de", "tr"),
        ("Dziękuję bardzo", "en", "pl"),
        ("merci beaucoup", "de", "fr"),
        ("yes please", "de", "en"),
        ("Ez dixwazim", "tr", "ku"),
        ("ben istiyorum", "ku", "tr"),
        ("en français svp", "de", "fr"),
        ("türkçe lütfen", "de", "tr"),
    ],
)
def test_short_message_clearly_in_another_language_beats_prior(
    detector: LanguageDetector, text: str, prior: str, expected: str
) -> None:
    assert detector.detect(text, prior=prior).code == expected


def test_prior_does_not_override_a_real_sentence(detector: LanguageDetector) -> None:
    text = "Guten Tag, ich möchte meinen Wohnsitz ummelden, welche Unterlagen brauche ich?"
    assert detector.detect(text, prior="tr").code == "de"
    assert detector.detect("where do i have to go to register my new address", prior="it").code == (
        "en"
    )


def test_prior_is_case_insensitive_and_unknown_priors_are_ignored(
    detector: LanguageDetector,
) -> None:
    assert detector.detect("Danke", prior="EN").code == "en"
    assert detector.detect("Danke", prior="xx").code == "de"
    assert detector.detect("ok", prior="ar") == detector.detect("ok")


def test_links_and_addresses_do_not_decide(detector: LanguageDetector) -> None:
    text = "ich kann https://www.example.com/terminbuchung nicht öffnen, info@example.com"
    assert detector.detect(text).code == "de"


@pytest.mark.parametrize(
    "text",
    [
        *(t for texts in MESSAGES.values() for t in texts),
        "Danke",
        "a",
        "I",
        "hmm ok",
        "Привет",
        "سوپاس",
        "これは日本語です",
        "x" * 5000,
        "Hallo " * 800,
    ],
)
@pytest.mark.parametrize("prior", [None, "de", "ku"])
def test_confidence_is_a_probability(
    detector: LanguageDetector, text: str, prior: str | None
) -> None:
    guess = detector.detect(text, prior=prior)
    assert 0.0 <= guess.confidence <= 1.0
    assert not math.isnan(guess.confidence)
    assert guess.supported == (guess.code in SUPPORTED_LANGUAGES)


def test_confident_on_clear_text_and_unsure_on_a_lone_word(detector: LanguageDetector) -> None:
    clear = detector.detect("Wie lange dauert es, bis mein neuer Personalausweis fertig ist?")
    assert clear.confidence > 0.99
    assert detector.detect("Termin").confidence < clear.confidence


def _write_sib(directory: Path, stem: str, split: str, texts: list[str]) -> None:
    lines = ["index_id\tcategory\ttext"]
    lines += [f"{i}\ttravel\t{text}" for i, text in enumerate(texts)]
    (directory / f"{stem}.{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_evaluate_on_sib_counts_per_language(detector: LanguageDetector, tmp_path: Path) -> None:
    sentences = {
        "deu_Latn": ["Der Bus fährt heute wegen einer Baustelle nicht bis zum Bahnhof."],
        "eng_Latn": ["The bus does not go to the station today because of roadworks."],
        "fra_Latn": ["Le bus ne va pas à la gare aujourd'hui à cause des travaux."],
        "ita_Latn": ["Oggi l'autobus non arriva alla stazione a causa dei lavori stradali."],
        "pol_Latn": ["Autobus nie jedzie dziś na dworzec z powodu robót drogowych."],
        "tur_Latn": ["Otobüs bugün yol çalışması nedeniyle istasyona gitmiyor."],
        "kmr_Latn": ["Îro otobûs ji ber xebatên rê naçe îstasyonê."],
        # Sorani is "correct" when labelled unsupported; the second line is Kurmanji,
        # which is supported and so must count as a miss.
        "ckb_Arab": ["ئەمڕۆ پاسەکە بەهۆی کاری ڕێگاوە ناچێتە وێستگە.", "Îro otobûs naçe îstasyonê."],
    }
    for stem, texts in sentences.items():
        _write_sib(tmp_path, stem, "dev", texts)
    # A quote inside a sentence must not swallow the following rows.
    _write_sib(tmp_path, "eng_Latn", "dev", ['He said "the office is closed', "today it rains"])

    result = evaluate_detector(detector, tmp_path, split="dev", prefix_words=4)

    assert set(result) == set(sentences)
    for stem in ("deu_Latn", "fra_Latn", "ita_Latn", "pol_Latn", "tur_Latn", "kmr_Latn"):
        assert result[stem] == {"n": 1.0, "sentence_acc": 1.0, "prefix_acc": 1.0}, stem
    assert result["eng_Latn"]["n"] == 2.0
    assert result["eng_Latn"]["sentence_acc"] == 1.0
    assert result["ckb_Arab"] == {"n": 2.0, "sentence_acc": 0.5, "prefix_acc": 0.5}


SIB_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "sib200_lid"


@pytest.mark.skipif(not SIB_DIR.is_dir(), reason="SIB-200 data is not beside this checkout")
def test_targets_on_sib200_dev(detector: LanguageDetector) -> None:
    result = evaluate_detector(detector, SIB_DIR, split="dev", prefix_words=4)
    assert len(result) == 8
    for stem, row in result.items():
        assert row["n"] > 0, stem
        if stem == "ckb_Arab":
            assert row["sentence_acc"] == 1.0
            assert row["prefix_acc"] == 1.0
        else:
            assert row["sentence_acc"] >= 0.99, (stem, row)
            assert row["prefix_acc"] >= 0.95, (stem, row)
