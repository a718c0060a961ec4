"""Small-talk and human-request detection with short per-language word lists.

Small talk (greeting, thanks, goodbye) is recognised only when the whole message is
short and consists of such words, so "Hallo, ich brauche einen Pass" is a question.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class SmallTalk(StrEnum):
    GREETING = "greeting"
    THANKS = "thanks"
    GOODBYE = "goodbye"


_SMALL_TALK: dict[SmallTalk, tuple[str, ...]] = {
    SmallTalk.GREETING: (
        "hallo", "hi", "hey", "moin", "servus", "guten tag", "guten morgen", "guten abend",
        "hello", "good morning", "good afternoon", "good evening",
        "bonjour", "salut", "bonsoir", "ciao", "buongiorno", "buonasera", "salve",
        "dzien dobry", "czesc", "witam", "merhaba", "selam", "gunaydin", "iyi gunler",
        "silav", "roj bas", "rojbas", "merheba", "spas",  # "spas" handled as thanks below
    ),
    SmallTalk.THANKS: (
        "danke", "danke schon", "vielen dank", "dankeschon", "thanks", "thank you",
        "thx", "merci", "merci beaucoup", "grazie", "grazie mille", "dziekuje",
        "dzieki", "tesekkurler", "tesekkur ederim", "sag ol", "sagol", "spas",
        "gelek spas", "sipas", "zor spas",
    ),
    SmallTalk.GOODBYE: (
        "tschuss", "auf wiedersehen", "bye", "goodbye", "see you", "au revoir",
        "arrivederci", "do widzenia", "na razie", "hosca kal", "gorusuruz",
        "bi xatire te", "xatire te",
    ),
}

_FILLER = {"und", "and", "et", "e", "i", "ve", "u", "sehr", "very", "much", "so", "ok",
           "okay", "nochmal", "again", "bot", "chatbot", "team", "you", "dir", "ihnen"}

_HUMAN: tuple[str, ...] = (
    # de
    "mit einem menschen", "mit einer person", "echten menschen", "mitarbeiter sprechen",
    "sachbearbeiter", "ruckruf", "zuruckrufen", "beschwerde", "beschweren",
    "stand meines antrags", "stand meiner anfrage", "bearbeitungsstand",
    # en
    "human", "real person", "talk to a person", "speak to someone", "call me back",
    "callback", "call back", "complaint", "complain", "status of my application",
    "status of my case", "case status",
    # fr
    "parler a quelqu", "un humain", "une personne", "rappeler", "reclamation", "plainte",
    "etat de mon dossier",
    # it
    "parlare con una persona", "operatore", "richiamare", "reclamo", "stato della mia pratica",
    # pl
    "z czlowiekiem", "z konsultantem", "oddzwonic", "skarga", "reklamacja",
    "status mojej sprawy",
    # tr
    "bir insanla", "temsilci", "yetkili ile", "geri aramak", "geri arayin", "sikayet",
    "basvurumun durumu",
    # ku
    "bi mirovek", "bi kesek", "gilî", "gili", "rewsa dosyaya min",
)


def normalise(text: str) -> str:
    """Lower case, without accents and punctuation, single spaces."""
    text = text.lower().replace("ß", "ss").replace("ł", "l").replace("ı", "i")
    text = "".join(c for c in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(c))
    return " ".join(re.findall(r"\w+", text))


def small_talk(text: str) -> SmallTalk | None:
    """The small-talk kind when the message is nothing but a greeting/thanks/goodbye."""
    norm = normalise(text)
    if not norm or len(norm.split()) > 5:
        return None
    found: SmallTalk | None = None
    rest = f" {norm} "
    for kind in (SmallTalk.THANKS, SmallTalk.GOODBYE, SmallTalk.GREETING):
        for phrase in sorted(_SMALL_TALK[kind], key=len, reverse=True):
            if f" {phrase} " in rest:
                rest = rest.replace(f" {phrase} ", " ")
                found = found or kind
    if found is None:
        return None
    leftover = [w for w in rest.split() if w not in _FILLER]
    return found if not leftover else None


def asks_for_human(text: str) -> bool:
    """The citizen asks for a person, a callback, a complaint or their case status."""
    norm = f" {normalise(text)} "
    return any(f" {normalise(p)}" in norm for p in _HUMAN)
