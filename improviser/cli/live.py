"""The ``live``, ``ports`` and ``demo`` commands; :func:`register` adds them to the main app."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from improviser.cli.aio import run_async
from improviser.cli.mqtt import MqttOpt, bridge_companions, mqtt_config
from improviser.cli.osc import OscOpt, OscOutOpt, osc_companions, osc_config, osc_line
from improviser.cli.report import report
from improviser.cli.service import notify_ready, notify_stopping, watchdog
from improviser.cli.sound import (
    SoundfontOpt,
    SynthFileOpt,
    SynthOpt,
    close_synth,
    on_jack,
    render_beside,
    synth_companions,
    synth_config,
)
from improviser.cli.style import StyleOpt, check_style
from improviser.config import load_config, with_overrides
from improviser.config.live import CONTROL_ACTIONS, LiveConfig
from improviser.config.mqtt import MqttConfig
from improviser.harness.demo import DEMO_CALL, DemoResult, run_demo
from improviser.harness.jackserver import jack_running
from improviser.inference import NumpyEngine, random_weights
from improviser.live.engine.learn import learn_control
from improviser.live.io.ports import api_label, list_ports, resolve_api
from improviser.live.session.session import Companion, LiveSession
from improviser.live.session.stats import percentile

__all__ = ["build_config", "register"]

_err = Console(stderr=True)
_out = report()

ApiOpt = Annotated[str | None, typer.Option("--api", help="MIDI API: auto, jack, alsa...")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="TOML config file.")]
EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="Step engine: numpy (no TensorFlow), native (numpy's step compiled), tf, or auto "
        "(fastest at a start-up probe; TensorFlow's only with --device gpu).",
    ),
]
DeviceOpt = Annotated[
    str | None, typer.Option("--device", help="auto, cpu or gpu (gpu takes TensorFlow).")
]


def build_config(path: Path | None, **overrides: Any) -> LiveConfig:
    """The ``[live]`` section of ``path`` (or the defaults) with the given options set.

    A wrong value is a one-line :class:`ConfigError` naming the key (``live.engine``).
    """
    return with_overrides(load_config(path), live=overrides).live


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )


async def _live(
    config: LiveConfig,
    record: Path | None,
    mqtt: MqttConfig,
    faces: dict[str, Companion] | None = None,
) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    companions: dict[str, Companion] = {
        **bridge_companions(mqtt),
        **(faces or {}),
        "improviser.watchdog": watchdog,
    }
    try:
        async with LiveSession(config, record_path=record, companions=companions) as session:
            where = session.recorder.path if session.recorder is not None else "not recording"
            assert session.input is not None and session.output is not None
            line = (
                f"listening on {session.input.name!r}, answering on "
                f"{session.output.name!r} ({config.mode}); recording: {where}"
            )
            if mqtt.enabled:
                line += f"; mqtt: {mqtt.host}:{mqtt.broker_port} as {mqtt.instance_name!r}"
            line += osc_line(companions)
            _err.print(f"improviser: {line}; Ctrl-C stops", highlight=False)
            notify_ready(line)
            await stop.wait()
            notify_stopping()
        stats = session.stats
        _err.print(
            f"improviser: stopped; {stats.notes_in} notes in, {stats.notes_out} out, "
            f"{stats.phrases} phrases; recording: {where}",
            highlight=False,
        )
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def live(
    in_port: Annotated[
        str | None, typer.Option("--in", help="Input port name (substring).")
    ] = None,
    out_port: Annotated[
        str | None, typer.Option("--out", help="Output port name (substring).")
    ] = None,
    virtual: Annotated[
        bool | None, typer.Option("--virtual", help="Create 'improviser in'/'improviser out'.")
    ] = None,
    api: ApiOpt = None,
    mode: Annotated[
        str | None, typer.Option("--mode", help="call-response, follow or accompany.")
    ] = None,
    model: Annotated[Path | None, typer.Option("--model", help="Model (.keras + .npz).")] = None,
    harmony_model: Annotated[
        Path | None,
        typer.Option("--harmony-model", help="Harmony model (.keras + .npz) for the voices."),
    ] = None,
    style: StyleOpt = None,
    voices: Annotated[
        int | None,
        typer.Option("--voices", help="accompany: 1 = bass, 2 = bass and alto, 3 = all three."),
    ] = None,
    answer_voices: Annotated[
        int | None,
        typer.Option("--answer-voices", help="Voices of an answer: 0 = as the call, 1-4."),
    ] = None,
    record: Annotated[Path | None, typer.Option("--record", help="Recording file (.mid).")] = None,
    no_record: Annotated[bool, typer.Option("--no-record", help="Do not record.")] = False,
    bpm: Annotated[float | None, typer.Option("--bpm", help="Fixed tempo (else follow).")] = None,
    sync: Annotated[
        str | None, typer.Option("--sync", help="Tempo and beat from: clock, player or fixed.")
    ] = None,
    clock_port: Annotated[
        str | None, typer.Option("--clock-port", help="Read the MIDI clock from this port.")
    ] = None,
    clock_out: Annotated[
        bool | None, typer.Option("--clock-out", help="Send MIDI clock on the output.")
    ] = None,
    answer_start: Annotated[
        str | None, typer.Option("--answer-start", help="First answer note: now, beat or bar.")
    ] = None,
    key: Annotated[
        str | None,
        typer.Option("--key", help='Key the answers keep to: auto, off, or e.g. "D minor".'),
    ] = None,
    rhythm_strength: Annotated[
        float | None,
        typer.Option(
            "--rhythm-strength",
            help="How strongly answers follow the call's note values (0: the model's own).",
        ),
    ] = None,
    chord_lean: Annotated[
        float | None,
        typer.Option(
            "--chord-lean",
            help="Strong-beat answer notes: the call's chord tones this many times likelier "
            "(1: off).",
        ),
    ] = None,
    channel: Annotated[
        int | None, typer.Option("--channel", help="Listen to this channel only (1-16).")
    ] = None,
    out_channel: Annotated[
        int | None, typer.Option("--out-channel", help="Answer on this channel (1-16).")
    ] = None,
    thru: Annotated[bool | None, typer.Option("--thru", help="Echo the player's notes.")] = None,
    engine: EngineOpt = None,
    device: DeviceOpt = None,
    learn: Annotated[
        str | None,
        typer.Option(
            "--learn", help=f"Bind the next CC moved to one of {', '.join(CONTROL_ACTIONS)}."
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Sampler seed.")] = None,
    mqtt: MqttOpt = None,
    mqtt_instance: Annotated[
        str | None,
        typer.Option("--mqtt-instance", help="Name in the MQTT topics (default: host name)."),
    ] = None,
    mqtt_notes: Annotated[
        bool | None, typer.Option("--mqtt-notes", help="Publish every note on MQTT.")
    ] = None,
    osc: OscOpt = None,
    osc_out: OscOutOpt = None,
    synth: SynthOpt = None,
    synth_file: SynthFileOpt = None,
    soundfont: SoundfontOpt = None,
    config: ConfigOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Listen on a MIDI input and answer on a MIDI output; record the session."""
    check_style(style)
    mqtt_cfg = mqtt_config(config, mqtt, instance=mqtt_instance, notes=mqtt_notes)
    osc_cfg = osc_config(config, osc, osc_out)
    synth_cfg = synth_config(config, synth, synth_file, soundfont)
    cfg = build_config(
        config,
        in_port=in_port,
        out_port=out_port,
        virtual=virtual,
        api=api,
        mode=mode,
        model=model,
        harmony_model=harmony_model,
        style=style,
        accompany_voices=voices,
        answer_voices=answer_voices,
        engine=engine,
        device=device,
        record=False if no_record else None,
        bpm=bpm,
        sync=sync,
        clock_port=clock_port,
        clock_out=clock_out,
        answer_start=answer_start,
        key=key,
        rhythm_strength=rhythm_strength,
        chord_lean=chord_lean,
        in_channel=channel,
        out_channel=out_channel,
        thru=thru,
        **{"sampling.seed": seed},
    )
    named = {"model": model, "harmony_model": harmony_model}  # a model named wins over a style
    cfg = cfg.model_copy(update={k: v for k, v in named.items() if v is not None})
    _setup_logging(verbose)
    if learn is not None:
        _err.print(f"improviser: move the control for {learn!r} now...", highlight=False)
        number = run_async(learn_control(cfg, learn))
        _err.print(
            f"improviser: {learn} bound to CC {number}; to keep it, put "
            f"'cc_{learn} = {number}' in the [live] section of your config",
            highlight=False,
        )
        cfg = cfg.model_copy(update={f"cc_{learn}": number})
        cfg = LiveConfig.model_validate(cfg.model_dump())
    faces = {
        **osc_companions(osc_cfg, mqtt_cfg),
        **synth_companions(synth_cfg, jack_session=on_jack(cfg.api)),
    }
    try:
        run_async(_live(cfg, record, mqtt_cfg, faces))
    finally:
        close_synth(faces)


def ports(
    api: ApiOpt = None,
    config: ConfigOpt = None,
) -> None:
    """List the MIDI input and output ports."""
    cfg = build_config(config, api=api)
    chosen = resolve_api(cfg.api)
    lists = list_ports(chosen)
    table = Table(title=f"MIDI ports ({api_label(chosen)})")
    table.add_column("direction")
    table.add_column("#", justify="right")
    table.add_column("name")
    for direction, names in (("input", lists.inputs), ("output", lists.outputs)):
        if not names:
            table.add_row(direction, "", "(none)")
        for index, name in enumerate(names):
            table.add_row(direction, str(index), name)
    _out.print(table)


def _fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.1f} ms"


def summary_table(result: DemoResult) -> Table:
    """The demo's summary as a table."""
    table = Table(title="improviser demo")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("MIDI API", result.api + (" (private server)" if result.started_jack else "")),
        ("engine", result.engine or "-"),
        ("notes in", str(result.notes_in)),
        ("notes out", str(result.notes_out)),
        ("phrases", str(result.phrases)),
        ("answers", str(result.answers)),
        (
            "response p50 (phrase end -> first note sent)",
            _fmt_ms(percentile(result.response_engine, 50)),
        ),
        (
            "response p99 (phrase end -> first note sent)",
            _fmt_ms(percentile(result.response_engine, 99)),
        ),
        ("response p50 (heard at the synth)", _fmt_ms(percentile(result.response_heard, 50))),
        ("response p99 (heard at the synth)", _fmt_ms(percentile(result.response_heard, 99))),
        ("stuck notes found", str(result.stuck_notes)),
        (
            "recorded notes (player / improviser)",
            " / ".join(str(v) for v in result.recorded.values()),
        ),
        ("recording", str(result.record_path)),
        ("duration", f"{result.seconds:.1f} s"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def demo(
    record: Annotated[Path | None, typer.Option("--record", help="Recording file (.mid).")] = None,
    call: Annotated[Path, typer.Option("--call", help="The melody the player plays.")] = DEMO_CALL,
    api: ApiOpt = None,
    model: Annotated[Path | None, typer.Option("--model", help="Model (.keras + .npz).")] = None,
    untrained: Annotated[
        bool, typer.Option("--untrained", help="Answer with random weights (no model needed).")
    ] = False,
    phrases: Annotated[int | None, typer.Option("--phrases", help="Play only this many.")] = None,
    engine: EngineOpt = None,
    device: DeviceOpt = None,
    synth: SynthOpt = None,
    synth_file: SynthFileOpt = None,
    soundfont: SoundfontOpt = None,
    wav: Annotated[
        bool, typer.Option("--wav/--no-wav", help="Leave a .wav of the session beside its .mid.")
    ] = True,
    config: ConfigOpt = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the summary as JSON here.")
    ] = None,
) -> None:
    """Play a melody into the improviser through virtual ports and report how it answered."""
    cfg = build_config(config, api=api, model=model, engine=engine, device=device)
    synth_cfg = synth_config(config, synth, synth_file, soundfont)
    step_model = NumpyEngine(random_weights()) if untrained else None
    # The demo's own JACK server (started when none runs) is nobody's sound card: the
    # synth plays through JACK only where a server of the user's runs.
    companions = synth_companions(synth_cfg, jack_session=jack_running())
    try:
        demo_run = run_demo(
            cfg,
            call=call,
            record=record,
            model=step_model,
            max_phrases=phrases,
            companions=companions,
        )
        result = run_async(demo_run)
    finally:
        close_synth(companions)
    _out.print(summary_table(result))
    if json_out is not None:
        json_out.write_text(json.dumps(result.summary(), indent=2) + "\n", encoding="utf-8")
    if wav:
        render_beside(result.record_path, synth_cfg)


def register(app: typer.Typer) -> None:
    """Add ``live``, ``ports`` and ``demo`` to ``app``."""
    app.command("live")(live)
    app.command("ports")(ports)
    app.command("demo")(demo)
