"""pin_check DIST SPEC: exit 0 when the installed DIST satisfies SPEC. Only an exact pin (DIST==X) is checked; any
other requirement accepts what is installed (scripts/fuzz, with its venv's python)."""
import sys
from importlib.metadata import version


def main(argv):
    dist, spec = argv[1], argv[2]
    return 0 if "==" not in spec or version(dist) == spec.split("==", 1)[1] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
