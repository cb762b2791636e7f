"""Write samples/demo/call.mid: six short phrases for ``improviser demo`` (public domain).

Run from the repository root: ``python samples/demo/make_call.py``. Each phrase is four
beats at 120 bpm followed by four beats of rest, so the demo player can split the file
into calls at the rests.
"""

from pathlib import Path

from improviser.music.midi_write import write_midi
from improviser.music.notes import Note

# (pitch, beats) per note; each phrase fills four beats.
PHRASES = [
    [(60, 0.5), (62, 0.5), (64, 0.5), (65, 0.5), (67, 1.0), (64, 1.0)],
    [(65, 0.5), (64, 0.5), (62, 0.5), (60, 0.5), (62, 1.0), (55, 1.0)],
    [(67, 0.5), (69, 0.5), (67, 0.5), (65, 0.5), (64, 0.5), (62, 0.5), (60, 1.0)],
    [(72, 1.0), (71, 0.5), (69, 0.5), (67, 1.0), (65, 1.0)],
    [(64, 0.5), (65, 0.5), (67, 0.5), (72, 0.5), (71, 0.5), (67, 0.5), (69, 1.0)],
    [(67, 0.5), (65, 0.5), (64, 0.5), (62, 0.5), (60, 2.0)],
]


def main() -> None:
    notes = []
    beat = 0.0
    for phrase in PHRASES:
        for pitch, length in phrase:
            held = length * 0.9
            notes.append(
                Note(pitch, 90, beat * 0.5, held * 0.5, 0, 1, start_beats=beat, duration_beats=held)
            )
            beat += length
        beat += 4.0
    write_midi(Path(__file__).with_name("call.mid"), [notes], bpm=120, names=["call"])


if __name__ == "__main__":
    main()
