"""The jargon buster: acronyms become <abbr>, explained in the text on first use, and the HTML stays safe."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from bs4 import BeautifulSoup
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kb.models import GlossaryTerm
from kb.rendering import render_markdown, sanitise
from kb.services.jargon import explain_acronyms
from tests.conftest import examples

ACE = GlossaryTerm(term="ACE", expansion="Asset Confiscation Team", aliases=["asset confiscation team"])
CPS = GlossaryTerm(term="CPS", expansion="Crown Prosecution Service", aliases=["crown prosecution service"])
RA = GlossaryTerm(term="R&A", expansion="Research and Analysis", aliases=["research & analysis"])
TERMS = [ACE, CPS, RA]


def explain(markdown: str, terms=TERMS) -> BeautifulSoup:
    return BeautifulSoup(str(explain_acronyms(render_markdown(markdown), terms)), "html.parser")


def test_first_use_is_spelt_out_and_later_uses_have_a_title_only():
    page = explain("ACE works hard. Later, ACE again.")
    abbrs = page.find_all("abbr")
    assert [a.get_text() for a in abbrs] == ["ACE", "ACE"]
    assert all(a["title"] == "Asset Confiscation Team" for a in abbrs)
    assert page.get_text() == "ACE (Asset Confiscation Team) works hard. Later, ACE again.\n"


def test_no_second_expansion_where_the_writer_already_spelt_it_out():
    before = explain("The Crown Prosecution Service (CPS) decides. CPS again.")
    assert before.get_text() == "The Crown Prosecution Service (CPS) decides. CPS again.\n"
    assert len(before.find_all("abbr")) == 2
    after = explain("CPS (Crown Prosecution Service) decides.")
    assert after.get_text() == "CPS (Crown Prosecution Service) decides.\n"
    # An alias counts as spelling it out, across the boundary of a link too.
    linked = explain("The [Asset Confiscation Team](/capabilities/asset-confiscation-team) (ACE) works.")
    assert linked.get_text() == "The Asset Confiscation Team (ACE) works.\n"


def test_a_bare_acronym_in_brackets_is_explained_inside_them():
    page = explain("The team (ACE) works.")
    assert page.get_text() == "The team (ACE, Asset Confiscation Team) works.\n"


@pytest.mark.parametrize("text", ["FACE and ACES", "ace in lower case", "ACE_x", "xACE"])
def test_only_whole_words_in_the_same_case_are_marked(text):
    assert explain(text).find("abbr") is None


@pytest.mark.parametrize(
    "markdown",
    [
        "[ACE team](/capabilities/asset-confiscation-team)",
        "Use `ACE` here",
        "```\nACE in a code block\n```",
    ],
)
def test_links_and_code_are_left_alone(markdown):
    page = explain(markdown)
    assert page.find("abbr") is None
    assert "Asset Confiscation Team" not in page.get_text()


def test_an_existing_abbr_is_not_marked_twice():
    html = sanitise('<p><abbr title="Our own words">ACE</abbr> then ACE</p>')
    page = BeautifulSoup(str(explain_acronyms(html, TERMS)), "html.parser")
    abbrs = page.find_all("abbr")
    assert [a["title"] for a in abbrs] == ["Our own words", "Asset Confiscation Team"]


def test_headings_get_a_title_but_the_text_explains_the_first_use_below():
    page = explain("## What ACE does\n\nACE enforces orders.")
    assert page.h2.get_text() == "What ACE does"
    assert page.h2.abbr["title"] == "Asset Confiscation Team"
    assert page.p.get_text() == "ACE (Asset Confiscation Team) enforces orders."


def test_acronyms_with_symbols_and_entities_survive():
    page = explain("R&A writes reports; 5 < 6 & so on.")
    assert page.abbr.get_text() == "R&A"
    assert page.p.get_text() == "R&A (Research and Analysis) writes reports; 5 < 6 & so on."


def test_a_hostile_glossary_cannot_inject_markup():
    evil = GlossaryTerm(term="EVIL", expansion='"><script>alert(1)</script><b onclick="x">', aliases=[])
    html = str(explain_acronyms(render_markdown("EVIL here"), [evil]))
    page = BeautifulSoup(html, "html.parser")
    assert page.find("script") is None and page.find("b") is None
    assert page.abbr["title"] == evil.expansion  # kept as text, quoted
    assert html == str(sanitise(html))


def test_plain_text_is_escaped_and_no_terms_means_no_change():
    assert str(explain_acronyms("<b>ACE</b>", [])) == "&lt;b&gt;ACE&lt;/b&gt;"
    rendered = render_markdown("Nothing to see")
    assert explain_acronyms(rendered, []) == rendered


ALPHABET = st.sampled_from(
    ["ACE", "CPS", "R&A", " ", "(", ")", "<", ">", "&", '"', "*", "`", "[x](/y)", "\n\n"]
)


def text_of_html(html: str) -> str:
    """Every character of text in ``html``, exactly (BeautifulSoup drops a whitespace-only string between
    two tags, so ``x</a>  <abbr>`` reads as one space: the cause of a false failure Hypothesis found)."""

    class Collector(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    collector = Collector()
    collector.feed(html)
    collector.close()
    return "".join(collector.parts)


@settings(max_examples=examples(150), deadline=None)
@example("[x](/y)  ACE")
@example("ACE ACE  ACE")
@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_output_is_sanitised_and_only_adds_explanations(source):
    rendered = render_markdown(source)
    explained = str(explain_acronyms(rendered, TERMS))
    assert explained == str(sanitise(explained)), "the result must be a fixed point of the sanitiser"
    text = text_of_html(explained)
    for term in TERMS:
        text = text.replace(f" ({term.expansion})", "").replace(f", {term.expansion}", "")
    assert text == text_of_html(str(rendered))


def test_article_page_explains_the_glossary_acronyms(client):
    page = BeautifulSoup(client.get("/capabilities/asset-confiscation-team").data, "html.parser")
    body = page.select_one(".body")
    titles = {a.get_text(): a["title"] for a in body.find_all("abbr")}
    assert titles["POCA"] == "Proceeds of Crime Act 2002"
    assert titles["SEROCU"] == "South East Regional Organised Crime Unit"
    # Spelt out by the writer: "Proceeds of Crime Act 2002 (POCA)"; not by the writer: SEROCU.
    assert "Proceeds of Crime Act 2002 (POCA)" in body.get_text()
    assert "SEROCU (South East Regional Organised Crime Unit)" in body.get_text()
    assert all(a.find_parent("a") is None for a in body.find_all("abbr"))
    partners = page.find("dt", string="Works with").find_next_sibling("dd")
    assert "HMCTS (HM Courts and Tribunals Service)" in partners.get_text()
