import pytest
from pydantic import ValidationError

from loket.config import ANSWER_JUDGE_THRESHOLD, Settings


def test_defaults_are_the_embedded_setup(tmp_path):
    settings = Settings(data_dir=tmp_path, _env_file=None)
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path.resolve() / 'loket.db'}"
    assert settings.llm_base_url is None


def test_environment_variables_are_read(monkeypatch, tmp_path):
    monkeypatch.setenv("LOKET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LOKET_LLM_MODEL", "gemma")
    settings = Settings(_env_file=None)
    assert settings.data_dir == tmp_path
    assert settings.llm_model == "gemma"


def test_effective_configuration_masks_secrets():
    settings = Settings(
        database_url="postgresql+psycopg://loket:hunter2@db.internal/loket",
        llm_api_key="sk-secret",
        _env_file=None,
    )
    shown = settings.effective()
    assert shown["LOKET_DATABASE_URL"] == "postgresql+psycopg://loket:***@db.internal/loket"
    assert shown["LOKET_LLM_API_KEY"] == "********"
    assert "hunter2" not in str(shown) and "sk-secret" not in str(shown)


def test_demo_is_refused_in_production():
    with pytest.raises(ValidationError, match="LOKET_DEMO"):
        Settings(env="production", demo=True, _env_file=None)


@pytest.mark.parametrize(
    ("values", "refusal"),
    [
        ({"answer_judge": "maybe", "llm_base_url": "http://llm/v1"}, "LOKET_ANSWER_JUDGE='maybe': use llm"),
        ({"answer_judge": "llm"}, "LOKET_ANSWER_JUDGE=llm needs LOKET_LLM_BASE_URL"),
        ({"answer_judge_threshold": 1.5}, "less than or equal to 1"),
    ],
)
def test_an_answer_judge_that_cannot_work_is_refused_at_start(tmp_path, values, refusal):
    with pytest.raises(ValidationError, match=refusal):
        Settings(data_dir=tmp_path, _env_file=None, **values)


def test_the_answer_judge_is_off_unless_asked_for(tmp_path):
    judged = Settings(data_dir=tmp_path, _env_file=None, llm_base_url="http://llm/v1", answer_judge="llm")
    assert Settings(data_dir=tmp_path, _env_file=None).answer_judge == ""
    assert judged.answer_judge == "llm" and judged.answer_judge_threshold == ANSWER_JUDGE_THRESHOLD
