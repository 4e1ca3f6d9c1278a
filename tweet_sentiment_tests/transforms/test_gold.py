from datetime import datetime

from tweet_sentiment.transforms.gold import GOLD_COLUMNS, distinct_texts, predictions_of

SILVER = [(datetime(2009, 4, 7, 5), "bob", "love it", "positive"),
          (datetime(2009, 4, 7, 5), "al", "love it", "positive"),
          (datetime(2009, 4, 7, 6), "cy", "", "negative"),
          (datetime(2009, 4, 7, 7), "bob", "meh", None)]
SCORES = [("love it", "POS", 0.91234), ("", "NEU", 1.0), ("meh", "NEG", 0.5)]


def test_predictions_join_scores_back_with_ids_and_percent_scores(spark):
    silver = spark.createDataFrame(SILVER, "timestamp timestamp, mention string, cleaned_text string, sentiment string")
    assert sorted(r.cleaned_text for r in distinct_texts(silver).collect()) == ["", "love it", "meh"]
    scores = spark.createDataFrame(SCORES, "cleaned_text string, predicted_sentiment string, predicted_score double")

    gold = predictions_of(silver, scores, "HF_TWEET_SENTIMENT", "7")

    assert tuple(gold.columns) == GOLD_COLUMNS
    rows = sorted(gold.collect(), key=lambda r: (r.timestamp, r.mention))
    assert [(r.mention, r.predicted_sentiment, r.predicted_score, r.sentiment_id, r.predicted_sentiment_id)
            for r in rows] == [("al", "POS", 91.23, 1, 1), ("bob", "POS", 91.23, 1, 1), ("cy", "NEU", 100.0, 0, -1),
                               ("bob", "NEG", 50.0, None, 0)]
    assert {(r.model_name, r.model_version) for r in rows} == {("HF_TWEET_SENTIMENT", "7")}
