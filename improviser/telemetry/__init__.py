"""The MQTT face of a live session: watch it and steer it over a broker.

:class:`~improviser.telemetry.bridge.MqttBridge` is a session companion (composed by the
CLI, handed to :class:`~improviser.live.session.session.LiveSession`); ``live/`` never imports
this package.
"""
