"""The live side, in layers (each imports only those before it):

- ``io/``: MIDI ports and servers;
- ``events``: the typed events and the bus every part speaks through;
- ``timebase/``: the output scheduler, MIDI clock, tempo and answer timing;
- ``engine/``: the engine, its controls and its answer modes (``engine/modes/``);
- ``session/``: the session that owns every lifetime, and its recording.
"""
