from switchboard.platforms.onebot11.events import MessageEvent, MetaEvent, parse_frame, to_incoming
from switchboard.platforms.onebot11.segments import as_segments, parse_cq, read


def test_cq_codes_and_escaped_text() -> None:
    message = "[CQ:reply,id=7][CQ:at,qq=10000] a &#91;b&#93; &amp;#91; [CQ:image,file=x.png,url=http://h/a&#44;b]"
    assert parse_cq(message) == [
        {"type": "reply", "data": {"id": "7"}},
        {"type": "at", "data": {"qq": "10000"}},
        {"type": "text", "data": {"text": " a [b] &#91; "}},
        {"type": "image", "data": {"file": "x.png", "url": "http://h/a,b"}},
    ]
    assert parse_cq("[CQ:shake]") == [{"type": "shake", "data": {}}]
    assert parse_cq("no codes [CQ:broken") == [{"type": "text", "data": {"text": "no codes [CQ:broken"}}]


def test_either_form_reads_the_same() -> None:
    array = [{"type": "at", "data": {"qq": 10000}}, {"type": "text", "data": {"text": " hi "}},
             {"type": "image", "data": {"file": "a.jpg", "url": "https://q/a.jpg"}}]
    from_array, from_string = read(as_segments(array)), read(as_segments("[CQ:at,qq=10000] hi [CQ:image,file=a.jpg,url=https://q/a.jpg]"))
    assert from_array == from_string
    assert from_array.text == "hi" and from_array.mentions == ["10000"] and from_array.images == ["https://q/a.jpg"]


def test_junk_segments_are_dropped() -> None:
    assert as_segments(42) == [] and as_segments(None) == []
    assert as_segments([1, "x", {"type": 3}, {"type": "text", "data": "no"}, {"type": "face"}]) == [{"type": "face"}]
    assert read([{"type": "image", "data": {"file": "local-name.jpg"}}]).images == []  # nowhere to fetch it


def test_frames() -> None:
    assert parse_frame("{") is None and parse_frame("[]") is None
    assert parse_frame('{"post_type": "notice", "self_id": 1}') is None
    meta = parse_frame('{"post_type": "meta_event", "meta_event_type": "heartbeat", "self_id": 1, '
                       '"status": {"online": false}}')
    assert isinstance(meta, MetaEvent) and meta.online is False and meta.self_id == "1"
    lifecycle = parse_frame('{"post_type": "meta_event", "meta_event_type": "lifecycle", "self_id": 1, '
                            '"sub_type": "connect"}')
    assert isinstance(lifecycle, MetaEvent) and lifecycle.online is True


def test_an_event_as_the_shared_code_sees_it() -> None:
    event = parse_frame('{"post_type": "message", "message_type": "group", "self_id": 10000, "user_id": 5, '
                        '"group_id": 9, "message_id": 77, "message": "[CQ:reply,id=3]thanks", '
                        '"sender": {"nickname": "Bo", "card": "Bob"}}')
    assert isinstance(event, MessageEvent)
    incoming = to_incoming(event, "qq", lambda message_id: message_id == "3")
    assert incoming is not None
    assert (incoming.chat, incoming.chat_id, incoming.sender_id, incoming.sender_name) == ("group", "9", "5", "Bob")
    assert incoming.replies_to_bot and not incoming.mentions_bot and incoming.text == "thanks"
    assert incoming.message_id == "77"
