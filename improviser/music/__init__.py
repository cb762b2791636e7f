"""Notes and MIDI files, the token encoding, drawing notes from a distribution, and the
short-term model of the piece being heard (with the blend that joins it to the LSTM)."""
