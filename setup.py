"""The compiled step engine (``improviser/inference/_native.c``), built when a C compiler
is there; without one the package installs all the same and plays on NumPy."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "improviser.inference._native",
            sources=["improviser/inference/_native.c"],
            extra_compile_args=["-O3", "-std=c99"],
            libraries=["m"],
            optional=True,
        )
    ]
)
