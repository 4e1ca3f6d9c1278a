import json
import re
from datetime import UTC, datetime

from tweet_sentiment.landing.generate import generate_tweets, twitter_date, write_source_files

TWITTER_DATE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} P[DS]T \d{4}$")


def test_twitter_date_uses_pacific_daylight_time_in_april():
    assert twitter_date(datetime(2009, 4, 7, 5, 19, 45, tzinfo=UTC)) == "Mon Apr 06 22:19:45 PDT 2009"
    assert twitter_date(datetime(2009, 1, 3, 18, 0, tzinfo=UTC)) == "Sat Jan 03 10:00:00 PST 2009"


def test_generated_tweets_are_seeded_and_realistic():
    first = list(generate_tweets(300, seed=7))
    assert first == list(generate_tweets(300, seed=7))
    assert first != list(generate_tweets(300, seed=8))
    assert {t["sentiment"] for t in first} == {"negative", "neutral", "positive"}
    assert all(TWITTER_DATE.match(t["date"]) for t in first)
    mention_counts = {len(re.findall(r"@\w+", t["text"])) for t in first}
    assert mention_counts == {0, 1, 2, 3}


def test_write_source_files_spreads_tweets_over_files(tmp_path):
    paths = write_source_files(tmp_path, tweets=10, files=3, seed=1)
    lines = [json.loads(line) for p in paths for line in p.read_text(encoding="utf-8").splitlines()]
    assert [len(p.read_text().splitlines()) for p in paths] == [4, 3, 3]
    assert len(lines) == 10 and set(lines[0]) == {"date", "user", "text", "sentiment"}
    assert not list(tmp_path.glob("*.tmp"))


def test_write_source_files_never_overwrites_a_file(tmp_path):
    [first] = write_source_files(tmp_path, tweets=5, files=1, seed=3)
    before = first.read_bytes()
    try:
        write_source_files(tmp_path, tweets=9, files=1, seed=3)
    except FileExistsError as error:
        assert first.name in str(error) and "--seed" in str(error)
    else:
        raise AssertionError("the second call overwrote the first one's file")
    assert first.read_bytes() == before
    assert write_source_files(tmp_path, tweets=5, files=1, seed=4)[0] != first
