# Sourced by tests/crossval/run.sh and benches/vs_openfisca.sh: the virtual environment
# with OpenFisca-France (the version the shared reference values come from), created
# from PyPI on first use. Sets VENV.
VENV=tests/crossval/.venv
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "openfisca-france==176.1.8"
fi
