"""MuseBot's setting names (its `BaseConf`, `LLMConf`, ... structs, `conf/*.go`) on Switchboard's runtime settings.

MuseBot's admin console reads `/conf/get` into those Go structs (a value of the wrong JSON type fails
the whole page), shows every field as a text box and saves one at a time with `/conf/update
{"type": section, "key": key, "value": "<text>"}`. So `/conf/get` answers every MuseBot field with its
Go type, plus Switchboard's own settings; a MuseBot key with a Switchboard equivalent reads and writes
that setting, the others are shown with a fixed value and refused (as read-only, never as unknown).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from switchboard.core.domain.errors import InvalidInput

GoKind = type  # str, int, float, bool, list (a []string), dict (a map of ids)
_ZERO: dict[GoKind, Any] = {str: "", int: 0, float: 0.0, bool: False, list: [], dict: {}}


def _keys(kind: GoKind, names: str) -> dict[str, GoKind]:
    return dict.fromkeys(names.split(), kind)


# every JSON field of MuseBot's structs, with its Go type (conf/conf.go, llm_conf.go, audio_conf.go ...)
MUSEBOT_FIELDS: dict[str, dict[str, GoKind]] = {
    "base": _keys(str, """telegram_bot_token discord_bot_token slack_bot_token slack_app_token lark_app_id
        lark_app_secret ding_client_id ding_client_secret com_wechat_token com_wechat_encoding_aes_key
        com_wechat_corp_id com_wechat_secret com_wechat_agent_id wechat_app_id wechat_app_secret wechat_token
        wechat_encoding_aes_key qq_app_id qq_app_secret qq_one_bot_receive_token qq_one_bot_send_token
        qq_one_bot_http_server deepseek_token openai_token gemini_token open_router_token ai_302_token vol_token
        aliyun_token chat_any_where_token ernie_ak ernie_sk bot_name type media_type custom_url custom_path
        volc_ak volc_sk db_type db_conf llm_proxy robot_proxy lang http_host character powered default_model
        image_path crt_file key_file ca_file""")
    | _keys(int, "token_per_user max_user_chat max_qa_pari context_expire_time llm_retry_times llm_retry_interval")
    | _keys(bool, """wechat_active use_tools smart_mode send_mcp_res send_mcp_media_to_llm llm_option_param
        is_streaming""")
    | _keys(dict, "allowed_user_ids allowed_group_ids"),
    "audio": _keys(str, """vol_audio_app_id vol_audio_token vol_audio_rec_cluster vol_audio_voice_type
        vol_audio_tts_cluster vol_tts_speaker vol_bot_name vol_system_role vol_speaking_style gemini_audio_model
        gemini_voice_name openai_audio_model openai_voice_name aliyun_audio_model aliyun_audio_voice
        aliyun_audio_rec_model tts_type""") | _keys(int, "vol_end_smooth_window"),
    "llm": _keys(float, "frequency_penalty presence_penalty temperature top_p") | _keys(int, "max_tokens top_log_probs")
    | _keys(list, "stop") | _keys(bool, "log_probs"),
    "photo": _keys(str, """req_key model_version req_schedule_conf position logo_text_content vol_image_model
        vol_rec_model gemini_image_model gemini_rec_model openai_image_model openai_rec_model openai_image_size
        openai_image_style mix_image_model mix_rec_model aliyun_image_model aliyun_rec_model""")
    | _keys(int, "seed ddim_steps width height language") | _keys(float, "scale opacity")
    | _keys(bool, "use_pre_llm use_sr return_url add_logo"),
    "rag": _keys(str, "embedding_type knowledge_path vector_db_type chroma_url milvus_url weaviate_url "
                      "weaviate_scheme space") | _keys(int, "chunk_size chunk_overlap"),
    "video": _keys(str, "vol_video_model gemini_video_model ai_302_video_model aliyun_video_model radio resolution")
    | _keys(int, "duration fps") | _keys(bool, "watermark"),
}


@dataclass(frozen=True, slots=True)
class Mapped:
    """A MuseBot key that reads and writes one Switchboard setting."""

    section: str
    key: str
    shown: Callable[[Any], Any] = lambda value: value  # Switchboard's value -> MuseBot's
    stored: Callable[[Any], Any] = lambda value: value  # MuseBot's (parsed) value -> Switchboard's


def _zero_is_none(value: Any) -> Any:
    return None if value in (0, "") else value


# MuseBot (section, key) -> the Switchboard setting; `use_tools` switches the tool loop (0 rounds = off)
MAPPED: dict[tuple[str, str], Mapped] = {
    ("base", "default_model"): Mapped("base", "default_model", stored=_zero_is_none),
    ("base", "token_per_user"): Mapped("base", "default_token_allowance"),  # 0: unlimited, as in MuseBot
    ("base", "use_tools"): Mapped("llm", "tool_rounds", shown=lambda rounds: rounds > 0,
                                  stored=lambda on: 8 if on else 0),
    ("llm", "temperature"): Mapped("llm", "temperature"),
    ("llm", "top_p"): Mapped("llm", "top_p"),
    ("llm", "frequency_penalty"): Mapped("llm", "frequency_penalty"),
    ("llm", "presence_penalty"): Mapped("llm", "presence_penalty"),
    ("llm", "max_tokens"): Mapped("llm", "max_tokens", stored=_zero_is_none),  # 0: the model's own limit
    ("photo", "openai_image_model"): Mapped("photo", "image_model"),
    ("photo", "openai_image_size"): Mapped("photo", "image_size", stored=_zero_is_none),
    ("video", "duration"): Mapped("video", "video_seconds", stored=_zero_is_none),
}
# read-only keys shown with what Switchboard does rather than a zero value
FIXED: dict[tuple[str, str], Any] = {
    ("base", "bot_name"): "Switchboard", ("base", "type"): "openai", ("base", "media_type"): "openai",
    ("base", "lang"): "en", ("base", "is_streaming"): True,
}


def musebot_sections(switchboard: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Switchboard's settings with every MuseBot field beside them, in MuseBot's JSON types."""
    out = {section: dict(values) for section, values in switchboard.items()}
    for section, fields in MUSEBOT_FIELDS.items():
        shown = out.setdefault(section, {})
        for key, kind in fields.items():
            mapped = MAPPED.get((section, key))
            if mapped is not None:
                shown[key] = mapped.shown(switchboard[mapped.section][mapped.key])
            else:
                shown[key] = FIXED.get((section, key), _ZERO[kind])
    return out


def switchboard_setting(section: str, key: str, value: Any) -> tuple[str, str, Any] | None:
    """The Switchboard (section, key, value) a MuseBot key writes; None for a key MuseBot does not
    have (Switchboard's own names pass through). A read-only MuseBot key is refused here."""
    kind = MUSEBOT_FIELDS.get(section, {}).get(key)
    if kind is None:
        return None
    mapped = MAPPED.get((section, key))
    if mapped is None:
        raise InvalidInput(f"{section}.{key} is a MuseBot setting Switchboard has no equivalent for; "
                           "it is shown read-only", param="key")
    return mapped.section, mapped.key, mapped.stored(_parsed(value, kind, f"{section}.{key}"))


def _parsed(value: Any, kind: GoKind, name: str) -> Any:
    """The console sends every value as the text of its box; other clients may send JSON types."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if kind is str:
        return text
    if not text:
        return None if kind is not bool else False
    if kind is bool:
        if text.lower() not in ("true", "false", "1", "0"):
            raise InvalidInput(f"{name} must be true or false", param="value")
        return text.lower() in ("true", "1")
    try:
        return int(text) if kind is int else float(text)
    except ValueError:
        raise InvalidInput(f"{name} must be a number, not {text[:40]!r}", param="value") from None
