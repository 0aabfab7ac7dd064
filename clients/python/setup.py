"""Generates the protobuf messages (build_protos.py) first, so setuptools finds and copies them."""
import os
import subprocess
import sys

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))

subprocess.run([sys.executable, os.path.join(HERE, "build_protos.py"), "--out", os.path.join(HERE, "src")], check=True)
setup()
