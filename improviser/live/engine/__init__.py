"""The engine and its modes: hearing the player, the model's context, every control, and
the answer modes (``modes/``) that decide what the improviser plays."""
