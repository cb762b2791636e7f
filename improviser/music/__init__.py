"""Notes and MIDI files, the token encoding, and drawing notes from a distribution."""
