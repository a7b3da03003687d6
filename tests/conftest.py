import sys
from pathlib import Path

# Make the helper modules in this folder importable (pytest runs in importlib mode).
sys.path.insert(0, str(Path(__file__).parent))
