"""Labels (the seed's ids) and tweet normalisation."""

import pytest

from tweet_sentiment.model.labels import LABELS, canonical_label, label_from_sentiment_id, sentiment_id
from tweet_sentiment.model.normalize import normalize_tweet


def test_seed_sentiment_ids() -> None:
    assert LABELS == ("NEG", "NEU", "POS")
    assert [sentiment_id(label) for label in LABELS] == [0, -1, 1]
    assert [label_from_sentiment_id(i) for i in (0, 1, -1)] == ["NEG", "POS", "NEU"]
    with pytest.raises(ValueError, match="unknown sentiment id"):
        label_from_sentiment_id(4)


@pytest.mark.parametrize(("name", "expected"), [("negative", "NEG"), ("Neutral", "NEU"), ("POS", "POS"),
                                                ("LABEL_2", "POS"), (" positive ", "POS")])
def test_canonical_label(name: str, expected: str) -> None:
    assert canonical_label(name) == expected


def test_unknown_label_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown sentiment label"):
        canonical_label("joy")


@pytest.mark.parametrize(("raw", "expected"), [
    ("@Bob_1 see https://t.co/xYz now", "@user see http now"),
    ("mail me at a@b.com", "mail me at a@b.com"),
    ("it\\u2019s fine \\u002c ok", "it's fine , ok"),
    ("Tom &amp;amp; Jerry &lt;3", "Tom & Jerry <3"),
    ("so funny 😂😂😂 👍🏽", "so funny face with tears of joy thumbs up sign"),
    ("  many   spaces\n", "many spaces"),
    ("", ""),
    (None, ""),
])
def test_normalize_tweet(raw: str | None, expected: str) -> None:
    assert normalize_tweet(raw) == expected


def test_sentiment_ids_column() -> None:
    import pandas as pd

    from tweet_sentiment.model.labels import sentiment_ids

    assert sentiment_ids(pd.Series(["POS", "NEG", "NEU"])).tolist() == [1, 0, -1]
