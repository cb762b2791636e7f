"""The live side: MIDI ports, the asyncio engine, the note scheduler and the recorder."""
