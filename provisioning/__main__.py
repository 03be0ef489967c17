"""`python -m provisioning` is `kiosk-provision`."""

import sys

from .cli import main

sys.exit(main())
