"""The web consoles' shell: sign-in with an API token, session cookie, CSRF, layout and navigation."""

from noc.core.capability import Capability

CAPABILITY = Capability.of(
    __name__,
    "The consoles' shell at /console/: sign-in with an API token (HttpOnly session cookie), CSRF-protected forms, "
    "one layout and navigation that other capabilities' console pages join.",
    "pages",
)
