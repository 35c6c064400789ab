"""The editor pages: list, create, edit with preview, pending drafts, publishing, conflicts, history,
archive and delete, as an editor's browser would use them (forms read from the page, posted back)."""

from __future__ import annotations

import shutil

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from kb.extensions import db
from kb.models import Article, AuditEvent, Revision
from kb.services import articles, diffs
from tests.conftest import PASSWORD


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def text_of(element) -> str:
    """A text area's value as a browser reads it: HTML drops one newline right after <textarea>."""
    text = element.get_text()
    return text[2:] if text.startswith("\r\n") else text[1:] if text.startswith("\n") else text


def form_values(page: BeautifulSoup, selector: str = "form.article-form") -> list[tuple[str, str]]:
    """The fields a browser would send for this form (without the button), in page order."""
    form = page.select_one(selector)
    values: list[tuple[str, str]] = []
    for element in form.select("input, textarea, select"):
        name = element.get("name")
        if not name:
            continue
        if element.name == "textarea":
            values.append((name, text_of(element)))
        elif element.name == "select":
            chosen = element.select_one("option[selected]") or element.select_one("option")
            values.append((name, chosen.get("value", "")))
        elif element.get("type") in ("checkbox", "radio"):
            if element.has_attr("checked"):
                values.append((name, element.get("value", "")))
        else:
            values.append((name, element.get("value", "")))
    return values


def with_changes(values: list[tuple[str, str]], **changes) -> list[tuple[str, str]]:
    """Replace single fields (``body="..."``); a list replaces every value of a multi-value field."""
    out = [(k, v) for k, v in values if k not in changes]
    for key, value in changes.items():
        out += [(key, v) for v in value] if isinstance(value, list) else [(key, value)]
    return out


def post_form(client, url: str, values: list[tuple[str, str]], action: str = "save"):
    from werkzeug.datastructures import MultiDict

    return client.post(url, data=MultiDict([*values, ("action", action)]))


def error_summary(page: BeautifulSoup) -> list[tuple[str, str]]:
    return [(a.get_text(strip=True), a["href"]) for a in page.select(".error-summary__list a")]


def public_search_slugs(client, words: str) -> list[str]:
    page = soup(client.get("/search", query_string={"q": words}))
    return [a["href"].rsplit("/", 1)[-1] for a in page.select(".search-result__title a")]


def new_article_values(client, **changes) -> list[tuple[str, str]]:
    values = form_values(soup(client.get("/editor/articles/new")))
    base = {
        "title": "Quokka Analysis Cell",
        "summary": "Looks at quokkas.",
        "body": "Quokka **work**.",
        "area": "intelligence",
    }
    base.update(changes)
    return with_changes(values, **base)


@pytest.fixture
def editor(auth):
    return auth.login("editor")


@pytest.fixture
def anonymous(app):
    return app.test_client()


# --- The list -------------------------------------------------------------------------------------


def test_the_list_shows_every_article_with_status_visibility_change_and_author(client, editor):
    draft = articles.create_article(
        articles.ArticleData(title="Hidden draft", area="intelligence", visibility="internal"), author=editor
    )
    page = soup(client.get("/editor/"))
    headers = [th.get_text(strip=True) for th in page.select("#articles thead th")]
    assert headers == ["Title", "Status", "Visibility", "Area", "Last change", "By"]
    assert all(th["scope"] == "col" for th in page.select("#articles thead th"))
    rows = page.select("#articles tbody tr")
    assert len(rows) == db.session.scalar(select(func.count(Article.id)))
    row = next(r for r in rows if r.th.get_text(strip=True) == "Hidden draft")
    cells = [td.get_text(" ", strip=True) for td in row.select("td")]
    assert row.th["scope"] == "row"
    assert cells[0] == "Draft" and cells[1] == "Internal" and cells[2] == "Intelligence"
    assert "UTC" in cells[3] and cells[4] == editor.email
    assert row.th.a["href"] == f"/editor/articles/{draft.slug}/edit"


def test_the_list_filters_by_status_visibility_and_area(client, editor):
    articles.create_article(articles.ArticleData(title="Draft one", area="intelligence"), author=editor)
    page = soup(client.get("/editor/?status=draft"))
    assert [r.th.get_text(strip=True) for r in page.select("#articles tbody tr")] == ["Draft one"]
    assert page.select_one("#status-0")["value"] == "draft" and page.select_one("#status-0").has_attr(
        "checked"
    )
    page = soup(client.get("/editor/?area=economic-crime&visibility=public"))
    areas = {r.select("td")[2].get_text(strip=True) for r in page.select("#articles tbody tr")}
    assert areas == {"Economic crime"}


@pytest.mark.parametrize(
    "query",
    ["status=bogus", "area=<script>", "visibility=", "q=" + "x" * 5000, "q=%00%ff", "q=*", 'q="unbalanced'],
)
def test_the_list_ignores_junk_in_its_address(client, editor, query):
    response = client.get(f"/editor/?{query}")
    assert response.status_code == 200


def test_the_list_search_goes_through_the_index_with_drafts_included(client, editor, anonymous):
    articles.create_article(
        articles.ArticleData(
            title="Wombat desk", summary="s", body="A zyxwombat procedure.", area="intelligence"
        ),
        author=editor,
    )
    page = soup(client.get("/editor/?q=zyxwombat"))
    assert [r.th.get_text(strip=True) for r in page.select("#articles tbody tr")] == ["Wombat desk"]
    assert "best match first" in page.select_one(".result-count").get_text()
    assert public_search_slugs(anonymous, "zyxwombat") == []
    page = soup(client.get("/editor/?q=cryptocurrency"))
    first = page.select_one("#articles tbody tr th").get_text(strip=True)
    assert first.startswith("Cryptocurrency Unit") or "Crypto" in first


def test_the_list_falls_back_to_text_matching_while_the_index_is_missing(app, client, editor):
    shutil.rmtree(app.config["INDEX_DIR"])
    page = soup(client.get("/editor/?q=Gateway"))
    assert page.select_one("#search-unavailable") is not None
    assert "Gateway" in [r.th.get_text(strip=True) for r in page.select("#articles tbody tr")]
    builder = app.extensions.get("kb_search_builder")
    if builder is not None:
        builder.join(timeout=60)


# --- Create ---------------------------------------------------------------------------------------


def test_every_field_of_the_form_has_a_label(client, editor):
    page = soup(client.get("/editor/articles/new"))
    form = page.select_one("form.article-form")
    names = {e["name"] for e in form.select("input, textarea, select") if e.get("name")}
    expected = {
        "title",
        "summary",
        "body",
        "area",
        "tags",
        "roles",
        "visibility",
        "acronym",
        "parent",
    }
    assert expected | {"partners", "contact_public", "contact_internal", "note", "version"} <= names
    assert "status" not in names  # the buttons say what a save does
    for element in form.select("input:not([type=hidden]), textarea, select"):
        assert page.select_one(f"label[for='{element['id']}']"), element["id"]
    for group in ("tags", "roles", "visibility"):
        fieldset = form.select_one(f"#{group}-0").find_parent("fieldset")
        assert fieldset.legend.get_text(strip=True)


def test_a_form_with_errors_keeps_everything_typed_and_links_each_error(client, editor):
    values = new_article_values(client, title="", area="", body="Some **long** text I typed.", tags=["cyber"])
    response = post_form(client, "/editor/articles/new", values)
    assert response.status_code == 200
    page = soup(response)
    assert error_summary(page) == [("Enter a title", "#title"), ("Select an area", "#area")]
    assert page.title.get_text().startswith("Error:")
    assert text_of(page.select_one("#body")) == "Some **long** text I typed."
    assert page.select_one("#tags-0").has_attr("checked")
    assert page.select_one("#title")["aria-describedby"] == "title-error title-info"
    assert page.select_one("#title-error").get_text(" ", strip=True) == "Error: Enter a title"
    assert db.session.scalar(select(func.count(Article.id)).where(Article.title == "")) == 0


def test_too_long_input_is_an_error_not_a_crash(client, editor):
    values = new_article_values(client, title="T" * 500, summary="S" * 5000, acronym="A" * 100)
    page = soup(post_form(client, "/editor/articles/new", values))
    assert [href for _, href in error_summary(page)] == ["#title", "#acronym", "#summary"]


def test_unknown_choices_typed_into_the_form_are_errors(client, editor):
    values = new_article_values(client, area="nowhere", tags=["no-such-tag"], parent="no-such-article")
    page = soup(post_form(client, "/editor/articles/new", values))
    assert [href for _, href in error_summary(page)] == ["#area", "#parent", "#tags-0"]


def test_creating_an_article_records_author_revision_and_audit(client, editor, anonymous):
    values = new_article_values(client, status="published", note="First version", tags=["intelligence"])
    response = post_form(client, "/editor/articles/new", values)
    assert response.status_code == 303
    article = articles.get_by_slug("quokka-analysis-cell")
    assert response.location == "/editor/articles/quokka-analysis-cell/edit"
    assert (article.status, article.updated_by_id, [t.slug for t in article.tags]) == (
        "published",
        editor.id,
        ["intelligence"],
    )
    assert article.revisions[0].note == "First version" and article.revisions[0].author_id == editor.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "article.create"))
    assert (event.actor, event.target) == (editor.email, article.slug)
    assert anonymous.get("/capabilities/quokka-analysis-cell").status_code == 200
    assert public_search_slugs(anonymous, "quokka") == ["quokka-analysis-cell"]
    notice = soup(client.get(response.location)).select_one(".notice--success").get_text()
    assert "published" in notice


# --- Preview --------------------------------------------------------------------------------------


def test_preview_renders_through_the_public_sanitiser_and_saves_nothing(client, editor):
    values = new_article_values(
        client,
        body="## Heading\n\n<script>alert(1)</script> [x](javascript:alert(1)) **bold**",
        contact_internal="Internal desk 0123",
        contact_public="Public desk",
    )
    before = db.session.scalar(select(func.count(Article.id)))
    page = soup(post_form(client, "/editor/articles/new", values, action="preview-candidate"))
    preview = page.select_one("#preview")
    assert preview.h2.get_text(strip=True) == "Preview: what a candidate sees"
    body = preview.select_one(".prose")
    assert body.find("script") is None and body.h2.get_text() == "Heading" and body.strong
    assert not [a for a in body.select("a") if a.get("href", "").startswith("javascript")]
    assert "Internal desk" not in preview.get_text() and "Public desk" in preview.get_text()
    assert text_of(page.select_one("#body")).startswith("## Heading")  # the form keeps the text
    staff = soup(post_form(client, "/editor/articles/new", values, action="preview-staff")).select_one(
        "#preview"
    )
    assert "Internal desk 0123" in staff.get_text()
    assert db.session.scalar(select(func.count(Article.id))) == before


def test_a_candidate_preview_of_an_internal_article_says_they_cannot_see_it(client, editor):
    values = new_article_values(client, visibility="internal", body="Secret method")
    preview = soup(post_form(client, "/editor/articles/new", values, action="preview-candidate")).select_one(
        "#preview"
    )
    assert "Secret method" not in preview.get_text()
    assert "do not see this article" in preview.get_text()


def test_the_saved_draft_can_be_previewed_as_candidate_or_staff(client, editor):
    values = with_changes(
        form_values(soup(client.get("/editor/articles/gateway/edit"))),
        body="Draft words",
        contact_internal="Ask the Gateway duty desk",
        status="draft",
    )
    post_form(client, "/editor/articles/gateway/edit", values)
    for audience in ("candidate", "staff"):
        page = soup(client.get(f"/editor/articles/gateway/preview?as={audience}"))
        assert "Draft words" in page.select_one("#preview .prose").get_text()
    staff = soup(client.get("/editor/articles/gateway/preview?as=staff")).select_one("#preview").get_text()
    candidate = soup(client.get("/editor/articles/gateway/preview?as=candidate")).select_one("#preview")
    assert "Ask the Gateway duty desk" in staff
    assert "Ask the Gateway duty desk" not in candidate.get_text()
    assert client.get("/editor/articles/gateway/preview?as=<script>").status_code == 200


# --- Editing, pending drafts and publishing -------------------------------------------------------


def buttons(page: BeautifulSoup) -> dict[str, str]:
    """The article form's submit buttons: label -> the action they send."""
    return {b.get_text(strip=True): b["value"] for b in page.select("form.article-form button[name=action]")}


def test_a_draft_of_a_published_article_waits_until_it_is_published(client, editor, anonymous):
    edit_page = soup(client.get("/editor/articles/gateway/edit"))
    assert not edit_page.select("input[name=status]")
    assert {"Save draft": "draft", "Publish changes": "publish"}.items() <= buttons(edit_page).items()
    assert "readers keep seeing the published version" in edit_page.select_one("#save-summary").get_text()
    values = with_changes(form_values(edit_page), body="Brand new zyxplatypus text.")
    response = post_form(client, "/editor/articles/gateway/edit", values, action="draft")
    assert response.status_code == 303
    assert "zyxplatypus" not in anonymous.get("/capabilities/gateway").get_data(as_text=True)
    assert public_search_slugs(anonymous, "zyxplatypus") == []

    edit_page = soup(client.get("/editor/articles/gateway/edit"))
    assert text_of(edit_page.select_one("#body")) == "Brand new zyxplatypus text."
    assert "Unpublished changes" in edit_page.select_one(".article-state").get_text()
    assert not edit_page.select("form[action='/editor/articles/gateway/publish']")  # one way to publish
    response = post_form(client, "/editor/articles/gateway/edit", form_values(edit_page), action="publish")
    assert response.status_code == 303
    assert "zyxplatypus" in anonymous.get("/capabilities/gateway").get_data(as_text=True)
    assert public_search_slugs(anonymous, "zyxplatypus") == ["gateway"]


def test_a_new_article_is_a_draft_until_publish_is_pressed(client, editor, anonymous):
    page = soup(client.get("/editor/articles/new"))
    assert {"Save draft": "draft", "Publish": "publish"}.items() <= buttons(page).items()
    values = new_article_values(client)
    assert post_form(client, "/editor/articles/new", values, action="draft").status_code == 303
    assert articles.get_by_slug("quokka-analysis-cell").status == "draft"
    assert anonymous.get("/capabilities/quokka-analysis-cell").status_code == 404
    values = form_values(soup(client.get("/editor/articles/quokka-analysis-cell/edit")))
    assert (
        post_form(client, "/editor/articles/quokka-analysis-cell/edit", values, action="publish").status_code
        == 303
    )
    assert anonymous.get("/capabilities/quokka-analysis-cell").status_code == 200


def test_unpublish_and_archive_ask_for_confirmation_first(client, editor, anonymous):
    edit_page = soup(client.get("/editor/articles/gateway/edit"))
    link = edit_page.select_one(".publishing a[href='/editor/articles/gateway/unpublish']")
    assert link is not None
    confirm = soup(client.get(link["href"]))
    assert confirm.h1.get_text(strip=True) == "Unpublish “Gateway”?"
    assert articles.get_by_slug("gateway").status == "published"  # asking did nothing
    form = confirm.select_one("main form[action='/editor/articles/gateway/unpublish']")
    assert form.button.get_text(strip=True) == "Yes, unpublish it"
    response = client.post(form["action"], data={"version": form.select_one("input[name=version]")["value"]})
    assert response.status_code == 303 and articles.get_by_slug("gateway").status == "draft"
    confirm = soup(client.get("/editor/articles/gateway/archive"))
    assert confirm.h1.get_text(strip=True) == "Archive “Gateway”?"
    assert articles.get_by_slug("gateway").status == "draft"


def test_unpublishing_and_archiving_take_effect_in_search_at_once(client, editor, anonymous):
    assert "financial-intelligence-unit" in public_search_slugs(anonymous, "financial intelligence unit")
    version = articles.get_by_slug("financial-intelligence-unit").version
    client.post("/editor/articles/financial-intelligence-unit/unpublish", data={"version": version})
    assert "financial-intelligence-unit" not in public_search_slugs(anonymous, "financial intelligence unit")
    assert anonymous.get("/capabilities/financial-intelligence-unit").status_code == 404
    client.post("/editor/articles/financial-intelligence-unit/publish", data={"version": version + 1})
    assert "financial-intelligence-unit" in public_search_slugs(anonymous, "financial intelligence unit")
    client.post("/editor/articles/financial-intelligence-unit/archive", data={"version": version + 2})
    assert "financial-intelligence-unit" not in public_search_slugs(anonymous, "financial intelligence unit")
    assert anonymous.get("/capabilities/financial-intelligence-unit").status_code == 404
    page = soup(client.get("/editor/articles/financial-intelligence-unit/edit"))
    restore = page.select_one("form[action='/editor/articles/financial-intelligence-unit/unarchive']")
    assert restore.button.get_text(strip=True) == "Restore from archive"
    client.post(restore["action"], data={"version": restore.select_one("input[name=version]")["value"]})
    assert articles.get_by_slug("financial-intelligence-unit").status == "draft"
    actions = list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.target == "financial-intelligence-unit")
            .order_by(AuditEvent.id)
        )
    )
    assert actions[-4:] == ["article.unpublish", "article.publish", "article.archive", "article.unarchive"]


def test_a_status_action_from_a_stale_page_does_nothing(client, editor):
    stale_version = articles.get_by_slug("gateway").version
    articles.publish(articles.get_by_slug("gateway"), author=None, note="someone else")
    response = client.post("/editor/articles/gateway/archive", data={"version": stale_version})
    assert response.status_code == 409
    assert soup(response).h1.get_text(strip=True) == "The article changed before your action"
    assert articles.get_by_slug("gateway").status == "published"


# --- Never lose an edit ---------------------------------------------------------------------------


def _two_editors(app, client, auth):
    colleague_client = app.test_client()
    auth.login("editor", email="colleague@example.police.uk", client=colleague_client)
    mine = form_values(soup(client.get("/editor/articles/gateway/edit")))
    theirs = form_values(soup(colleague_client.get("/editor/articles/gateway/edit")))
    return colleague_client, mine, theirs


def test_saving_over_a_newer_version_answers_409_with_both_texts_and_a_merge(app, client, editor, auth):
    colleague_client, mine, theirs = _two_editors(app, client, auth)
    original = dict(mine)["body"]

    their_body = "Colleague's opening line.\n" + original
    changed = with_changes(theirs, body=their_body, title="Gateway (their title)")
    assert post_form(colleague_client, "/editor/articles/gateway/edit", changed, "publish").status_code == 303

    my_body = original + "\nMy closing line."
    response = post_form(
        client, "/editor/articles/gateway/edit", with_changes(mine, body=my_body, note="mine"), "publish"
    )
    assert response.status_code == 409
    page = soup(response)
    assert "changed while you were editing" in page.select_one("#conflict-summary h1").get_text()
    assert "colleague@example.police.uk" in page.select_one("#conflict-summary").get_text()
    diff_text = page.select_one("#conflict-body").find_parent("section").get_text()
    assert "Colleague's opening line." in diff_text and "My closing line." in diff_text
    assert "unchanged line" in diff_text  # the long body's unchanged lines are collapsed
    assert not diffs.has_conflict_markers(page.get_text())
    # Only differing fields get a choice; each one's side is already chosen when only one side changed it.
    assert [s["aria-labelledby"] for s in page.select("section.resolve")] == [
        "conflict-title",
        "conflict-body",
    ]
    assert page.select_one("#keep-title-theirs").has_attr("checked")
    assert page.select_one("#keep-body-both").has_attr("checked")
    merged_body = text_of(page.select_one("form.article-form #body"))
    assert merged_body.startswith("Colleague's opening line.") and merged_body.endswith("My closing line.")
    assert page.select_one("form.article-form input[name=version]")["value"] == str(
        articles.get_by_slug("gateway").version
    )
    assert page.select_one("form.article-form #note")["value"] == "mine"
    kept = page.select_one("#your-text").get_text()
    assert "My closing line." in kept

    response = post_form(client, "/editor/articles/gateway/edit", form_values(page), "publish")
    assert response.status_code == 303
    article = articles.get_by_slug("gateway")
    assert "Colleague's opening line." in article.body and "My closing line." in article.body
    assert article.title == "Gateway (their title)"


def test_a_clash_is_settled_field_by_field_without_markers(app, client, editor, auth):
    colleague_client, mine, theirs = _two_editors(app, client, auth)
    post_form(
        colleague_client,
        "/editor/articles/gateway/edit",
        with_changes(theirs, body="Their whole text.", summary="Their summary."),
        "publish",
    )
    response = post_form(
        client,
        "/editor/articles/gateway/edit",
        with_changes(mine, body="My whole text.", summary="My summary."),
        "publish",
    )
    page = soup(response)
    assert response.status_code == 409
    assert text_of(page.select_one("form.article-form #body")).split("\n") == [
        "My whole text.",
        "Their whole text.",
    ]
    assert not page.select("input[name=keep-body][checked], input[name=keep-summary][checked]")

    # Saving without a choice is refused, and the comparison stays on the page with everything typed.
    response = post_form(client, "/editor/articles/gateway/edit", form_values(page), "publish")
    assert response.status_code == 200
    again = soup(response)
    assert error_summary(again) == [
        ("Choose which summary to keep", "#keep-summary-mine"),
        ("Choose which body to keep", "#keep-body-mine"),
    ]
    assert again.title.get_text().startswith("Error:")
    assert "Their whole text." in again.select_one("#conflict-body").find_parent("section").get_text()
    assert articles.get_by_slug("gateway").body == "Their whole text."

    chosen = with_changes(form_values(again), **{"keep-body": "theirs", "keep-summary": "mine"})
    assert post_form(client, "/editor/articles/gateway/edit", chosen, "publish").status_code == 303
    article = articles.get_by_slug("gateway")
    assert (article.body, article.summary) == ("Their whole text.", "My summary.")


def test_keeping_mine_when_it_is_too_long_is_an_error_that_keeps_the_text(app, client, editor, auth):
    colleague_client, mine, theirs = _two_editors(app, client, auth)
    post_form(
        colleague_client, "/editor/articles/gateway/edit", with_changes(theirs, summary="Short."), "publish"
    )
    page = soup(
        post_form(client, "/editor/articles/gateway/edit", with_changes(mine, summary="M" * 350), "publish")
    )
    chosen = with_changes(form_values(page), **{"keep-summary": "mine"})
    response = post_form(client, "/editor/articles/gateway/edit", chosen, "publish")
    assert response.status_code == 200
    again = soup(response)
    assert error_summary(again) == [("The summary must be 300 characters or fewer", "#summary")]
    assert text_of(again.select_one("#summary")) == "M" * 350
    assert again.select_one("#summary-info").get_text(strip=True) == "You have 50 characters too many"
    assert again.select_one("#keep-summary-mine").has_attr("checked")
    assert articles.get_by_slug("gateway").summary == "Short."


def test_a_form_without_its_version_is_treated_as_a_conflict(client, editor):
    values = with_changes(
        form_values(soup(client.get("/editor/articles/gateway/edit"))), version="", body="Mine"
    )
    response = post_form(client, "/editor/articles/gateway/edit", values)
    assert response.status_code == 409
    assert text_of(soup(response).select_one("form.article-form #body")) == "Mine"


def test_an_article_deleted_while_editing_keeps_the_text_as_a_new_article(client, editor):
    values = with_changes(
        form_values(soup(client.get("/editor/articles/gateway/edit"))), body="Precious words"
    )
    articles.delete_article(articles.get_by_slug("gateway"), author=None)
    response = post_form(client, "/editor/articles/gateway/edit", values)
    assert response.status_code == 409
    page = soup(response)
    assert page.select_one("form.article-form")["action"] == "/editor/articles/new"
    assert text_of(page.select_one("#body")) == "Precious words"
    assert "deleted while you were editing" in page.select_one(".notice--warning").get_text()


# --- History --------------------------------------------------------------------------------------


def _edit(client, slug: str, **changes) -> None:
    values = with_changes(form_values(soup(client.get(f"/editor/articles/{slug}/edit"))), **changes)
    assert post_form(client, f"/editor/articles/{slug}/edit", values).status_code == 303


def test_history_lists_revisions_as_table_rows_with_view_compare_and_restore(client, editor):
    _edit(client, "gateway", body="Second body", note="second", status="published")
    _edit(client, "gateway", body="Third body", note="third", status="published")
    page = soup(client.get("/editor/articles/gateway/history"))
    rows = page.select("#revisions tbody tr")
    assert [r.th.get_text(" ", strip=True).split()[0] for r in rows] == ["3", "2", "1"]
    assert all(r.th["scope"] == "row" for r in rows)
    assert [th["scope"] for th in page.select("#revisions thead th")] == ["col"] * 6
    assert rows[0].select("td")[1].get_text(strip=True) == editor.email
    assert rows[0].select("td")[3].get_text(strip=True) == "third"
    assert rows[0].select_one("a[href='/editor/articles/gateway/revisions/3']")
    assert rows[0].select_one("a[href='/editor/articles/gateway/diff?to=3&from=2']")
    assert rows[0].select_one("form") is None  # the current revision needs no restore
    assert rows[2].select_one("form[action='/editor/articles/gateway/revisions/1/restore']")

    revision_page = soup(client.get("/editor/articles/gateway/revisions/2"))
    assert "Second body" in revision_page.select_one(".snapshot").get_text()


def test_a_diff_between_any_two_revisions_marks_removed_and_added_text(client, editor):
    _edit(client, "gateway", body="Alpha <b>beta</b> gamma", status="published")
    _edit(client, "gateway", body="Alpha delta gamma", status="published")
    page = soup(client.get("/editor/articles/gateway/diff?from=2&to=3"))
    body_diff = page.select_one("#diff-body").find_parent("section")
    assert [d.get_text() for d in body_diff.select("del")] and "beta" in " ".join(
        d.get_text() for d in body_diff.select("del")
    )
    assert "delta" in " ".join(i.get_text() for i in body_diff.select("ins"))
    assert body_diff.find("b") is None  # text is escaped, never rendered
    assert "<b>beta</b>" in body_diff.get_text()
    assert [th["scope"] for th in body_diff.select("thead th")] == ["col"] * 4
    assert client.get("/editor/articles/gateway/diff?from=1&to=99").status_code == 404
    assert client.get("/editor/articles/gateway/diff?from=x&to=").status_code == 200


def test_restoring_an_old_revision_adds_a_revision(client, editor, anonymous):
    original = articles.get_by_slug("gateway").body
    _edit(client, "gateway", body="Replaced body", status="published")
    history = soup(client.get("/editor/articles/gateway/history"))
    restore = history.select_one("form[action='/editor/articles/gateway/revisions/1/restore']")
    response = client.post(
        restore["action"], data={"version": restore.select_one("input[name=version]")["value"]}
    )
    assert response.status_code == 303
    article = articles.get_by_slug("gateway")
    assert [r.action for r in article.revisions] == ["seed", "edit", "restore"]
    # On a published article the restored text is a draft until published.
    assert articles.working_data(article).body == original
    assert "Replaced body" in anonymous.get("/capabilities/gateway").get_data(as_text=True)
    client.post("/editor/articles/gateway/publish", data={"version": article.version})
    assert articles.get_by_slug("gateway").body == original


def test_a_restore_from_a_stale_history_page_is_refused(client, editor):
    stale = articles.get_by_slug("gateway").version
    _edit(client, "gateway", body="Newer", status="published")
    response = client.post("/editor/articles/gateway/revisions/1/restore", data={"version": stale})
    assert response.status_code == 409
    assert db.session.scalar(select(func.count(Revision.id)).where(Revision.action == "restore")) == 0


# --- Delete ---------------------------------------------------------------------------------------


def test_only_an_admin_deletes_for_good_after_confirming(app, client, editor, auth):
    assert client.get("/editor/articles/gateway/delete").status_code == 403
    assert client.post("/editor/articles/gateway/delete", data={"confirm": "gateway"}).status_code == 403
    edit_page = soup(client.get("/editor/articles/gateway/edit"))
    assert edit_page.select_one("a[href='/editor/articles/gateway/delete']") is None

    admin_client = app.test_client()
    admin = auth.login("admin", client=admin_client)
    page = soup(admin_client.get("/editor/articles/gateway/delete"))
    assert "cannot be undone" in page.select_one("main").get_text()
    wrong = admin_client.post("/editor/articles/gateway/delete", data={"confirm": "gate"})
    assert wrong.status_code == 200
    assert error_summary(soup(wrong)) == [
        ("Type gateway to confirm that it should be deleted for good", "#confirm")
    ]
    assert articles.get_by_slug("gateway") is not None

    response = admin_client.post("/editor/articles/gateway/delete", data={"confirm": "gateway"})
    assert response.status_code == 303
    assert articles.get_by_slug("gateway") is None
    assert app.test_client().get("/capabilities/gateway").status_code == 404
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "article.delete"))
    assert (event.actor, event.target, event.detail["title"]) == (admin.email, "gateway", "Gateway")


# --- Index health ---------------------------------------------------------------------------------


def test_index_health_shows_the_figures(client, editor):
    page = soup(client.get("/editor/reindex"))
    count = db.session.scalar(select(func.count(Article.id)))
    assert page.select_one("#db-documents").get_text(strip=True) == str(count)
    assert page.select_one("#index-documents").get_text(strip=True) == str(count)
    assert page.select_one("#differing").get_text(strip=True) == "0"
    assert "Healthy" in page.select_one("#index-state").get_text()
    assert page.select_one("#last-build").get_text(strip=True) != "Never"


def test_a_rebuild_reports_count_and_time_and_is_audited(client, editor):
    response = client.post("/editor/reindex")
    assert response.status_code == 303
    page = soup(client.get(response.location))
    notice = page.select_one(".notice--success").get_text()
    count = db.session.scalar(select(func.count(Article.id)))
    assert f"Index rebuilt: {count} documents in" in notice and "seconds" in notice
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "index.rebuild"))
    assert event.actor == editor.email and event.detail["documents"] == count


def test_a_rebuild_already_running_is_reported_not_started_twice(app, client, editor):
    from kb.indexing import sync

    store = app.extensions[sync.EXTENSION]
    with store.rebuild_lock():
        response = client.post("/editor/reindex")
        assert response.status_code == 409
        page = soup(response)
        assert "already running" in page.select_one("#reindex-refused").get_text()
        assert page.select_one("#rebuild-running") is not None
    assert (
        db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "index.rebuild")) == 0
    )


def test_repair_reindexes_only_the_articles_that_differ(app, client, editor):
    # Change a version behind the article service's back, so the index really is behind the database.
    db.session.execute(
        Article.__table__.update().where(Article.slug == "gateway").values(version=Article.version + 5)
    )
    db.session.commit()
    page = soup(client.get("/editor/reindex"))
    assert page.select_one("#differing").get_text(strip=True) == "1"
    assert "gateway" in page.select_one("#differences").get_text()
    response = client.post("/editor/reindex/repair")
    assert response.status_code == 303
    page = soup(client.get(response.location))
    assert "1 re-indexed (gateway)" in page.select_one(".notice--success").get_text()
    assert page.select_one("#differing").get_text(strip=True) == "0"


def test_signed_in_pages_never_show_a_password(client, editor):
    for path in (
        "/editor/",
        "/editor/articles/gateway/edit",
        "/editor/articles/gateway/history",
        "/editor/reindex",
    ):
        assert PASSWORD not in client.get(path).get_data(as_text=True)


BIG = "9" * 30


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", f"/editor/articles/gateway/revisions/{BIG}", 404),
        ("GET", f"/editor/articles/gateway/diff?from={BIG}&to={BIG}", 200),
        ("GET", "/editor/articles/gateway/diff?from=-1&to=0", 200),
        ("POST", f"/editor/articles/gateway/revisions/{BIG}/restore", 404),
        ("GET", "/editor/articles/no-such-article/history", 404),
        ("GET", "/editor/articles/no-such-article/edit", 404),
        ("POST", "/editor/articles/no-such-article/publish", 404),
    ],
)
def test_numbers_and_names_typed_into_addresses_never_crash(client, editor, method, path, status):
    assert client.open(path, method=method).status_code == status


@pytest.mark.parametrize("version", ["", "abc", BIG, "-1"])
def test_an_action_without_a_usable_version_does_nothing(client, editor, version):
    before = articles.get_by_slug("gateway").version
    response = client.post("/editor/articles/gateway/unpublish", data={"version": version})
    assert response.status_code == 409
    db.session.expire_all()
    article = articles.get_by_slug("gateway")
    assert (article.status, article.version) == ("published", before)


def test_a_huge_base_revision_in_the_form_is_a_plain_conflict(client, editor):
    values = with_changes(
        form_values(soup(client.get("/editor/articles/gateway/edit"))),
        version=BIG,
        base_revision=BIG,
        body="Mine",
    )
    response = post_form(client, "/editor/articles/gateway/edit", values)
    assert response.status_code == 409
    page = soup(response)
    assert text_of(page.select_one("form.article-form #body")).startswith("Mine\n")
    assert not page.select("input[name=keep-body][checked]")  # no base: the editor must choose
    assert "Mine" in page.select_one("#your-text").get_text()


def test_nul_characters_are_dropped_from_what_is_saved(client, editor):
    values = new_article_values(client, title="Nul\x00 test", body="Body\x00 text")
    assert post_form(client, "/editor/articles/new", values).status_code == 303
    article = articles.get_by_slug("nul-test")
    assert (article.title, article.body) == ("Nul test", "Body text")


# --- Live preview ---------------------------------------------------------------------------------


def test_the_live_preview_renders_unsaved_text_with_the_real_article_page(client, editor):
    values = with_changes(
        form_values(soup(client.get("/editor/articles/gateway/edit"))),
        body="Unsaved words about the **FIU**.",
        contact_internal="Internal desk 1234",
    )
    from werkzeug.datastructures import MultiDict

    candidate = client.post("/editor/preview?as=candidate&slug=gateway", data=MultiDict(values))
    assert candidate.status_code == 200
    page = soup(candidate)
    # The jargon buster runs as on the public page: the acronym is explained.
    assert page.select_one(".body.prose strong").get_text() == "FIU (Financial Intelligence Unit)"
    assert "Internal desk 1234" not in page.get_text()
    staff = soup(client.post("/editor/preview?as=staff&slug=gateway", data=MultiDict(values)))
    assert "Internal desk 1234" in staff.get_text()
    assert articles.get_by_slug("gateway").body != "Unsaved words about the **FIU**."  # nothing saved
    hidden = with_changes(values, visibility="internal")
    page = soup(client.post("/editor/preview?as=candidate&slug=gateway", data=MultiDict(hidden)))
    assert "Candidates do not see this article" in page.get_text()
    no_area = client.post("/editor/preview?as=candidate", data=MultiDict(with_changes(values, area="")))
    assert no_area.status_code == 422


def test_the_edit_form_offers_the_live_preview_only_to_javascript(client, editor):
    page = soup(client.get("/editor/articles/gateway/edit"))
    section = page.select_one("#live-preview")
    assert section.has_attr("hidden") and section["data-url"] == "/editor/preview?slug=gateway"
    assert section.iframe.has_attr("sandbox") and not section.iframe["sandbox"]  # no scripts, no forms
    assert {"preview-candidate", "preview-staff"} <= set(buttons(page).values())  # the server preview stays
