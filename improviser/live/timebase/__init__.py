"""Time: the output scheduler (timed notes, the no-stuck-note promise), MIDI clock in and
out, and where the answers' tempo, beat and start come from."""
