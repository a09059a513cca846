"""`bench.profile --layers`: py-spy's frames summed by the layer their file belongs to."""

from __future__ import annotations

from bench.profile import layer, layers


def test_a_frame_s_layer_is_its_package_or_switchboard_subpackage() -> None:
    assert layer("_request (aiohttp/client.py:558)") == "aiohttp"
    assert layer("_request (/srv/.venv/lib/python3.11/site-packages/aiohttp/client.py:558)") == "aiohttp"
    assert layer("run (/srv/src/switchboard/adapters/storage/steps.py:30)") == "switchboard/adapters/storage"
    assert layer("handle (switchboard/faces/native/routes_chat.py:9)") == "switchboard/faces/native"
    assert layer("run (asyncio/runners.py:118)") == "asyncio"
    assert layer("run (/usr/lib/python3.11/asyncio/runners.py:118)") == "asyncio"
    assert layer("partial (/usr/lib/python3.11/functools.py:1)") == "functools"


def test_self_time_is_summed_by_the_innermost_frame_s_layer() -> None:
    stacks = [(["run (asyncio/runners.py:1)", "_request (aiohttp/client.py:2)"], 3),
              (["run (asyncio/runners.py:1)", "send (switchboard/app/asgi.py:3)", "x (aiohttp/client.py:4)"], 2),
              (["run (asyncio/runners.py:1)"], 1)]
    assert layers(stacks) == {"aiohttp": 5, "asyncio": 1}
