from click.testing import CliRunner

from tweet_sentiment.cli import main


def test_generate_writes_reproducible_files(tmp_path):
    runner = CliRunner()
    first = runner.invoke(main, ["generate", "--out", str(tmp_path / "a"), "--tweets", "30", "--files", "3"])
    runner.invoke(main, ["generate", "--out", str(tmp_path / "b"), "--tweets", "30", "--files", "3"])
    assert first.exit_code == 0 and "wrote 30 tweets in 3 files" in first.output
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert len(names) == 3
    assert all((tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes() for n in names)


def test_status_lists_batches_and_duplicates_of_a_home(tmp_path, monkeypatch):
    from tweet_sentiment.landing.manifest import Manifest, SourceFile
    from tweet_sentiment.settings import HomeLayout

    home = tmp_path / "home"
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "unused"))
    manifest = Manifest(HomeLayout.resolve(home).manifest)
    manifest.register([SourceFile("/s/a.json", 5, 1, "h1"), SourceFile("/s/b.json", 5, 1, "h1")], 10, 1000)

    result = CliRunner().invoke(main, ["status", "--home", str(home)], terminal_width=200)

    assert result.exit_code == 0, result.output
    assert "registered, no partition yet" in result.output
    assert "duplicate skipped: /s/b.json (same content as /s/a.json)" in result.output
