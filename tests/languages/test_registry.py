"""The per-language data files."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatbot.language import SUPPORTED_LANGUAGES
from chatbot.languages import (
    Aspect,
    LanguageDataError,
    load_language,
    load_languages,
    without_words,
)
from chatbot.languages.registry import DATA_DIR
from chatbot.text import normalise


def test_every_supported_language_has_complete_data() -> None:
    languages = load_languages(SUPPORTED_LANGUAGES)
    for code, data in languages.items():
        assert data.code == code
        assert set(data.aspects) == set(Aspect), code
        assert data.appointment_request, code
        assert data.human_request, code
        assert data.complaint, code
        assert data.case_status.document, code
        assert data.case_status.ready, code
        assert data.small_talk.greeting, code
        assert data.small_talk.thanks, code
        assert len(data.weekdays) == 7, code


@pytest.mark.parametrize(("lang", "question", "aspects"), [
    ("de", "perso abgelaufen was kostet der neue", [Aspect.FEE, Aspect.VALIDITY]),
    ("en", "what documents do i need to bring", [Aspect.DOCUMENTS]),
    ("pl", "ile kosztuje prawo jazdy i jak dlugo sie czeka", [Aspect.FEE, Aspect.DURATION]),
    ("tr", "ehliyet icin ne kadar ucret odenir", [Aspect.FEE]),
    ("tr", "pasaport ne kadar surer", [Aspect.FEE, Aspect.DURATION]),
    ("ku", "sperrmüll belaş e an pere dixwaze?", [Aspect.FEE]),
    ("ku", "divê ez biguherim? heta kenge", [Aspect.DEADLINE]),
    ("it", "prenotazione targa quanto tempo vale", [Aspect.DURATION, Aspect.APPOINTMENT,
                                                   Aspect.VALIDITY]),
    ("de", "wohngeld wie beantragen", [Aspect.PROCEDURE]),
    ("en", "how do i register the business and whats the fee", [Aspect.FEE, Aspect.PROCEDURE]),
    ("fr", "wohngeld comment faire la demande", [Aspect.PROCEDURE]),
    ("pl", "gdzie sie zapisac na pouczenie", [Aspect.PROCEDURE]),
    ("tr", "Führungszeugnis nasil alirim", [Aspect.PROCEDURE]),
    ("ku", "formular li ku ye", [Aspect.PROCEDURE]),
    ("it", "come si rinnova la patente", [Aspect.PROCEDURE]),
    ("tr", "bebegim icin pasaport", [Aspect.CHILD]),
    ("en", "what does my 3 year old need", [Aspect.CHILD]),
    ("en", "what even is a WBS and how do i know if i qualify",
     [Aspect.ELIGIBILITY, Aspect.PROCEDURE]),
    ("fr", "etudiant avec un petit job, j ai droit au wohngeld ou pas", [Aspect.ELIGIBILITY]),
    ("pl", "potrzebuje gesundheitszeugnis, trzeba sie umawiac?", [Aspect.APPOINTMENT]),
    # asking for an appointment, not who may have the service: the booking stays
    ("tr", "pasaport icin randevu alabilir miyim", [Aspect.APPOINTMENT]),
    ("de", "Termin für Personalausweis, wer kann mir helfen?", [Aspect.APPOINTMENT]),
    # how long it takes, as typed
    ("it", "rinnovo carta d identita quanto ci vuole", [Aspect.DURATION]),
    ("de", "perso neu wie viele tage bis er da ist", [Aspect.DURATION]),
    ("tr", "oturum izni uzatma kac ay suruyo", [Aspect.DURATION]),
    ("ku", "pasaport kengê amade dibe", [Aspect.DURATION]),
    ("ku", "ji bo hemwelatiyê çend meh lazim e", [Aspect.DURATION]),
    # whom to turn to
    ("en", "my money didnt come this month. who do i contact", [Aspect.CONTACT]),
    ("fr", "ce mois rien reçu sur le compte, je m'adresse a qui?", [Aspect.CONTACT]),
    ("de", "an wen wende ich mich wenn das geld nicht kommt", [Aspect.CONTACT]),
    ("tr", "asylbewerberleistung bu ay yatmadi kime sormam lazim", [Aspect.CONTACT]),
    ("ku", "alîkarî nehat, ez ji kê bipirsim?", [Aspect.CONTACT]),
    # "a qui" begins "a quitter", "ji kê" begins "ji kengî", "a chi" begins "a chiedere"
    ("fr", "je dois quitter l'appartement a quitter avant juin", []),
    ("ku", "ji kengî ve", []),
    ("it", "devo andare a chiedere al comune", []),
    # someone else on the citizen's behalf
    ("tr", "oturum kartim hazir, esim benim yerime alabilir mi", [Aspect.PROXY]),
    ("de", "kann mein mann den ausweis fuer mich abholen", [Aspect.PROXY]),
    ("it", "mio marito puo ritirarlo al posto mio?", [Aspect.PROXY]),
    ("pl", "czy zona moze odebrac za mnie", [Aspect.PROXY]),
    ("fr", "mon mari peut la recuperer a ma place?", [Aspect.PROXY]),
    # a phone, a contact lens, "za mniej", a new place or a car in one's name is neither
    ("tr", "telefonumu kaybettim", []),
    ("pl", "zgubilem telefon", []),
    ("it", "ho perso il telefono", []),
    ("en", "can i pay contactless at the citizens office", [Aspect.FEE]),
    ("fr", "faut il joindre une copie du passeport", []),
    ("pl", "czy to kosztuje za mniej niz 10 euro", [Aspect.FEE]),
    ("tr", "yeni yerime tasindim", []),
    ("tr", "adima kayitli araci sattim", []),
    ("en", "someone else lives in my flat now", []),
])
def test_aspects_typed_without_accents(lang: str, question: str,
                                       aspects: list[Aspect]) -> None:
    assert load_language(lang).asks(question) == aspects


@pytest.mark.parametrize(("lang", "heading", "aspect"), [
    ("de", "Gebühren", Aspect.FEE), ("tr", "Ücretler (Gebühren)", Aspect.FEE),
    ("ku", "Belgeyên pêwîst (Unterlagen)", Aspect.DOCUMENTS),
    ("it", "Tempi di lavorazione", Aspect.DURATION), ("pl", "Wizyta i kontakt",
                                                      Aspect.APPOINTMENT),
    ("de", "So stellen Sie den Antrag", Aspect.PROCEDURE),
    ("fr", "Demande en ligne", Aspect.PROCEDURE), ("pl", "Jak złożyć wniosek", Aspect.PROCEDURE),
    ("ku", "Serlêdana bi înternetê", Aspect.PROCEDURE), ("tr", "İşleyiş", Aspect.PROCEDURE),
    ("it", "Dove e quando?", Aspect.PROCEDURE),
    ("de", "Was bringe ich mit?", Aspect.DOCUMENTS), ("fr", "Que dois-je apporter ?",
                                                     Aspect.DOCUMENTS),
    ("tr", "Yanımda ne getirmeliyim?", Aspect.DOCUMENTS),
    ("ku", "Ez çi bi xwe re bînim?", Aspect.DOCUMENTS),
    ("en", "Who can get a WBS?", Aspect.ELIGIBILITY), ("de", "Wer hat Anspruch?",
                                                       Aspect.ELIGIBILITY),
    ("tr", "Kimler hak sahibidir?", Aspect.ELIGIBILITY), ("ku", "Kî mafdar e?",
                                                          Aspect.ELIGIBILITY),
    ("pl", "Warunki ogólne", Aspect.ELIGIBILITY), ("it", "Chi ne ha diritto?",
                                                   Aspect.ELIGIBILITY),
    ("de", "Termin und Kontakt", Aspect.CONTACT), ("it", "Contatti", Aspect.CONTACT),
    ("tr", "İletişim", Aspect.CONTACT), ("ku", "Têkilî", Aspect.CONTACT),
])
def test_article_headings_answer_aspects(lang: str, heading: str, aspect: Aspect) -> None:
    assert load_language(lang).answers(heading, aspect)


@pytest.mark.parametrize(("lang", "heading"), [
    ("de", "Wann brauche ich ihn?"), ("pl", "Jakiego dokumentu potrzebuję?"),
    ("ku", "Dema pêvajoyê"), ("de", "Sonderregeln"), ("de", "Wer kann es beantragen?"),
    ("de", "PIN-Brief und Online-Ausweis"), ("de", "Was passiert nach Ablauf der Frist?"),
    ("de", "Fristen: rechtzeitig beantragen"), ("tr", "Plaka nasıl oluşur?"),
    ("ku", "Kî dikare serlêdanê bike?"), ("en", "Who submits the application?"),
])
def test_procedure_headings_are_not_every_question_heading(lang: str, heading: str) -> None:
    # "jak" begins "jakiego", "so" begins "Sonderregeln", "pêvajo" (procedure) is also the
    # processing time: only whole phrases count
    assert not load_language(lang).answers(heading, Aspect.PROCEDURE)


@pytest.mark.parametrize(("lang", "heading", "aspect"), [
    # The Polish articles use the German loan word "Termin" for the appointment section.
    ("pl", "Termin", Aspect.DEADLINE),
    ("pl", "Brak wolnych terminów?", Aspect.DEADLINE),
    # "cost" would match "costruire" (to build).
    ("it", "Costruire senza permesso", Aspect.FEE),
    ("it", "Quando serve un permesso di costruire?", Aspect.FEE),
    ("it", "Appuntamento (Termin)", Aspect.DEADLINE),
    # "where can I get it", the documents required, a certificate: not who may have it
    ("tr", "Nereden alabilirim?", Aspect.ELIGIBILITY),
    ("pl", "Wymagane dokumenty (Unterlagen)", Aspect.ELIGIBILITY),
    ("ku", "Sertîfîkaya niştecîbûnê", Aspect.ELIGIBILITY),
    # Polish deadlines ("Terminy", "Termin ustawowy") are not the appointment ("Wizyta")
    ("pl", "Terminy (Fristen)", Aspect.APPOINTMENT),
    ("pl", "Termin ustawowy", Aspect.APPOINTMENT),
])
def test_headings_that_look_like_an_aspect_do_not_answer_it(lang: str, heading: str,
                                                            aspect: Aspect) -> None:
    assert not load_language(lang).answers(heading, aspect)


@pytest.mark.parametrize(("lang", "heading", "aspect"), [
    ("pl", "Termin ustawowy", Aspect.DEADLINE), ("pl", "Terminy (Fristen)", Aspect.DEADLINE),
    ("pl", "Co się dzieje po upływie terminu?", Aspect.DEADLINE),
    ("pl", "Termin", Aspect.APPOINTMENT), ("pl", "Wizyta (Termin)", Aspect.APPOINTMENT),
    ("pl", "Termin wizyty", Aspect.APPOINTMENT),
    ("pl", "Brak wolnych terminów?", Aspect.APPOINTMENT),
    ("it", "Costi (Gebühren)", Aspect.FEE), ("it", "Costo", Aspect.FEE),
    # Italian deadline sections are "Termine" (singular), Kurmanji ones "Dema dawî ...".
    ("it", "Termine", Aspect.DEADLINE), ("ku", "Dema dawî ji bo ehliyetên kaxezî",
                                         Aspect.DEADLINE),
    ("fr", "Combien de temps la réservation est-elle valable ?", Aspect.VALIDITY),
    ("it", "Quanto vale la prenotazione?", Aspect.VALIDITY),
])
def test_corrected_cues_still_find_their_sections(lang: str, heading: str,
                                                  aspect: Aspect) -> None:
    assert load_language(lang).answers(heading, aspect)


def test_cues_are_written_as_they_are_compared() -> None:
    """Cues are matched against normalised text as written: a cue with an accent would
    never match (the words pointing back are normalised when compared)."""
    for code in SUPPORTED_LANGUAGES:
        data = load_language(code)
        lists = [data.appointment_request, data.appointment_change, data.human_request,
                 data.complaint, *data.other_authorities.values(),
                 *data.neighbouring_matters.values()]
        lists += [c for cues in data.aspects.values()
                  for c in (cues.question, cues.heading, cues.heading_not, cues.text)]
        if data.foreign_documents is not None:
            documents = data.foreign_documents
            lists += [documents.nationalities, documents.nationality_words,
                      documents.documents, documents.german]
        for cues in lists:
            for cue in cues:
                assert normalise(cue) == cue, (code, cue)


@pytest.mark.parametrize(("lang", "text"), [
    ("de", "Sie können eine andere Person mit einer schriftlichen Vollmacht schicken."),
    ("en", "Another person can collect it with a written power of attorney."),
    ("fr", "Une autre personne peut le retirer avec une procuration écrite."),
    ("it", "Può ritirarlo un'altra persona con una delega scritta."),
    ("pl", "Może to zrobić inna osoba z pisemnym pełnomocnictwem."),
    ("tr", "Vekaletname verilen bir kişi de teslim alabilir."),
    ("ku", "Kesekî bi wekaletnameyê jî dikare wê bistîne."),
])
def test_a_section_that_names_the_authorisation_answers_a_proxy_question(
        lang: str, text: str) -> None:
    data = load_language(lang)
    # whatever its heading: the authorisation is said under collection or documents
    assert data.section_answers(Aspect.PROXY)("Abholung", text)
    assert not data.section_answers(Aspect.PROXY)("Abholung", "Bringen Sie Ihren Pass mit.")
    assert not data.section_answers(Aspect.FEE)("Abholung", text)


def test_appointment_requests() -> None:
    assert load_language("en").requests_appointment("I need an appointment")
    assert load_language("tr").requests_appointment("randevu almak istiyorum")
    assert not load_language("de").requests_appointment("Was kostet ein Reisepass?")


TOY_TEXT_DATA = ('detection: {letters: "ŧ", function_words: "zis iz"}\n'
                 "analysis: {prefix: 4, umlaut_digraphs: false, stopwords: zis}\n")


def test_a_new_language_is_a_data_file(tmp_path: Path) -> None:
    (tmp_path / "xx.yaml").write_text(
        "code: xx\nname: Toy\nappointment_request: [rendezvu]\nhuman_request: [hooman]\n"
        "complaint: [complein]\nappointment_change: [kansel]\n"
        "refers_back: [zat]\nweekdays: [d1, d2, d3, d4, d5, d6, d7]\n"
        "small_talk: {greeting: [hai], thanks: [tanks], goodbye: [bai]}\n"
        "case_status: {document: [mai pas], ready: [redi]}\n"
        "defect_report: {defect: [hool], thing: [lamp], broken: [brok], report: [ripot],\n"
        "  status: [statu], categories: {street_light: L, pothole: P, illegal_dumping: D,\n"
        "  playground: G, graffiti: F, other: O}}\n"
        + TOY_TEXT_DATA + "aspects:\n"
        + "".join(f"  {a.value}:\n    question: [{a.value}q]\n    heading: [{a.value}h]\n"
                  for a in Aspect), encoding="utf-8")
    toy = load_language("xx", tmp_path)
    assert toy.detection.words == {"zis", "iz"}
    assert (toy.analysis.prefix, toy.analysis.stemmer) == (4, None)
    assert toy.asks("feeq?") == [Aspect.FEE]
    assert toy.requests_appointment("rendezvu plz")
    assert toy.requests_person("a hooman please")
    assert toy.points_back(["and", "zat"])
    assert toy.weekdays[0] == "d1"
    assert toy.asks_case_status("iz mai pas redi")
    assert not toy.asks_case_status("iz a pas redi")
    assert toy.reports_defect("hool zis")
    assert toy.reports_defect("lamp iz brok")
    assert not toy.reports_defect("lamp iz on")
    assert toy.asks_defect_status("statu ov ripot 7")


def test_broken_or_missing_language_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(LanguageDataError, match=r"yy\.yaml: no language file"):
        load_language("yy", tmp_path)
    (tmp_path / "zz.yaml").write_text("code: zz\nname: Z\naspects: {fee: {}}\n"
                                      "appointment_request: []\n", encoding="utf-8")
    with pytest.raises(LanguageDataError, match=r"zz\.yaml"):
        load_language("zz", tmp_path)
    # Text analysis needs exactly one of a known Snowball stemmer or a prefix length.
    en = (DATA_DIR / "en.yaml").read_text(encoding="utf-8")
    for analysis in ("stemmer: english\n  prefix: 5", "stemmer: klingon"):
        (tmp_path / "en.yaml").write_text(
            en.replace("stemmer: english", analysis), encoding="utf-8")
        with pytest.raises(LanguageDataError, match=r"(?s)en\.yaml.*(either a Snowball|klingon)"):
            load_language("en", tmp_path)
    (tmp_path / "ww.yaml").write_text("code: [", encoding="utf-8")
    with pytest.raises(LanguageDataError, match="not valid YAML"):
        load_language("ww", tmp_path)


@pytest.mark.parametrize(("lang", "question"), [
    ("ku", "ji kurê min re pasaport"), ("pl", "jak się masz"), ("it", "lavoro come badante"),
    ("de", "wie geht es dir"), ("fr", "ou peut-être demain"),
])
def test_words_that_only_look_like_asking_how_or_where(lang: str, question: str) -> None:
    assert Aspect.PROCEDURE not in load_language(lang).asks(question)


@pytest.mark.parametrize(("lang", "question", "named"), [
    # German names are German data: the dialogue checks them in every language's message
    ("de", "jak zlozyc wniosek o kindergeld", ["child_benefit"]),
    ("pl", "ile kosztuje basen dla dzieci", ["pools"]),
    ("fr", "horaires de la piscine", ["pools"]),
    ("it", "come si fa la dichiarazione dei redditi in germania", ["tax"]),
    ("tr", "sehir kutuphanesine uye olmak istiyorum", ["library"]),
    # the dog tax is the city's: only a tax return is the tax office's
    ("fr", "c combien l impot sur les chiens", []),
    ("de", "Reisepass beantragen", []),
])
def test_what_other_authorities_handle(lang: str, question: str, named: list[str]) -> None:
    assert load_language(lang).other_authorities_named(question) == named


@pytest.mark.parametrize(("lang", "question", "named"), [
    ("it", "iscrizione scuola superiore per mio figlio", ["schools"]),
    ("ku", "min ceza parkkirinê girt", ["traffic_fines"]),
    ("de", "Auto verkauft, damit ich keine Strafzettel mehr bekomme", ["traffic_fines"]),
    # starting primary school is the school-entry examination's
    ("tr", "kizim ilkokula baslayacak, saglik kontrolu ne zaman", []),
])
def test_what_neighbouring_bodies_handle(lang: str, question: str, named: list[str]) -> None:
    assert load_language(lang).neighbouring_matters_named(question) == named


def test_words_of_a_cue_are_left_out_and_the_rest_stays_as_written() -> None:
    assert (without_words("sold my car but the Parking tickets still come", ["parking ticket"])
            == "sold my car but the still come")
    assert without_words("Einbürgerung: darf ich den Pass behalten?", ["pass"],
                         whole=["den"]) == "Einbürgerung: darf ich behalten?"


def test_german_names_every_concept_of_other_authorities() -> None:
    """Citizens type the German name in any language ("kindergeld" in Kurmanji): a concept
    without German words would be found only in the language that names it."""
    for field in ("other_authorities", "neighbouring_matters"):
        concepts = {code: set(getattr(load_language(code), field))
                    for code in SUPPORTED_LANGUAGES}
        assert concepts["de"] >= set().union(*concepts.values()), field


@pytest.mark.parametrize(("lang", "question", "named"), [
    ("en", "how do i renew my indian passport here", True),
    ("en", "my american passport expires soon", True),
    ("it", "devo rinnovare il passaporto italiano", True),
    ("pl", "zgubilam polski dowod osobisty", True),
    ("tr", "Almanya'da türk pasaportumu yenileyebilir miyim", True),
    ("ku", "pasaporta min a tirkî xilas bû", True),
    # no nationality, or the German one beside it: the city's own documents
    ("en", "can I use my passport to register", False),
    ("de", "mein Sohn hat einen türkischen und einen deutschen Pass", False),
    ("tr", "oglumun alman ve turk pasaportu var", False),
    # a country as the destination ("to Turkey") is no nationality
    ("tr", "Türkiye'ye gideceğiz çocuğa pasaport lazım", False),
    # a nationality far from the document word
    ("en", "i am polish and moved here last week, do i need to register my address "
           "with my passport", False),
    # a language or a destination, not a nationality
    ("en", "can i apply for a passport in english", False),
    ("de", "Kann ich den Reisepass auch auf Englisch beantragen", False),
    ("fr", "je pars en suisse, il faut passeport ou carte d identite suffit", False),
    ("en", "please tell us about passport fees", False),
    ("tr", "pasaport fotografi cek ve getir mi", False),
    ("it", "sono straniero, serve il passaporto per la residenza", False),
    ("ku", "em diçin Tirkiyê, pasaporta zarokê lazim e", False),
    ("ku", "kurê min pasaporta almanî û tirkî heye", False),
])
def test_a_passport_or_id_card_of_another_country(lang: str, question: str,
                                                  named: bool) -> None:
    assert load_language(lang).names_foreign_document(question) is named


def test_a_foreign_document_leaves_what_else_the_message_asks() -> None:
    assert (load_language("en").without_foreign_document("can I keep my British passport?")
            == "can I keep my")
