import pytest
from pydantic import ValidationError

from switchboard.config.settings import Settings
from switchboard.core.domain.platform_settings import OneBot11Platform, TelegramPlatform


def test_the_platform_list_as_the_issue_fixes_it() -> None:
    settings = Settings(platforms=[
        {"id": "qq", "type": "onebot11", "mode": "reverse", "access_token": "secret"},
        {"id": "tg", "type": "telegram", "token": "123:ABC", "api_base": "http://127.0.0.1:9"},
    ])
    qq, tg = settings.platforms
    assert isinstance(qq, OneBot11Platform) and qq.access_token == "secret" and qq.allow_new_users
    assert isinstance(tg, TelegramPlatform) and tg.api_base == "http://127.0.0.1:9"


@pytest.mark.parametrize("entry", [
    {"id": "qq", "type": "icq"},  # unknown type
    {"id": "qq", "type": "onebot11", "mode": "forward"},  # forward without url
    {"id": "qq", "type": "onebot11", "acess_token": "typo"},  # unknown key
    {"id": "q q", "type": "onebot11"},  # an id that cannot be part of a umo
    {"id": "tg", "type": "telegram"},  # no token
])
def test_bad_entries_are_refused(entry: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        Settings(platforms=[entry])


def test_ids_are_unique() -> None:
    with pytest.raises(ValidationError, match="unique"):
        Settings(platforms=[{"id": "qq", "type": "onebot11"}, {"id": "qq", "type": "onebot11"}])
