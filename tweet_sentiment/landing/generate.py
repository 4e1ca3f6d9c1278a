"""Seeded synthetic tweet files: JSON lines with `date`, `user`, `text`, `sentiment` in the seed's shape."""

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

SENTIMENTS = ("negative", "neutral", "positive")

_POSITIVE = [
    "just had the best {thing} ever", "so happy about {thing} today", "loving {thing} right now",
    "great {thing}, thanks", "can't stop smiling about {thing}", "{thing} made my day",
    "finally got {thing} and it's awesome", "what a lovely {thing}",
]
_NEGATIVE = [
    "worst {thing} ever", "so tired of {thing}", "can't believe {thing} broke again",
    "{thing} ruined my morning", "really disappointed with {thing}", "ugh, {thing} is a mess",
    "missing {thing} so much", "hate it when {thing} happens",
]
_NEUTRAL = [
    "heading to {thing} later", "anyone know about {thing}?", "reading up on {thing}",
    "{thing} starts at 8", "watching {thing} on tv", "thinking about {thing} for tomorrow",
    "new post about {thing}", "at {thing} with friends",
]
_THINGS = [
    "coffee", "the new phone", "this weather", "monday", "the train", "my laptop", "the game",
    "that movie", "lunch", "the concert", "work", "the update", "the weekend", "my flight", "pizza",
]
_EMOJI = {"positive": ["😀", "😍", "🎉", "👍", ":)"], "negative": ["😞", "😡", "💔", "👎", ":("],
          "neutral": ["🤔", "📅", "☕", "📺", ""]}
_HASHTAGS = ["#fail", "#win", "#monday", "#music", "#news", "#travel", "#tech", "#food"]
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_PACIFIC_DST_2009 = (datetime(2009, 3, 8, 10, tzinfo=UTC), datetime(2009, 11, 1, 9, tzinfo=UTC))


def twitter_date(instant: datetime) -> str:
    """Format a UTC instant as Twitter's seed-era string in Pacific time, e.g. `Mon Apr 06 22:19:45 PDT 2009`."""
    dst = _PACIFIC_DST_2009[0] <= instant < _PACIFIC_DST_2009[1]
    local = instant + timedelta(hours=-7 if dst else -8)
    zone = "PDT" if dst else "PST"
    return (f"{_DAYS[local.weekday()]} {_MONTHS[local.month - 1]} {local.day:02d} "
            f"{local.hour:02d}:{local.minute:02d}:{local.second:02d} {zone} {local.year}")


def _handles(rng: random.Random, count: int) -> list[str]:
    syllables = ["ka", "lo", "mi", "ze", "tu", "ra", "no", "vi", "pe", "sa", "do", "ji"]
    handles: set[str] = set()
    while len(handles) < count:
        name = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 5)))
        suffix = rng.choice(["", "_", str(rng.randint(1, 99)), "_fan", "TV"])
        handles.add((name.capitalize() if rng.random() < 0.4 else name) + suffix)
    return sorted(handles)


def _tweet_text(rng: random.Random, sentiment: str, mentions: list[str]) -> str:
    template = rng.choice({"positive": _POSITIVE, "negative": _NEGATIVE, "neutral": _NEUTRAL}[sentiment])
    words = [template.format(thing=rng.choice(_THINGS))]
    if rng.random() < 0.25:
        words.append(rng.choice(_HASHTAGS))
    if rng.random() < 0.15:
        words.append(f"http://t.co/{rng.getrandbits(32):08x}")
    emoji = rng.choice(_EMOJI[sentiment])
    if emoji and rng.random() < 0.5:
        words.append(emoji)
    lead = [f"@{m}" for m in mentions[: rng.randint(0, len(mentions))]]
    tail = [f"@{m}" for m in mentions[len(lead):]]
    return " ".join(lead + words + tail)


def generate_tweets(count: int, seed: int = 42, start: datetime | None = None) -> Iterator[dict[str, str]]:
    """Yield `count` reproducible synthetic tweets with 0-3 mentions drawn from a skewed pool of handles."""
    rng = random.Random(seed)
    handles = _handles(rng, max(50, count // 20))
    users = _handles(random.Random(seed + 1), max(20, count // 10))
    weights = [1.0 / (rank + 1) for rank in range(len(handles))]
    instant = start or datetime(2009, 4, 6, 12, 0, tzinfo=UTC)
    for _ in range(count):
        instant += timedelta(seconds=rng.randint(1, 90))
        sentiment = rng.choices(SENTIMENTS, weights=(0.3, 0.35, 0.35))[0]
        n_mentions = rng.choices((0, 1, 2, 3), weights=(0.25, 0.5, 0.17, 0.08))[0]
        mentions = list(dict.fromkeys(rng.choices(handles, weights=weights, k=n_mentions)))
        yield {"date": twitter_date(instant), "user": rng.choice(users),
               "text": _tweet_text(rng, sentiment, mentions), "sentiment": sentiment}


def write_source_files(out: Path, tweets: int, files: int, seed: int = 42, prefix: str = "tweets") -> list[Path]:
    """Write `tweets` generated tweets spread over `files` JSON-lines files; return their paths. Never overwrites: a
    file of the same name in `out` (an earlier call with the same seed) is an error, since it may be a source file
    that was already ingested."""
    if files < 1 or tweets < 0:
        raise ValueError("need at least one file and a non-negative tweet count")
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{prefix}-{seed}-{index:05d}.json" for index in range(files)]
    existing = [p.name for p in paths if p.exists()]
    if existing:
        raise FileExistsError(f"{out} already has {', '.join(existing[:3])}{' ...' if len(existing) > 3 else ''}: "
                              "choose another seed (--seed) or an empty folder; generate never overwrites a file")
    per_file, extra = divmod(tweets, files)
    stream = generate_tweets(tweets, seed=seed)
    for index, path in enumerate(paths):
        rows = per_file + (1 if index < extra else 0)
        # Write under a temporary name and rename, as a well-behaved producer would.
        partial = path.with_name(path.name + ".tmp")
        with partial.open("w", encoding="utf-8") as handle:
            for _ in range(rows):
                handle.write(json.dumps(next(stream), ensure_ascii=False) + "\n")
        partial.rename(path)
    return paths
