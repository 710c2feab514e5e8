import pytest
from pydantic import ValidationError

from loket.config import Settings


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
