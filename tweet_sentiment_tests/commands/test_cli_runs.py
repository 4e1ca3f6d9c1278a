import dagster as dg
import yaml

from tweet_sentiment.commands import cli_runs
from tweet_sentiment.commands.cli_runs import LAUNCHED_BY_TAG, LOCATION_NAME, execute_from_cli, workspace_file


@dg.op
def one() -> int:
    return 1


@dg.job
def tiny_job():
    one()


def test_a_cli_run_is_recorded_as_a_run_of_the_code_location():
    instance = dg.DagsterInstance.ephemeral()
    result = execute_from_cli(tiny_job, instance, tags={"extra": "yes"})

    run = instance.get_run_by_id(result.run_id)
    assert result.success and run.job_name == "tiny_job"
    assert run.remote_job_origin is not None  # what the UI's timeline and job pages group runs by
    assert run.remote_job_origin.location_name == LOCATION_NAME and run.remote_job_origin.job_name == "tiny_job"
    assert run.remote_job_origin.repository_origin.repository_name == "__repository__"
    assert run.tags[LAUNCHED_BY_TAG] == "cli" and run.tags["dagster/max_retries"] == "0" and run.tags["extra"] == "yes"
    # The origin is given for that call only.
    plain = tiny_job.execute_in_process(instance=instance)
    assert instance.get_run_by_id(plain.run_id).remote_job_origin is None


def test_the_location_name_is_the_one_dev_loads(tmp_path, monkeypatch):
    (project,) = [workspace_file(tmp_path)]
    names = [entry["python_module"]["location_name"] for entry in yaml.safe_load(project.read_text())["load_from"]]
    assert names == [LOCATION_NAME]

    monkeypatch.setattr(cli_runs, "_PROJECT_ROOT", tmp_path / "wheel")  # no workspace.yaml beside the package
    written = workspace_file(tmp_path)
    assert written.parent == tmp_path
    assert yaml.safe_load(written.read_text())["load_from"][0]["python_module"] == {
        "module_name": "tweet_sentiment.definitions", "location_name": LOCATION_NAME}
