from __future__ import annotations

from datetime import date

from chatbot.corpus import Article, chunk_article


def article(body: str, keywords: tuple[str, ...] = ()) -> Article:
    return Article(id="reisepass", lang="de", title="Reisepass beantragen", department="amt",
                   updated=date(2026, 10, 1), body=body, path="amt/reisepass.de.md",
                   keywords=keywords)


def test_chunks_follow_headings_and_carry_the_title() -> None:
    body = ("Kurz gesagt: persönlich beantragen.\n\n## Gebühren\n\n70 Euro.\n\n"
            "## Unterlagen\n\nFoto.")
    chunks = chunk_article(article(body, ("Pass", "Reisedokument")))
    assert [c.heading for c in chunks] == ["", "Gebühren", "Unterlagen"]
    assert chunks[1].text == "70 Euro."
    assert chunks[1].passage == "Reisepass beantragen\nGebühren\n70 Euro."
    assert chunks[1].lexical.endswith("Pass Reisedokument")
    assert [c.chunk_id for c in chunks] == [f"reisepass.de#{i}" for i in range(3)]


def test_long_sections_are_split_below_the_limit_without_losing_text() -> None:
    paragraphs = [f"Absatz {i}: " + "Wort " * 40 for i in range(6)]
    body = "## Ablauf\n\n" + "\n\n".join(paragraphs)
    chunks = chunk_article(article(body), max_chars=300)
    assert len(chunks) > 1
    assert all(len(c.text) <= 300 for c in chunks)
    joined = " ".join(c.text for c in chunks)
    assert all(p.split(":")[0] in joined for p in paragraphs)


def test_a_single_long_paragraph_is_split_at_sentences() -> None:
    body = " ".join(f"Satz Nummer {i} ist hier." for i in range(80))
    chunks = chunk_article(article(body), max_chars=200)
    assert len(chunks) > 3
    assert all(c.text.endswith(".") for c in chunks)


def test_content_hash_changes_only_with_content() -> None:
    a = chunk_article(article("## A\n\nText eins."))[0]
    b = chunk_article(article("## A\n\nText eins."))[0]
    c = chunk_article(article("## A\n\nText zwei."))[0]
    assert a.content_hash == b.content_hash != c.content_hash
