# Two commands on a fresh machine: `make run` (the main job on embedded defaults) and `make test`.
PYTHON ?= python3
VENV ?= .venv
HOME_DIR ?= $(or $(TWEET_SENTIMENT_HOME),$(HOME)/.tweet_sentiment)
SAMPLE_TWEETS ?= 2000
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast lint dev clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	HF_HUB_OFFLINE=1 $(VENV)/bin/tweet-sentiment run --home $(HOME_DIR) --sample-if-empty $(SAMPLE_TWEETS)

test: $(STAMP)
	HF_HUB_OFFLINE=1 $(VENV)/bin/python -m pytest -q tweet_sentiment_tests

# The inner loop: pure logic and Spark transforms, no end-to-end run, CLI process or cluster (`-m "not slow"`).
test-fast: $(STAMP)
	HF_HUB_OFFLINE=1 $(VENV)/bin/python -m pytest -q -m "not slow" tweet_sentiment_tests

lint: $(STAMP)
	$(VENV)/bin/ruff check .

dev: $(STAMP)
	HF_HUB_OFFLINE=1 $(VENV)/bin/tweet-sentiment dev --home $(HOME_DIR)

clean:
	rm -rf $(VENV)
