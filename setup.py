"""The compiled step engine (``improviser/inference/_native.c``), the short-term model's
counts (``improviser/music/_ppm.c``) and the JACK MIDI input (``improviser/live/io/_jackin.c``),
built when a C compiler is there; without one the package installs all the same, plays on
NumPy, counts in Python and reads JACK through RtMidi.

A built package also carries the files it plays with from the repository's ``samples/``
and ``config/`` (:data:`BUNDLED`), in ``improviser/_bundled/`` (``improviser.paths`` finds
them there), so an installed wheel runs ``improviser demo`` and ``live`` on its own."""

from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

BUNDLED = (
    "config/default.toml",
    "samples/demo/call.mid",
    "samples/model/improviser.json",
    "samples/model/improviser.npz",
    "samples/model/harmony.json",
    "samples/model/harmony.npz",
    "samples/model/chorale.json",
    "samples/model/chorale.npz",
)
"""What an installed package needs of the repository (the models without their .keras:
the live engines read the .npz; the TF engine and training need the source tree)."""


class BuildWithBundled(build_py):
    """``build_py``, then the :data:`BUNDLED` files copied into ``improviser/_bundled``."""

    def run(self) -> None:
        super().run()
        for name in BUNDLED:
            source = Path(name)
            if source.is_file():
                target = Path(self.build_lib, "improviser", "_bundled", name)
                self.mkpath(str(target.parent))
                self.copy_file(str(source), str(target))


setup(
    cmdclass={"build_py": BuildWithBundled},
    ext_modules=[
        Extension(
            "improviser.inference._native",
            sources=["improviser/inference/_native.c"],
            extra_compile_args=["-O3", "-std=c99"],
            libraries=["m"],
            optional=True,
        ),
        Extension(
            "improviser.music._ppm",
            sources=["improviser/music/_ppm.c"],
            extra_compile_args=["-O2", "-std=c99"],
            optional=True,
        ),
        Extension(
            "improviser.live.io._jackin",
            sources=["improviser/live/io/_jackin.c"],
            extra_compile_args=["-O2", "-std=c11"],
            libraries=["dl"],
            optional=True,
        ),
    ],
)
