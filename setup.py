"""Packaging shim: all metadata lives in pyproject.toml (package data included)."""

from setuptools import setup

setup()
