"""`kb export` / `kb import`: a lossless round trip of every article with its history."""

import json

from kb.extensions import db
from kb.models import Article
from kb.services import articles
from kb.services.articles import ArticleData
from tests.conftest import make_app


def _without_time_of_export(document):
    document = dict(document)
    document.pop("exported_at")
    return document


def test_round_trip_is_lossless(runner, app, tmp_path, make_user):
    editor = make_user("editor")
    gateway = articles.get_by_slug("gateway")
    data = ArticleData.from_article(gateway)
    data.body += "\n\nAn editor's addition."
    articles.update_article(
        gateway, data, expected_version=gateway.version, author=editor, note="Added a line"
    )

    first = tmp_path / "first.json"
    result = runner.invoke(args=["kb", "export", str(first)])
    assert result.exit_code == 0, result.output
    assert "Exported 40 articles" in result.output

    other = make_app(tmp_path / "other")
    with other.app_context():
        from flask_migrate import upgrade

        upgrade()
        from kb.services import users

        users.create_user("editor@example.police.uk", "editor", "correct horse battery staple")
        other_runner = other.test_cli_runner()
        imported = other_runner.invoke(args=["kb", "import", str(first)])
        assert imported.exit_code == 0, imported.output
        assert "Imported 40 articles" in imported.output
        second = tmp_path / "second.json"
        assert other_runner.invoke(args=["kb", "export", str(second)]).exit_code == 0
        again = other_runner.invoke(args=["kb", "import", str(first)])
        assert "skipped 40" in again.output
        db.session.remove()
        db.engine.dispose()

    one = json.loads(first.read_text())
    two = json.loads(second.read_text())
    assert _without_time_of_export(one) == _without_time_of_export(two)
    gateway_record = next(a for a in two["articles"] if a["slug"] == "gateway")
    assert gateway_record["revisions"][-1]["author"] == "editor@example.police.uk"
    assert gateway_record["revisions"][-1]["note"] == "Added a line"


def test_import_refuses_other_files(runner, tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"hello": 1}')
    result = runner.invoke(args=["kb", "import", str(path)])
    assert result.exit_code != 0
    assert "Not a serocu-kb-export file" in result.output
    path.write_text("not json")
    assert "Cannot read" in runner.invoke(args=["kb", "import", str(path)]).output


def test_export_includes_every_revision(runner, app, tmp_path):
    path = tmp_path / "e.json"
    runner.invoke(args=["kb", "export", str(path)])
    document = json.loads(path.read_text())
    total = sum(len(a["revisions"]) for a in document["articles"])
    assert total == sum(len(a.revisions) for a in db.session.scalars(db.select(Article)))
