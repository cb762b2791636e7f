"""The session and its recording: one ``async with`` object owning every lifetime, its
background chores, its counters, and the crash-safe recording of both parts."""
