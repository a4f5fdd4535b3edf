"""The shared kernel: what every capability may import (database, settings, errors, HTTP plumbing, events,
the capability interface). It imports no capability."""
