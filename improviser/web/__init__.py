"""The studio page: every instance on the broker, live, in a browser; steer it from there.

``improviser web`` serves it (:func:`serve`); :func:`create_app` is the ASGI app itself
(Starlette), for tests and for other servers. It reads the broker as ``improviser watch``
does and changes a session only through MQTT ``set/<key>``, which the session applies
with its one control entry point.
"""

from improviser.web.app import WebSettings, create_app
from improviser.web.serve import serve, settings_of

__all__ = ["WebSettings", "create_app", "serve", "settings_of"]
