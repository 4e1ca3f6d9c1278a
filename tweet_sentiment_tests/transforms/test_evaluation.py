import pytest

from tweet_sentiment.transforms.evaluation import agreement_drift, classification_metrics, flat_metrics, summarize_gold
from tweet_sentiment_tests.gold_helpers import gold_frame, known_answer_rows


def test_metrics_on_a_hand_made_gold_table(spark):
    gold = gold_frame(spark, known_answer_rows("b1"))

    summary = summarize_gold(gold)
    cells = summary.cells
    assert cells == [("NEG", "NEG", 2), ("NEG", "NEU", 1), ("NEG", "POS", 1), ("NEU", "NEU", 2),
                     ("POS", "NEG", 1), ("POS", "POS", 3)]  # the row without a given sentiment is left out
    metrics = classification_metrics(cells)
    assert metrics["rows"] == 10
    assert metrics["accuracy"] == pytest.approx(0.7)
    assert metrics["precision"] == pytest.approx({"NEG": 2 / 3, "NEU": 2 / 3, "POS": 3 / 4})
    assert metrics["recall"] == pytest.approx({"NEG": 0.5, "NEU": 1.0, "POS": 0.75})
    assert metrics["f1"] == pytest.approx({"NEG": 4 / 7, "NEU": 0.8, "POS": 0.75})
    assert metrics["macro_f1"] == pytest.approx((4 / 7 + 0.8 + 0.75) / 3)
    assert metrics["macro_precision"] == pytest.approx((2 / 3 + 2 / 3 + 3 / 4) / 3)
    assert metrics["macro_recall"] == pytest.approx(0.75)
    assert metrics["confusion_matrix"] == [[2, 1, 1], [0, 2, 0], [1, 0, 3]]
    assert metrics["support"] == {"NEG": 4, "NEU": 2, "POS": 4}
    assert flat_metrics(metrics)["recall_neu"] == 1.0 and len(flat_metrics(metrics)) == 13
    assert summary.shares == pytest.approx({"NEG": 3 / 11, "NEU": 3 / 11, "POS": 5 / 11})
    assert summary.rows == 11 and summary.model_versions == sorted({r.model_version for r in gold.collect()})
    assert summary.min_timestamp == gold.agg({"timestamp": "min"}).first()[0]


def test_no_labelled_rows_is_an_error():
    with pytest.raises(ValueError, match="nothing to evaluate"):
        classification_metrics([])


@pytest.mark.parametrize(("current", "history", "expected"), [
    (0.1, [0.7, 0.72], (True, None, None)),  # too little history: no norm yet
    (0.65, [0.7, 0.7, 0.7], (True, 0.7, 0.6)),
    (0.55, [0.7, 0.7, 0.7], (False, 0.7, 0.6)),
    (0.3, [0.2, 0.8, 0.5], (True, 0.5, 0.5 - 3 * 0.2449489742783178)),  # a noisy norm tolerates more
])
def test_agreement_drift(current, history, expected):
    passed, norm, threshold = agreement_drift(current, history, min_history=3, max_drop=0.10)
    assert passed == expected[0]
    assert norm == pytest.approx(expected[1]) if expected[1] is not None else norm is None
    assert threshold == pytest.approx(expected[2]) if expected[2] is not None else threshold is None
