"""The article's fields are declared once (kb/article_fields.py); every place that must spell them out
is checked against that list here, so a field added there and forgotten anywhere fails a test."""

from __future__ import annotations

import dataclasses

from sqlalchemy import inspect

from kb import article_fields
from kb.article_fields import ARTICLE_FIELDS, EDITABLE_FIELDS, FIELD_NAMES
from kb.forms import ArticleForm
from kb.indexing.schema import document_for
from kb.models import Article
from kb.services import articles, content, diffs
from kb.services.articles import ArticleData
from kb.views.api import article_json

# Where each field lives on the model; a field not here is a test failure, not a silent gap.
MODEL_ATTRIBUTE = {
    "title": "title",
    "acronym": "acronym",
    "summary": "summary",
    "body": "body",
    "area": "area",
    "parent": "parent",
    "tags": "tags",
    "roles": "role_types",
    "partners": "partners",
    "contact_public": "contact_public",
    "contact_internal": "contact_internal",
    "visibility": "visibility",
    "status": "status",
    "kind": "kind",
}
# How the JSON of /api/articles/<slug> shows each field (None: deliberately not shown, and why).
JSON_KEY = {
    "title": "title",
    "acronym": "acronym",
    "summary": "summary",
    "body": "body",
    "area": "area",
    "parent": None,  # readers follow "related" and the page's "Part of" link instead
    "tags": "tags",
    "roles": "roles",
    "partners": "partners",
    "contact_public": "contact",
    "contact_internal": "contact",  # inside "contact", for staff only
    "visibility": "visibility",
    "status": None,  # only published articles are ever served
    "kind": "kind",
}
# Which index document field carries each article field (None: not searched, and why).
INDEX_KEY = {
    "title": "title",
    "acronym": "acronym",
    "summary": "summary",
    "body": "body",
    "area": "area",
    "parent": None,  # a parent is navigation, not something readers search for
    "tags": "tags",
    "roles": "roles",
    "partners": "partners",
    "contact_public": None,  # contacts are shown, not searched (and internal ones must never leak)
    "contact_internal": None,
    "visibility": "visibility",
    "status": "status",
    "kind": "kind",
}
# How a content file's front matter names each field (the body is the text after the front matter).
FRONT_MATTER = {
    "title": "title: Every Field Team",
    "acronym": "acronym: EFT",
    "summary": "summary: A team with every field set.",
    "body": None,
    "area": "area: intelligence",
    "parent": "parent: gateway",
    "tags": "tags: [cyber]",
    "roles": "roles: [investigator]",
    "partners": "partners: [National Crime Agency]",
    "contact_public": "contact:\n  public: Public desk\n  internal: Internal desk",
    "contact_internal": None,  # in the same "contact" block as the public one
    "visibility": "visibility: internal",
    "status": "status: archived",
    "kind": "kind: page",
}


def test_every_mapping_here_covers_exactly_the_declared_fields():
    for mapping in (MODEL_ATTRIBUTE, JSON_KEY, INDEX_KEY, FRONT_MATTER):
        assert tuple(mapping) == FIELD_NAMES


def test_article_data_has_exactly_the_declared_fields():
    assert {f.name for f in dataclasses.fields(ArticleData)} == set(FIELD_NAMES)


def test_the_model_has_every_field():
    attributes = {a.key for a in inspect(Article).attrs}
    assert {MODEL_ATTRIBUTE[name] for name in FIELD_NAMES} <= attributes


def test_the_form_has_every_editable_field_with_the_declared_limit(app):
    with app.test_request_context():
        form = ArticleForm(meta={"csrf": False})
    for name in EDITABLE_FIELDS:
        assert name in form._fields, name
        declared = article_fields.BY_NAME[name].limit
        assert (form[name].flags.maxlength or None) == declared, name
    others = set(form._fields) - set(FIELD_NAMES)
    assert others == {"note", "version", "base_revision", "conflict_mine", "conflict_base"}


def test_diffs_and_conflicts_label_every_field():
    assert tuple(diffs.FIELD_LABELS) == FIELD_NAMES
    assert {f.name for f in ARTICLE_FIELDS if f.shape == "list"} == diffs.LIST_FIELDS


def _every_field_set() -> ArticleData:
    return ArticleData(
        title="Every Field Team",
        summary="A team with every field set.",
        body="Body text.",
        area="intelligence",
        acronym="EFT",
        kind="page",
        parent="gateway",
        tags=["cyber"],
        roles=["investigator"],
        partners=["National Crime Agency"],
        contact_public="Public desk",
        contact_internal="Internal desk",
        visibility="internal",
        status="archived",
    )


def test_every_field_survives_the_write_path_and_reaches_json_and_the_index(app):
    data = _every_field_set()
    defaults = ArticleData(title="")
    assert all(getattr(data, n) != getattr(defaults, n) for n in FIELD_NAMES)  # nothing left at default
    article = articles.create_article(data)
    assert ArticleData.from_article(article) == data
    with app.test_request_context():
        shown = article_json(article, [])
    document = document_for(article)
    for name in FIELD_NAMES:
        if JSON_KEY[name] is not None:
            assert JSON_KEY[name] in shown, name
        if INDEX_KEY[name] is not None:
            assert document.get(INDEX_KEY[name]), name


def test_content_files_can_set_every_field(tmp_path):
    lines = [line for line in FRONT_MATTER.values() if line]
    path = tmp_path / "every-field-team.md"
    path.write_text("---\n" + "\n".join(lines) + "\n---\nBody text.", encoding="utf-8")
    assert content.read_article_file(path).data == _every_field_set()
