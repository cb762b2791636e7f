"""Ports and servers: MIDI messages parsed, APIs and their ports, the JACK input, the
input hand-off to the loop, the echo guard, and watching ports and the JACK server."""
