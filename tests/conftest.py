import os

from hypothesis import settings

# Derandomized in CI, so a red run is reproduced by running it again.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
