"""Issue 17: MuseBot's own admin console (admin/controller/*.go) drives Switchboard unchanged. Its Go
client sends no credentials, or the key in the bot address's userinfo (Basic auth)."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx

from switchboard.config.face_settings import MusebotSettings
from tests.integration.musebot.harness import Muse, Start
from tests.support.upstream import Reply, ScriptedUpstream

GO_HEADERS = {"Content-Type": "application/json", "LogId": "console"}  # admin/controller/bot.go GetRequest


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode(), **GO_HEADERS}


async def trusting(start_musebot: Start, tmp_path: Path, **musebot: object) -> tuple[Muse, Muse]:
    """An app whose admin key is then trusted (a restart on the same data reads the setting)."""
    first = await start_musebot(data_dir=tmp_path / "kept")
    settings = MusebotSettings(trusted_key=first.keys["admin"], **musebot)  # type: ignore[arg-type]
    return first, await start_musebot(data_dir=tmp_path / "kept", musebot=settings)


async def test_basic_auth_carries_the_key_either_way_and_a_wrong_one_is_refused(muse: Muse) -> None:
    key = muse.keys["admin"]
    for headers in (basic("musebot", key), basic(key, "")):  # http://musebot:KEY@host, http://KEY@host
        answer = (await muse.client.get("/conf/get", headers=headers)).json()
        assert answer["code"] == 0 and answer["data"]["base"]["bot_name"] == "Switchboard"
    for headers, message in ((basic("musebot", "sb-wrong"), "invalid API key"),
                             (basic("musebot", ""), "the access token is invalid"),  # the user name as key
                             (basic("", ""), "missing credentials"),
                             ({"Authorization": "Basic !!not-base64"}, "malformed Basic credentials")):
        refused = (await muse.client.get("/conf/get", headers=headers)).json()
        assert refused["code"] == 210401 and refused["message"].startswith(message) and refused["data"] is None
    await muse.key("alice")
    plain = (await muse.client.get("/conf/get", headers=basic("musebot", muse.keys["alice"]))).json()
    assert plain["code"] == 210403  # a chat key is still only a chat key


async def test_without_the_opt_in_no_credentials_is_refused_and_pong_answers(muse: Muse) -> None:
    for path in ("/conf/get", "/command/get", "/mcp/get", "/user/list", "/record/list"):
        refused = (await muse.client.get(path, headers=GO_HEADERS)).json()
        assert refused["code"] == 210401, path
    pong = await muse.client.get("/pong")
    assert pong.status_code == 200 and pong.json() == {"code": 0, "message": "success", "msg": "success",
                                                      "data": "pong"}


async def test_trusted_key_serves_calls_without_credentials(start_musebot: Start, tmp_path: Path,
                                                            upstream: ScriptedUpstream) -> None:
    _, console = await trusting(start_musebot, tmp_path)
    conf = (await console.client.get("/conf/get", headers=GO_HEADERS)).json()
    assert conf["code"] == 0 and conf["data"]["llm"]["top_p"] is None
    saved = await console.client.post("/conf/update", headers=GO_HEADERS,
                                      json={"type": "llm", "key": "top_p", "value": "0.5"})
    assert saved.json()["code"] == 0
    upstream.push(Reply(text="trusted"))
    said = await console.client.post("/communicate?prompt=hello&user_id=-1", content=b"",
                                     headers={"Content-Type": "text/event-stream", "Accept": "text/event-stream"})
    assert said.text == "trusted" and upstream.last.json["top_p"] == 0.5
    wrong = (await console.client.get("/conf/get", headers=basic("musebot", "sb-wrong"))).json()
    assert wrong["code"] == 210401  # credentials that are sent are still checked


async def test_trusted_key_only_from_the_allowed_addresses(start_musebot: Start, tmp_path: Path) -> None:
    _, console = await trusting(start_musebot, tmp_path, trusted_clients=["10.0.0.0/8", "192.168.1.7"])
    refused = (await console.client.get("/conf/get", headers=GO_HEADERS)).json()
    assert refused["code"] == 210401  # the test client calls from 127.0.0.1
    assert (await console.client.get("/conf/get", headers=basic("musebot", console.keys["admin"]))).json()["code"] == 0


async def test_a_revoked_trusted_key_is_refused(start_musebot: Start, tmp_path: Path) -> None:
    _, console = await trusting(start_musebot, tmp_path)
    login = await console.client.post("/api/auth/login", json={"username": "admin", "password": "admin-password"})
    token = login.json()["data"]["access_token"]
    keys = (await console.client.get("/api/keys", headers={"Authorization": f"Bearer {token}"})).json()["data"]
    for key in keys["keys"] if isinstance(keys, dict) else keys:
        await console.client.delete(f"/api/keys/{key['id']}", headers={"Authorization": f"Bearer {token}"})
    refused = (await console.client.get("/conf/get", headers=GO_HEADERS)).json()
    assert refused["code"] == 210401


async def test_a_token_correction_holds_an_unlimited_user_to_what_is_shown(muse: Muse,
                                                                            upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="free", usage=(20, 10)))
    assert (await muse.say("hi", user_id="7")).text == "free"  # default allowance 0: unlimited
    for token in (100, -60):
        added = await muse.post("/user/token/add", json={"user_id": "7", "token": token})
        assert added["code"] == 0
    shown = (await muse.get("/user/list", user_id="7"))["data"]["list"][0]
    assert (shown["avail_token"], shown["token"]) == (40, 30)
    refused = await muse.say("one more", user_id="7")
    assert refused.text.startswith("⚠️ Your token allowance is used up")
    too_big = await muse.post("/user/token/add", json={"user_id": "7", "token": -10**16})
    assert too_big["code"] == 210009


async def test_conf_speaks_musebot_names(muse: Muse, upstream: ScriptedUpstream) -> None:
    for key, value in (("temperature", "0.2"), ("top_p", "0.8"), ("frequency_penalty", "0.5"),
                       ("presence_penalty", "-0.5"), ("max_tokens", "300")):
        assert (await muse.post("/conf/update", json={"type": "llm", "key": key, "value": value}))["code"] == 0
    assert (await muse.post("/conf/update", json={"type": "base", "key": "use_tools", "value": "false"}))["code"] == 0
    assert (await muse.post("/conf/update", json={"type": "photo", "key": "openai_image_model",
                                                  "value": "dall-e-3"}))["code"] == 0
    conf = (await muse.get("/conf/get"))["data"]
    assert conf["llm"]["top_p"] == 0.8 and conf["llm"]["max_tokens"] == 300 and conf["base"]["use_tools"] is False
    assert conf["llm"]["tool_rounds"] == 0 and conf["photo"]["image_model"] == "dall-e-3"
    upstream.push(Reply(text="tuned"))
    await muse.say("hi")
    sent = upstream.last.json
    assert (sent["temperature"], sent["top_p"], sent["max_tokens"]) == (0.2, 0.8, 300)
    assert (sent["frequency_penalty"], sent["presence_penalty"]) == (0.5, -0.5)
    for bad, says in ((("llm", "top_p", "2"), "llm.top_p"), (("llm", "top_p", "high"), "llm.top_p must be a number"),
                      (("base", "use_tools", "maybe"), "base.use_tools must be true or false"),
                      (("base", "lang", "zh"), "base.lang is a MuseBot setting"),
                      (("video", "fps", "24"), "read-only")):
        refused = await muse.post("/conf/update", json=dict(zip(("type", "key", "value"), bad, strict=True)))
        assert refused["code"] == 210009 and says in refused["message"], bad
    for section, fields in (await muse.get("/conf/get"))["data"].items():
        for key in fields:  # every key the console shows saves or is refused as read-only, never unknown
            answer = await muse.post("/conf/update", json={"type": section, "key": key, "value": fields[key]})
            assert "unknown key" not in answer["message"], (section, key)


async def test_every_route_takes_any_method(muse: Muse) -> None:
    auth = muse.auth("admin")
    for method, path in (("GET", "/mcp/sync"), ("PUT", "/conf/get"), ("POST", "/user/list"), ("GET", "/pong"),
                         ("DELETE", "/record/list"), ("PATCH", "/command/get")):
        answer = await muse.client.request(method, path, headers=auth)
        assert answer.status_code == 200 and answer.json()["code"] == 0, (method, path)
    form = await muse.client.post("/user/list", data={"page": "1", "page_size": "1", "user_id": "nobody"},
                                  headers=auth)  # MuseBot reads r.FormValue: a form body counts
    assert form.json()["data"] == {"list": [], "total": 0}


async def test_paging_clamps_like_musebot(muse: Muse, upstream: ScriptedUpstream) -> None:
    upstream.push(*[Reply(text=f"answer {i}") for i in range(3)])
    for i in range(3):
        await muse.say(f"question {i}")
    for query, size in (("page=0&page_size=0", 3), ("page=abc&page_size=-5", 3), ("page=&page_size=2", 2),
                        ("page=1&page_size=100000", 3)):
        page = (await muse.client.get(f"/record/list?{query}", headers=muse.auth("admin"))).json()
        assert page["code"] == 0 and len(page["data"]["list"]) == size and page["data"]["total"] == 3, query


async def test_communicate_without_user_id_uses_one_default_web_user(muse: Muse, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="one"), Reply(text="two"))
    for prompt in ("first", "second"):
        answer = await muse.client.post("/communicate", params={"prompt": prompt}, headers=muse.auth("admin"))
        assert answer.status_code == 200
    records = (await muse.get("/record/list", user_id="0"))["data"]
    assert records["total"] == 2 and {r["user_id"] for r in records["list"]} == {"0"}
    assert len(upstream.last.json["messages"]) >= 3  # the second turn saw the first: one conversation


async def test_web_media_is_listed_as_web_records_too(muse: Muse, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="plain"))
    await muse.say("plain text", user_id="-1")
    await muse.say("/photo a fox", user_id="-1")
    listed = {}
    for types in ("3", "1", "0", "0,1,2,4", "2,4", "-1"):
        data = (await muse.get("/record/list", user_id="-1", record_type=types))["data"]
        listed[types] = sorted(r["question"] for r in data["list"])
    assert listed["3"] == listed["0,1,2,4"] == listed["-1"] == ["/photo a fox", "plain text"]
    assert listed["1"] == ["/photo a fox"] and listed["0"] == ["plain text"] and listed["2,4"] == []


async def test_console_client_and_address_round_trip(muse: Muse) -> None:
    """/command/get carries -bot_name and -http_host (admin/controller/bot.go UpdateBotAddress reads them),
    the address with the key the console used, so a bot saved from it keeps working."""
    key = muse.keys["admin"]
    flags = (await muse.client.get("/command/get", headers=basic("musebot", key))).json()["data"]
    address = flags.split("-http_host=", 1)[1].split()[0]
    assert flags.startswith("-bot_name=Switchboard ") and address.startswith("http://musebot:")
    async with httpx.AsyncClient(base_url=address) as console:  # httpx sends userinfo as Basic, as Go does
        assert (await console.get("/conf/get")).json()["code"] == 0
