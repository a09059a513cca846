"""A config mistake stops the start with a message that names the key and the closest known one;
nothing is silently ignored (a typo once left registration open)."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.config.loader import ConfigError, check_environment, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "switchboard.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "said"), [
    ("registraton: closed\n", "unknown key 'registraton' (did you mean 'registration'?)"),
    ("provders: []\n", "unknown key 'provders' (did you mean 'providers'?)"),
    ("tools: {code_timout_seconds: 3}\n",
     "unknown key 'tools.code_timout_seconds' (did you mean 'code_timeout_seconds'?)"),
    ("providers: [{name: a, base_url: 'http://x', weigth: 2}]\n",
     "unknown key 'providers.0.weigth' (did you mean 'weight'?)"),
    ("quota: {completion_reserve: lots}\n", "'quota.completion_reserve': Input should be a valid integer"),
    ("zzz: 1\n", "unknown key 'zzz'"),
    ("files: {store: s3, s3: {bucket: b, secret_acess_key: x}}\n",
     "unknown key 'files.s3.secret_acess_key' (did you mean 'secret_access_key'?)"),
    ("files: {store: s3}\n", "store 's3' needs an 's3' section"),
    ("files: {store: ftp}\n", "'files.store': Input should be 'local' or 's3'"),
])
def test_a_mistake_in_the_file_names_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str,
                                              said: str) -> None:
    monkeypatch.delenv("SWITCHBOARD_CONFIG", raising=False)
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text))
    assert said in str(caught.value)
    assert str(tmp_path) in str(caught.value)  # says which file


def test_the_mcp_servers_key_keeps_its_claude_desktop_spelling(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWITCHBOARD_CONFIG", raising=False)
    settings = load_settings(write(tmp_path, "mcpServers: {files: {command: npx}}\nregistration: closed\n"))
    assert settings.mcp_servers == {"files": {"command": "npx"}} and settings.registration == "closed"


def test_an_environment_variable_that_matches_no_key_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"SWITCHBOARD_REGISTRATON \(did you mean 'SWITCHBOARD_REGISTRATION'\?\)"):
        check_environment({"SWITCHBOARD_REGISTRATON": "closed"})
    check_environment({"SWITCHBOARD_REGISTRATION": "closed", "SWITCHBOARD_CONFIG": "x.yaml",
                       "switchboard_log_level": "debug", "SWITCHBOARD_MCPSERVERS": "{}", "HOME": "/root"})


def test_the_file_store_is_read_from_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWITCHBOARD_CONFIG", raising=False)
    text = "files: {store: s3, s3: {bucket: uploads, endpoint_url: 'http://minio:9000', prefix: sb/}}\n"
    files = load_settings(write(tmp_path, text)).files
    assert files.store == "s3" and files.s3 is not None
    assert (files.s3.bucket, files.s3.endpoint_url, files.s3.prefix) == ("uploads", "http://minio:9000", "sb/")
    assert files.s3.access_key_id is None  # boto3's own chain (AWS_* variables) then
