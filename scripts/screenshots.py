"""Screenshots of the Dagster and MLflow UIs for the docs: the pages that show the charts and the MLflow links.

Needs a running `tweet-sentiment dev` (Dagster UI) and an MLflow UI on a home with data, headless Chromium (Debian's
`chromium` package) and the `playwright` Python package (which drives that Chromium; it downloads no browser here):

    python scripts/screenshots.py --dagster http://127.0.0.1:3000 --mlflow http://127.0.0.1:5000 --out docs/img

Each picture is written as a palette PNG (small enough for the repository). Pages that are not there (no evaluation
run yet, say) are reported and skipped.
"""

import argparse
import contextlib
import io
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

EVALUATION_EXPERIMENT = "tweet_sentiment_evaluation"
MODEL_NAME = "HF_TWEET_SENTIMENT"
ML_VIEW = "workflowType=machine_learning"  # MLflow 3's model-training view, as the Dagster metadata links open it


@dataclass(frozen=True)
class Shot:
    """One page: where it is, what text shows that it has loaded, the file to write, and how tall to draw it (the
    Dagster UI scrolls inside its panes, so a tall window shows more than a full-page screenshot)."""

    name: str
    url: str
    ready_text: str
    height: int = 900
    scroll_to: str | None = None
    """A heading to bring to the top first (the metadata below an asset's columns, say)."""
    click: str | None = None
    """A button to press after the heading is in view (the metadata's Plots view, say)."""


def dagster_shots(base: str) -> list[Shot]:
    """The asset pages: charts and links without a click (overview), the Plots tab, a check with a table."""
    return [
        Shot("dagster_sentiment_evaluation", f"{base}/assets/sentiment_evaluation", "agreement_per_batch", 1500),
        Shot("dagster_bronze_tweets", f"{base}/assets/bronze_tweets", "top_20_tweeters", 1500, "Metadata"),
        Shot("dagster_silver_mentions", f"{base}/assets/silver_mentions", "top_20_mentions", 1500, "Metadata"),
        Shot("dagster_batch_metrics_plots", f"{base}/assets/sentiment_batch_metrics", "Metadata", 1300, "Metadata",
             "Plots"),
        Shot("dagster_bronze_checks", f"{base}/assets/bronze_tweets?view=checks", "non_null_keys"),
        Shot("dagster_sentiment_model", f"{base}/assets/sentiment_model", "mlflow_model_version", 1200),
    ]


def _mlflow_api(base: str, path: str, query: dict | None = None, body: dict | None = None) -> dict:
    """One MLflow REST call: GET with a query, or POST with a JSON body."""
    url = f"{base}/ajax-api/2.0/mlflow/{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return {}
        raise


def mlflow_shots(base: str) -> list[Shot]:
    """The evaluation experiment's runs, its latest run, and the latest registered model version."""
    shots = []
    experiment = _mlflow_api(base, "experiments/get-by-name", {"experiment_name": EVALUATION_EXPERIMENT})
    if experiment:
        experiment_id = experiment["experiment"]["experiment_id"]
        shots.append(Shot("mlflow_evaluation_runs", f"{base}/#/experiments/{experiment_id}?{ML_VIEW}", "eval "))
        runs = _mlflow_api(base, "runs/search", body={"experiment_ids": [experiment_id], "max_results": 1,
                                                      "order_by": ["attributes.start_time DESC"]}).get("runs", [])
        if runs:
            run = runs[0]["info"]["run_id"]
            shots.append(Shot("mlflow_evaluation_run", f"{base}/#/experiments/{experiment_id}/runs/{run}?{ML_VIEW}",
                              "macro_f1"))
    versions = _mlflow_api(base, "model-versions/search", {"filter": f"name = '{MODEL_NAME}'"}).get(
        "model_versions", [])
    if versions:
        latest = max(int(v["version"]) for v in versions)
        shots.append(Shot("mlflow_model_version", f"{base}/#/models/{MODEL_NAME}/versions/{latest}?{ML_VIEW}",
                            "production"))
    return shots


def small_png(png: bytes) -> bytes:
    """The screenshot as a 256-colour PNG (a UI has few colours; a fraction of the size)."""
    try:
        from PIL import Image
    except ImportError:
        return png
    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def take(shots: list[Shot], out: Path, chromium: str, width: int, height: int) -> list[Path]:
    """Load each page in headless Chromium, wait for its text, write the PNG; the paths written."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": width, "height": height})
        # Dagster's "join the community" dialog shows on a first visit to a local UI: mark it seen.
        context.add_init_script("window.localStorage.setItem('communityNux', 'true')")
        page = context.new_page()
        for shot in shots:
            page.set_viewport_size({"width": width, "height": max(height, shot.height)})
            page.goto(shot.url, wait_until="load")
            try:
                page.get_by_text(shot.ready_text).first.wait_for(timeout=60_000)
            except PlaywrightTimeout:
                print(f"skipped {shot.name}: {shot.ready_text!r} never appeared on {shot.url}", file=sys.stderr)
                continue
            # The Dagster UI polls, so the network may never be idle for long: wait a little, not forever.
            with contextlib.suppress(PlaywrightTimeout):
                page.wait_for_load_state("networkidle", timeout=5_000)
            if shot.scroll_to:
                page.get_by_text(shot.scroll_to, exact=True).first.evaluate("e => e.scrollIntoView({block: 'start'})")
            if shot.click:
                page.get_by_role("button", name=shot.click).first.click()
            page.wait_for_timeout(2_000)  # charts and images settle after the data arrives
            png = page.screenshot()
            path = out / f"{shot.name}.png"
            path.write_bytes(small_png(png))
            written.append(path)
            print(f"{path} ({path.stat().st_size // 1024} KB) <- {shot.url}")
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dagster", required=True, help="Dagster UI base URL, e.g. http://127.0.0.1:3000")
    parser.add_argument("--mlflow", help="MLflow UI base URL, e.g. http://127.0.0.1:5000 (MLflow pages skipped "
                                         "without it)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "img")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="the Chromium executable")
    parser.add_argument("--width", type=int, default=1680)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--only", nargs="*", help="names of the shots to take (default: all)")
    args = parser.parse_args()
    shots = dagster_shots(args.dagster.rstrip("/"))
    if args.mlflow:
        shots += mlflow_shots(args.mlflow.rstrip("/"))
    if args.only:
        shots = [s for s in shots if s.name in args.only]
    take(shots, args.out, args.chromium, args.width, args.height)


if __name__ == "__main__":
    main()
