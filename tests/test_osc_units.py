"""The OSC face's parts without a session: arguments, the dispatcher, the transport, the
messages sent, the config.

The dispatcher steers a real engine's :class:`Controls` (on a fake clock); datagrams are
built with python-osc's own builder and handed to the receiver as the socket would.
"""

from __future__ import annotations

import logging
import socket
import time
from typing import Any

import pytest
from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from improviser.cli.osc import osc_config
from improviser.config import Config, with_overrides
from improviser.config.osc import OscConfig, parse_endpoint
from improviser.errors import ConfigError, ControlError
from improviser.live.engine.engine import Improviser
from improviser.telemetry.osc import LogLimit, bind_udp
from improviser.telemetry.osc_controls import OscAddresses, Reply, build_dispatcher, value_of
from improviser.telemetry.osc_out import (
    ChangedOnly,
    OscSender,
    osc_value,
    reply_message,
    status_messages,
)
from improviser.telemetry.osc_receive import OscReceiver, sender_filter
from tests.fakes import FakeClock
from tests.test_live_units import make

ADDR = OscAddresses("studio")
HOME = ("127.0.0.1", 50000)


def dgram(address: str, *args: Any) -> bytes:
    builder = OscMessageBuilder(address=address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram


class Rig:
    """A real engine's controls behind the dispatcher and the receiver."""

    def __init__(self, networks: list[str] | None = None) -> None:
        self.clock = FakeClock()
        self.engine: Improviser = make(self.clock)[0]
        self.replies: list[Reply] = []
        self.gets = 0
        self.strangers: list[tuple[str, int]] = []
        dispatcher = build_dispatcher(
            self.engine.controls,
            ADDR,
            now=self.clock,
            on_reply=self.replies.append,
            on_get=self._get,
        )
        nets = OscConfig(allow=networks or ["127.0.0.0/8"]).networks()
        self.receiver = OscReceiver(
            dispatcher,
            allowed=sender_filter(nets),
            on_refused=self.replies.append,
            on_stranger=self.strangers.append,
        )

    def _get(self) -> None:
        self.gets += 1

    def send(self, data: bytes, sender: tuple[str, int] = HOME) -> Reply | None:
        before = len(self.replies)
        self.receiver.datagram_received(data, sender)
        assert len(self.replies) <= before + 1
        return self.replies[-1] if len(self.replies) > before else None


SCHEMA_NUMBER = {"type": "number", "minimum": 0}
SCHEMA_INT = {"type": "integer"}
SCHEMA_BOOL = {"type": "boolean"}
SCHEMA_RECORD = {"anyOf": [{"enum": ["start", "stop"]}, {"properties": {"action": {}}}]}


@pytest.mark.parametrize(
    ("schema", "args", "value"),
    [
        (SCHEMA_NUMBER, (0.699999988079071,), 0.7),  # a 32-bit float, read back
        (SCHEMA_NUMBER, (2,), 2),
        (SCHEMA_NUMBER, ("0.7",), "0.7"),  # left to the control to refuse
        (SCHEMA_INT, (5.0,), 5),
        (SCHEMA_INT, (5.5,), 5.5),
        (SCHEMA_BOOL, (1.0,), True),
        (SCHEMA_BOOL, (0,), False),
        (SCHEMA_BOOL, (2,), 2),
        (SCHEMA_BOOL, (True,), True),
        (SCHEMA_RECORD, ("start",), "start"),
        (SCHEMA_RECORD, ('{"action": "rotate"}',), {"action": "rotate"}),
        ({"description": "an action"}, (), True),
        ({"description": "an action"}, (1.0, "x"), True),
        (SCHEMA_NUMBER, (None,), None),
    ],
)
def test_osc_arguments_become_the_value_a_control_takes(
    schema: dict[str, Any], args: tuple[object, ...], value: object
) -> None:
    got = value_of("k", args, schema)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "expected one argument, got 0"),
        ((0.5, 0.6), "expected one argument, got 2"),
        ((b"\x00\x01",), "type bytes is not taken"),
        (([1, 2],), "type list is not taken"),
    ],
)
def test_what_osc_cannot_carry_is_refused(args: tuple[object, ...], message: str) -> None:
    with pytest.raises(ControlError, match=message):
        value_of("temperature", args, SCHEMA_NUMBER)
    with pytest.raises(ControlError, match="not JSON"):
        value_of("record", ("{oops",), SCHEMA_RECORD)


def test_every_control_round_trips_through_its_address() -> None:
    rig = Rig()
    engine = rig.engine
    for key, arg, value in [
        ("temperature", 0.6, 0.6), ("top_p", 0.9, 0.9), ("top_k", 5, 5), ("top_k", 7.0, 7),
        ("mode", "follow", "follow"), ("answer_notes", 4, 4), ("phrase_gap", 0.3, 0.3),
        ("key", "D minor", "D minor"), ("mute", True, True), ("mute", 0.0, False),
        ("loop", 1, True), ("loop", False, False),
    ]:  # fmt: skip
        reply = rig.send(dgram(ADDR.set(key), arg))
        assert reply is not None and reply.ok, reply
        assert reply.key == key and reply.value == value and reply.sender == HOME
        assert engine.controls.values()[key] == value
    reply = rig.send(dgram(ADDR.set("panic")))
    assert reply is not None and reply.ok
    assert engine.config.sampling.temperature == pytest.approx(0.6)
    assert rig.send(dgram(ADDR.get)) is None and rig.gets == 1


def test_an_address_pattern_reaches_the_one_control_it_names() -> None:
    rig = Rig()
    reply = rig.send(dgram("/improviser/*/set/temp?rature", 0.5))
    assert reply is not None and reply.ok and reply.key == "temperature"
    assert rig.engine.config.sampling.temperature == 0.5
    many = rig.send(dgram("/improviser/studio/set/*", 1.0))
    assert many is not None and not many.ok and "matches" in many.message
    assert rig.engine.config.sampling.temperature == 0.5
    assert not rig.engine.controls.values()["mute"]


BAD: list[tuple[bytes, str]] = [
    (dgram(ADDR.set("temperature"), "0.7"), "temperature"),
    (dgram(ADDR.set("temperature"), 11.0), "temperature"),
    (dgram(ADDR.set("temperature"), -1), "temperature"),
    (dgram(ADDR.set("temperature")), "expected one argument"),
    (dgram(ADDR.set("temperature"), 0.5, 0.6), "expected one argument"),
    (dgram(ADDR.set("temperature"), b"\x01"), "bytes is not taken"),
    (dgram(ADDR.set("top_k"), 2.5), "top_k"),
    (dgram(ADDR.set("top_k"), 500), "top_k"),
    (dgram(ADDR.set("mode"), "jazz"), "mode"),
    (dgram(ADDR.set("mode"), 1), "mode"),
    (dgram(ADDR.set("mute"), 2), "mute"),
    (dgram(ADDR.set("mute"), "yes"), "mute"),
    (dgram(ADDR.set("key"), "H major"), "key"),
    (dgram(ADDR.set("volume"), 3), "unknown control 'volume'"),
    (dgram("/improviser/studio/tempo", 120), "unknown address"),
    (dgram("/improviser/other/set/temperature", 0.5), "this is /improviser/studio"),
    (dgram("/synth/volume", 1.0), "unknown address"),
    (b"not osc at all", "not an OSC packet"),
    (b"/improviser/studio/set/temperature\x00\x00f\x00\x00\x00", "not an OSC packet"),
    (b"/improviser/studio/set/top_k\x00\x00\x00\x00,i\x00\x00\x00", "not an OSC packet"),
]


@pytest.mark.parametrize(("data", "message"), BAD, ids=range(len(BAD)))
def test_bad_osc_is_refused_with_nothing_changed(data: bytes, message: str) -> None:
    rig = Rig()
    before = (rig.engine.config.model_dump(), rig.engine.controls.values())
    reply = rig.send(data)
    assert reply is not None and not reply.ok and message in reply.message, reply
    assert "\n" not in reply.message
    assert (rig.engine.config.model_dump(), rig.engine.controls.values()) == before


def test_a_bundle_is_read_at_once_whatever_its_time_tag() -> None:
    """python-osc's own server would sleep in the event loop until a future time tag."""
    rig = Rig()
    bundle = OscBundleBuilder(int(time.time()) + 3600)  # an hour from now
    for key, value in (("temperature", 0.4), ("top_p", 0.5)):
        message = OscMessageBuilder(address=ADDR.set(key))
        message.add_arg(value)
        bundle.add_content(message.build())
    rig.receiver.datagram_received(bundle.build().dgram, HOME)
    assert [r.ok for r in rig.replies] == [True, True]
    assert rig.engine.config.sampling.top_p == 0.5


def test_senders_outside_allow_are_dropped_unread() -> None:
    rig = Rig(networks=["192.168.1.0/24"])
    before = rig.engine.config.model_dump()
    assert rig.send(dgram(ADDR.set("temperature"), 0.5), ("10.0.0.7", 4000)) is None
    assert rig.send(dgram(ADDR.set("temperature"), 0.5), HOME) is None
    assert rig.strangers == [("10.0.0.7", 4000), HOME] and rig.receiver.packets == 0
    assert rig.engine.config.model_dump() == before
    reply = rig.send(dgram(ADDR.set("temperature"), 0.5), ("192.168.1.20", 9000))
    assert reply is not None and reply.ok
    allowed = sender_filter(OscConfig(allow=["127.0.0.0/8", "::1/128"]).networks())
    assert allowed("::ffff:127.0.0.1") and allowed("::1") and not allowed("::2")
    assert not allowed("not an address")


def test_status_and_values_go_out_when_they_change() -> None:
    status = {
        "online": True, "state": "listening", "mode": "follow", "bpm": 120.0, "key": None,
        "ports": {"input": {"name": "keys", "state": "open"}},
        "settings": {"temperature": 0.7, "mute": False, "model": {"a": 1}},
    }  # fmt: skip
    messages = dict(status_messages(ADDR, status))
    assert messages["/improviser/studio/status/state"] == ("listening",)
    assert messages["/improviser/studio/status/key"] == (None,)
    assert messages["/improviser/studio/status/ports/input"] == ("open",)
    assert messages["/improviser/studio/set/temperature"] == (0.7,)
    assert messages["/improviser/studio/set/model"] == ('{"a":1}',)
    changed = ChangedOnly()
    assert len(changed(status_messages(ADDR, status))) == len(messages)
    assert changed(status_messages(ADDR, status)) == []
    status["settings"]["mute"] = True  # type: ignore[index]
    assert changed(status_messages(ADDR, status)) == [("/improviser/studio/set/mute", (True,))]
    changed.forget()
    assert len(changed(status_messages(ADDR, status))) == len(messages)
    assert osc_value(2**40) == str(2**40) and osc_value([1, 2]) == "[1,2]"


def test_acks_and_errors_as_messages() -> None:
    ack = reply_message(ADDR, Reply(True, "temperature", 0.5, "temperature = 0.5"))
    assert ack == ("/improviser/studio/ack", ("temperature", 0.5, "temperature = 0.5"))
    error = reply_message(ADDR, Reply(False, "mode", "jazz", "control 'mode': bad"))
    assert error == ("/improviser/studio/error", ("mode", "control 'mode': bad"))


async def test_the_sender_puts_each_message_in_one_datagram() -> None:
    inbox = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    inbox.bind(("127.0.0.1", 0))
    inbox.settimeout(5)
    sender = OscSender("127.0.0.1", inbox.getsockname()[1])
    try:
        sender.send([("/x", (1,))])  # not open yet: dropped
        await sender.open()
        sender.send([("/a", (1, 0.5, "s", True, None)), ("/b", ())])
        first = OscMessage(inbox.recv(65536))
        second = OscMessage(inbox.recv(65536))
    finally:
        sender.close()
        sender.close()
        inbox.close()
    assert (first.address, first.params) == ("/a", [1, 0.5, "s", True, None])
    assert (second.address, second.params) == ("/b", [])
    assert sender.sent == 2


def test_endpoints_and_the_osc_section() -> None:
    assert parse_endpoint("9000", "--osc", default_host="127.0.0.1") == ("127.0.0.1", 9000)
    assert parse_endpoint("0.0.0.0:9001", "--osc", default_host="x") == ("0.0.0.0", 9001)
    assert parse_endpoint("[::1]:9002", "--osc-out") == ("::1", 9002)
    for text in ("9000", "host:", "host:99999", "host:port", ":9000"):
        with pytest.raises(ConfigError, match="--osc-out: expected HOST:PORT"):
            parse_endpoint(text, "--osc-out")
    for key, value in (("allow", ["192.168.1.0/33"]), ("out", "nowhere"), ("instance", "a/b")):
        with pytest.raises(ConfigError, match=rf"config key 'osc\.{key}'"):
            with_overrides(Config(), osc={key: value})


def test_the_command_line_turns_osc_on() -> None:
    assert not osc_config(None, None, None).enabled
    cfg = osc_config(None, "9100", None)
    assert cfg.enabled and (cfg.listen, cfg.port, cfg.out) == ("127.0.0.1", 9100, None)
    cfg = osc_config(None, "0.0.0.0:9101", "127.0.0.1:9102")
    assert (cfg.listen, cfg.port, cfg.out) == ("0.0.0.0", 9101, "127.0.0.1:9102")
    assert osc_config(None, None, "127.0.0.1:9102").enabled
    with pytest.raises(ConfigError, match="--osc-out"):
        osc_config(None, None, "9102")
    with pytest.raises(ConfigError, match="--osc"):
        osc_config(None, "port", None)


def test_a_port_in_use_is_one_line() -> None:
    taken = bind_udp("127.0.0.1", 0)
    try:
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"--osc 127.0.0.1:{port}: cannot listen") as info:
            bind_udp("127.0.0.1", port)
        assert "\n" not in str(info.value)
    finally:
        taken.close()
    with pytest.raises(ConfigError, match="cannot resolve"):
        bind_udp("no-such-host.invalid", 9000)


def test_bad_osc_logs_are_limited_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    limit = LogLimit(per_second=2)
    with caplog.at_level(logging.WARNING, logger="improviser.osc"):
        for i in range(10):
            limit(logging.WARNING, f"line {i}")
    assert [r.getMessage() for r in caplog.records] == ["line 0", "line 1"]
    assert limit.suppressed == 8
