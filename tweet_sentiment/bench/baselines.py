"""What a user would write instead of the platform: the bronze + silver work as a plain pandas or polars script."""

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import polars as pl

from tweet_sentiment.transforms.silver import MENTION_PATTERN, SENTIMENT_ALIASES, TWITTER_DATE_PATTERN, ZONE_OFFSETS

# Rust's `regex` (polars) has no look-around: take each `@` run with the character before it, then keep the
# runs that are valid handles; remove mentions in two passes, as adjacent ones share a separator.
_AT_RUN = r"(?:^|[^A-Za-z0-9_!#$%&*@])@[A-Za-z0-9_@]+"
_MENTION_WITH_EDGES = r"(^|[^A-Za-z0-9_!#$%&*@])@[A-Za-z0-9_]{1,15}($|[^A-Za-z0-9_@])"


def _zone_offsets(zones: pd.Series) -> pd.Series:
    numeric = zones.str.replace(r"^([+-]\d{2}):?(\d{2})$", r"\1:\2", regex=True)
    return zones.str.upper().map(ZONE_OFFSETS).fillna(numeric.where(zones.str.match(r"^[+-]\d{2}:?\d{2}$")))


def pandas_silver(paths: Sequence[str], out: Path) -> int:
    """Parse, validate, explode mentions and clean text with pandas; write parquet; return silver rows."""
    frames = []
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as handle:
            records = [json.loads(line) for line in handle if line.strip()]
        frame = pd.DataFrame.from_records(records, columns=["date", "user", "text", "sentiment"])
        frame["source_file"] = path
        frames.append(frame)
    tweets = pd.concat(frames, ignore_index=True)
    parts = tweets["date"].str.extract(TWITTER_DATE_PATTERN)
    iso = parts[4] + " " + parts[0] + " " + parts[1].str.zfill(2) + " " + parts[2] + " " + _zone_offsets(parts[3])
    tweets["timestamp"] = pd.to_datetime(iso, format="%Y %b %d %H:%M:%S %z", errors="coerce", utc=True)
    tweets["sentiment"] = tweets["sentiment"].str.strip().str.lower().map(SENTIMENT_ALIASES)
    tweets = tweets[tweets["timestamp"].notna()]
    tweets["mention"] = tweets["text"].str.findall(MENTION_PATTERN).map(
        lambda handles: list(dict.fromkeys(h.lower() for h in handles)))
    tweets["cleaned_text"] = (tweets["text"].str.replace(MENTION_PATTERN, " ", regex=True)
                              .str.replace(r"\s+", " ", regex=True).str.strip())
    silver = tweets.explode("mention").dropna(subset=["mention"])
    silver = silver[["timestamp", "mention", "cleaned_text", "sentiment", "user", "source_file"]]
    silver.to_parquet(out, index=False)
    return len(silver)


def polars_silver(paths: Sequence[str], out: Path) -> int:
    """The same with polars; its regex engine has no look-behind, so mentions use a consuming prefix."""
    tweets = pl.concat([
        pl.read_ndjson(path, schema={"date": pl.String, "user": pl.String, "text": pl.String,
                                     "sentiment": pl.String}).with_columns(source_file=pl.lit(path))
        for path in paths])
    parts = [pl.col("date").str.extract(TWITTER_DATE_PATTERN, i) for i in range(1, 6)]
    zone = parts[3]
    offset = (zone.str.to_uppercase().replace_strict(ZONE_OFFSETS, default=None)
              .fill_null(zone.str.replace(r"^([+-]\d{2}):?(\d{2})$", "$1:$2")))
    iso = pl.concat_str([parts[4], parts[0], parts[1].str.zfill(2), parts[2], offset], separator=" ")
    silver = (tweets
              .with_columns(timestamp=iso.str.to_datetime("%Y %b %d %H:%M:%S %z", strict=False, time_zone="UTC"),
                            sentiment=pl.col("sentiment").str.strip_chars().str.to_lowercase()
                            .replace_strict(SENTIMENT_ALIASES, default=None),
                            mention=pl.col("text").str.extract_all(_AT_RUN)
                            .list.eval(pl.element().str.extract(r"@([A-Za-z0-9_@]+)$", 1))
                            .list.filter(pl.element().str.contains(r"^[A-Za-z0-9_]{1,15}$"))
                            .list.eval(pl.element().str.to_lowercase()).list.unique(maintain_order=True),
                            cleaned_text=pl.col("text").str.replace_all(_MENTION_WITH_EDGES, "$1 $2")
                            .str.replace_all(_MENTION_WITH_EDGES, "$1 $2")
                            .str.replace_all(r"\s+", " ").str.strip_chars())
              .filter(pl.col("timestamp").is_not_null())
              .explode("mention").drop_nulls("mention")
              .select("timestamp", "mention", "cleaned_text", "sentiment", "user", "source_file"))
    silver.write_parquet(out)
    return silver.height
