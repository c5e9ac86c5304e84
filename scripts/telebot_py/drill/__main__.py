"""python3 -m telebot_py.drill (from scripts/, with the environment scripts/drill prepares)."""
import sys

from .main import run

sys.exit(run())
