"""The compiled step engine (``improviser/inference/_native.c``), the short-term model's
counts (``improviser/music/_ppm.c``) and the JACK MIDI input (``improviser/live/io/_jackin.c``),
built when a C compiler is there; without one the package installs all the same, plays on
NumPy, counts in Python and reads JACK through RtMidi."""

from setuptools import Extension, setup

setup(
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
    ]
)
